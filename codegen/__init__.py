"""Spec → pydantic models (datamodel-code-generator) + httpx client (jinja2), in three stages.

1. ``load_spec`` / ``validate`` / ``normalise`` (findings as data, fail closed),
2. ``build_ir`` (frozen dataclasses),
3. ``build_tree`` (render, format, compile) → ``write_tree`` (import-checked) or ``diff_tree`` (drift).
"""

from __future__ import annotations

from ._examples import check_examples
from ._findings import Finding, SpecError, has_errors
from ._generate import GeneratedTree, build_tree, diff_tree, import_check, package_name, prepare, write_tree
from ._ir import ApiIR, Batch, Conflict, Operation, Pagination, Param, Response, build_ir
from ._load import LoadedSpec, SpecLoadError, load_spec, parse_spec, validate
from ._normalize import REWRITES, normalise
from ._version import GENERATOR_VERSION

__all__ = [
    "GENERATOR_VERSION",
    "REWRITES",
    "ApiIR",
    "Batch",
    "Conflict",
    "Finding",
    "GeneratedTree",
    "LoadedSpec",
    "Operation",
    "Pagination",
    "Param",
    "Response",
    "SpecError",
    "SpecLoadError",
    "build_ir",
    "build_tree",
    "check_examples",
    "diff_tree",
    "has_errors",
    "import_check",
    "load_spec",
    "normalise",
    "package_name",
    "parse_spec",
    "prepare",
    "validate",
    "write_tree",
]
