"""Stage 3a: pydantic v2 models through datamodel-code-generator's Python API.

Flags follow STYLE.md, with two deliberate differences:
* no ``--use-missing-sentinel``: the client serialises with ``exclude_unset=True``, which already keeps
  "absent" apart from ``null``; the sentinel would add pydantic's experimental ``MISSING`` to every optional
  field's type, which callers (and mypy) would have to handle.
* no ``--openapi-scopes paths``: the normaliser hoists every inline operation schema into
  ``components/schemas`` under a known name, so the ``schemas`` scope covers everything and the client
  templates know each class name in advance (dmcg's own path-derived names are not predictable).
Added: ``--use-schema-description`` (a schema's description is its class docstring) and
``--deserialize-default-values enum`` (an enum field's default is the member, not the raw value mypy
rejects). ``--naming-strategy full-path`` is kept: nested inline objects get their parent's name as a prefix
(``ItemPriceCurrency``) instead of numbered duplicates (``Status1``).
Formatting is done by ``_format.ruff_format`` (isolated ruff config) rather than dmcg's formatter list.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any

import datamodel_code_generator as dmcg
from datamodel_code_generator import enums
from datamodel_code_generator.format import PythonVersion

from ._format import ruff_format

__all__ = ["DMCG_OPTIONS", "class_names", "document_id_carriers", "render_models"]

DMCG_OPTIONS: dict[str, Any] = {
    "input_file_type": enums.InputFileType.OpenAPI,
    "output_model_type": enums.DataModelType.PydanticV2BaseModel,
    "target_python_version": PythonVersion.PY_311,
    "openapi_scopes": [enums.OpenAPIScope.Schemas],
    "use_annotated": True,
    "field_constraints": True,
    "use_standard_collections": True,
    "use_union_operator": True,
    "naming_strategy": enums.NamingStrategy.FullPath,
    "strict_types": [
        enums.StrictTypes.str,
        enums.StrictTypes.int,
        enums.StrictTypes.float,
        enums.StrictTypes.bool,
    ],
    "disable_timestamp": True,
    "use_schema_description": True,  # a schema's description is its class docstring
    # an enum-typed field's default becomes the member (`Kind.parcel`), not the raw value mypy rejects
    "deserialize_default_values": [enums.DefaultValueType.Enum],
    "formatters": [],
}


def document_id_carriers(document: dict[str, Any], carriers: dict[str, tuple[tuple[str, str], ...]]) -> None:
    """Add to each model's description which client methods take its ids as they are (in place)."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    for model, pairs in sorted(carriers.items()):
        schema = schemas.get(model)
        if not isinstance(schema, dict):
            continue
        notes = []
        for member in sorted({m for m, _ in pairs}):
            methods = ", ".join(f"``{method}``" for m, method in pairs if m == member)
            notes.append(f"Its ``{member}`` can be passed as it is to {methods}.")
        text = str(schema.get("description") or "").strip()
        schema["description"] = "\n\n".join(t for t in (text, " ".join(notes)) if t)


def render_models(document: dict[str, Any], header: str, *, format_source: bool = True) -> str:
    """Models source for a normalised spec (a plain dict: no file paths reach the output)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "format of 'int32' not understood" etc.: falls back to the type
        body = dmcg.generate(document, custom_file_header=header, **DMCG_OPTIONS)
    if not isinstance(body, str):
        raise TypeError(f"datamodel-code-generator returned {type(body).__name__}, expected one module")
    return ruff_format(body, "models.py") if format_source else body


def class_names(source: str) -> frozenset[str]:
    """Top-level classes defined by a models module."""
    tree = ast.parse(source)
    return frozenset(node.name for node in tree.body if isinstance(node, ast.ClassDef))
