"""Spec → pydantic models (datamodel-code-generator) + httpx client (jinja2), in three stages.

1. ``load_spec`` / ``validate`` / ``normalise`` (findings as data, fail closed),
2. ``build_ir`` (frozen dataclasses),
3. ``build_tree`` (render, format, compile, import check) → ``write_tree`` or ``diff_tree`` (drift).

Names are imported lazily (PEP 562), so ``orders-contract`` commands of other areas do not pay for
datamodel-code-generator, jinja2 and the spec validator at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._examples import check_examples
    from ._findings import Finding, SpecError, has_errors
    from ._generate import (
        GeneratedTree,
        build_tree,
        client_name,
        contract_of,
        diff_tree,
        import_check,
        package_name,
        prepare,
        spec_digest,
        write_tree,
    )
    from ._ir import ApiIR, Batch, Conflict, Operation, Pagination, Param, Response, build_ir
    from ._load import LoadedSpec, SpecLoadError, load_spec, parse_spec, validate
    from ._normalize import REWRITES, normalise
    from ._version import GENERATOR_VERSION

_WHERE = {
    "check_examples": "_examples",
    **dict.fromkeys(("Finding", "SpecError", "has_errors"), "_findings"),
    **dict.fromkeys(
        (
            "GeneratedTree",
            "build_tree",
            "client_name",
            "contract_of",
            "diff_tree",
            "import_check",
            "package_name",
            "prepare",
            "spec_digest",
            "write_tree",
        ),
        "_generate",
    ),
    **dict.fromkeys(
        ("ApiIR", "Batch", "Conflict", "Operation", "Pagination", "Param", "Response", "build_ir"), "_ir"
    ),
    **dict.fromkeys(("LoadedSpec", "SpecLoadError", "load_spec", "parse_spec", "validate"), "_load"),
    **dict.fromkeys(("REWRITES", "normalise"), "_normalize"),
    "GENERATOR_VERSION": "_version",
}

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
    "client_name",
    "contract_of",
    "diff_tree",
    "has_errors",
    "import_check",
    "load_spec",
    "normalise",
    "package_name",
    "parse_spec",
    "prepare",
    "spec_digest",
    "validate",
    "write_tree",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
