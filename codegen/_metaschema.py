"""The OAS 3.1 dialect's meta-schema check of one schema, by jsonschema_rs, without importing the
Python validators (openapi-schema-validator takes ~0.18 s to import).

openapi-spec-validator checks each top-level schema of a 3.1 spec against the dialect's meta-schema with
the pure-Python ``jsonschema`` (openapi-schema-validator's ``check_schema``). ``meta_schema_accepts`` runs
the same check with jsonschema_rs, from openapi-schema-validator's own meta-schema files: the same
dialect and vocabulary resources (the JSON Schema 2020-12 meta-schemas are built into jsonschema_rs), the
same format checks (``regex``: the pattern must compile with Python's ``re``, as there unless
``regress`` is installed; ``uri``-like formats are not checked there, so not here). It is used only to
skip the Python check: True means "the Python check accepts it too", False "ask the Python check".
``tests/codegen/test_codegen_validate.py`` compares the two on hand-picked and generated schemas.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

__all__ = ["OAS31_DIALECT", "meta_schema_accepts", "package_folder"]

OAS31_DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"
_UNCHECKED_FORMATS = ("uri", "uri-reference", "iri", "iri-reference")


def _regex(pattern: Any) -> bool:
    """At least as strict as openapi-schema-validator's regex format check: Python's ``re`` decides
    there unless ``regress`` (ECMA-262 regular expressions) is installed; then we are never sure."""
    if not isinstance(pattern, str):
        return True
    if _has_regress():
        return False
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


@cache
def _has_regress() -> bool:
    return importlib.util.find_spec("regress") is not None


def package_folder(name: str) -> Path:
    """The folder of an installed package, found without importing it (ModuleNotFoundError if absent)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{name} is not installed")
    return Path(spec.submodule_search_locations[0])


@cache
def _meta_validator() -> Any:
    folder = package_folder("openapi_schema_validator") / "schemas" / "oas3.1"
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    resources = [json.loads(p.read_text(encoding="utf-8")) for p in files]  # as openapi-schema-validator
    by_id = {r["$id"]: r for r in resources}
    formats = {"regex": _regex, **dict.fromkeys(_UNCHECKED_FORMATS, lambda _value: True)}
    return jsonschema_rs.validator_for(
        by_id[OAS31_DIALECT],
        registry=jsonschema_rs.Registry(list(by_id.items())),
        validate_formats=True,
        formats=formats,
    )


def meta_schema_accepts(schema: Any) -> bool:
    """True when jsonschema_rs finds ``schema`` valid under the OAS 3.1 base dialect (False: ask Python)."""
    try:
        return bool(_meta_validator().is_valid(schema))
    except Exception:  # a value jsonschema_rs cannot take (non-string key, inf, ...): not sure
        return False
