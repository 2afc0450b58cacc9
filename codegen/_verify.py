"""A quick proof that openapi-spec-validator finds nothing in an OpenAPI 3.1 spec, without importing it.

Importing openapi-spec-validator (with openapi-schema-validator, jsonschema-path, requests and
pydantic-settings) takes ~0.2 s, more than all it then checks on our specs. ``proves_valid`` makes the
same checks (those of ``openapi_spec_validator.validation`` 0.8, pinned in pyproject) and answers True
only when it is sure every one passes; on anything else it answers False and the caller runs
openapi-spec-validator itself, so what is reported, and how it is worded, does not change. It may say
False for a valid spec (only slower), never True for one openapi-spec-validator finds fault with; where
mirroring it exactly would be subtle it is stricter. ``tests/codegen/test_codegen_validate.py`` checks
that on our specs and on many broken variants of them. The checks:

1. the document against openapi-spec-validator's own OpenAPI 3.1 schema file, with the jsonschema_rs
   validator it builds for it;
2. tag names unique; non-null operationIds unique; path parameters: those in the path template are the
   ones declared ``in: path`` (operation and path item); (name, in) unique in each parameter list;
3. every schema it walks (components/schemas, parameters, response media types, and what they lead to
   through ``$ref``, ``allOf``/``anyOf``/``oneOf``/``not``/``items``/``properties``): an object or a
   boolean; the top-level ones valid under the OAS 3.1 dialect (``meta_schema_accepts``); names in
   ``required`` defined when ``allOf`` is used; a ``default`` valid for a schema of simple keywords only.
"""

from __future__ import annotations

import json
import os
import string
from functools import cache
from typing import Any

import jsonschema_rs

from ._load import resolve_ref
from ._metaschema import OAS31_DIALECT, meta_schema_accepts, package_folder

__all__ = ["proves_valid"]

_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_COMBINATIONS = ("allOf", "anyOf", "oneOf")
# keywords whose meaning for a `default` is plainly the same in jsonschema_rs and the Python validator
# (not multipleOf: float arithmetic; not uniqueItems: equality of 1 and 1.0)
_SIMPLE = frozenset(
    {
        "type", "default", "description", "title", "deprecated", "readOnly", "writeOnly", "example",
        "examples", "nullable", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "enum",
        "const",
    }
)  # fmt: skip


class _NotSure(Exception):
    pass


@cache
def _document_validator() -> Any:
    path = package_folder("openapi_spec_validator") / "resources" / "schemas" / "v3.1" / "schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema_rs.validator_cls_for(schema)(schema)  # as openapi-spec-validator builds it


def proves_valid(document: dict[str, Any]) -> bool:
    """True only if openapi-spec-validator would report nothing for this 3.1 document (see above)."""
    backend = os.environ.get("OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND", "auto").strip().lower()
    if backend not in ("auto", "jsonschema-rs") or not str(document.get("openapi", "")).startswith("3.1"):
        return False
    if document.get("jsonSchemaDialect", OAS31_DIALECT) != OAS31_DIALECT:
        return False
    try:
        if not _document_validator().is_valid(document):
            return False
        _Walk(document).root()
    except Exception:  # _NotSure, or anything unexpected: let openapi-spec-validator answer
        return False
    return True


class _Walk:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.visited: set[int] = set()
        self.operation_ids: set[Any] = set()

    def deref(self, node: Any) -> Any:
        """What openapi-spec-validator's SchemaPath sees: the target of a `$ref` (siblings ignored)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            seen += 1
            if not isinstance(ref, str) or seen > 50:
                raise _NotSure
            node = resolve_ref(self.document, ref)
        return node

    def mapping(self, node: Any) -> dict[Any, Any]:
        value = self.deref(node)
        if not isinstance(value, dict):
            raise _NotSure
        return value

    def root(self) -> None:
        tags = self.deref(self.document.get("tags", []))
        names = [self.mapping(tag).get("name") for tag in tags]
        if len(names) != len(set(names)):
            raise _NotSure
        for url, item in self.mapping(self.document.get("paths", {})).items():
            self.path_item(url, self.mapping(item))
        components = self.mapping(self.document.get("components", {}))
        for schema in self.mapping(components.get("schemas", {})).values():
            self.schema(schema, top=True)

    def path_item(self, url: str, item: dict[Any, Any]) -> None:
        shared = item.get("parameters")
        if shared is not None:
            self.parameters(shared)
        template = {field for _, field, _, _ in string.Formatter().parse(url) if field}
        for name, operation in item.items():
            if name not in _OPERATIONS:
                continue
            operation = self.mapping(operation)
            if "operationId" in operation:
                operation_id = operation["operationId"]
                if operation_id is not None and operation_id in self.operation_ids:
                    raise _NotSure
                self.operation_ids.add(operation_id)
            for response in self.mapping(operation.get("responses", {})).values():
                for media in self.mapping(self.mapping(response).get("content", {})).values():
                    media = self.mapping(media)
                    if "schema" in media:
                        self.schema(media["schema"], top=True)
            declared = self.path_names(shared) if shared is not None else set()
            if "parameters" in operation:
                self.parameters(operation["parameters"])
                declared |= self.path_names(operation["parameters"])
            if declared != template:
                raise _NotSure

    def path_names(self, parameters: Any) -> set[str]:
        found = (self.mapping(p) for p in self.deref(parameters))
        return {p["name"] for p in found if p.get("in") == "path"}

    def parameters(self, parameters: Any) -> None:
        listed = self.deref(parameters)
        if not isinstance(listed, list):
            raise _NotSure
        keys = []
        for parameter in map(self.mapping, listed):
            if "schema" in parameter:
                self.schema(parameter["schema"], top=True)
            keys.append((parameter["name"], parameter["in"]))
        if len(keys) != len(set(keys)):
            raise _NotSure

    def schema(self, node: Any, *, top: bool = False) -> None:
        value = self.deref(node)
        if not isinstance(value, (dict, bool)):
            raise _NotSure
        if top and ((isinstance(value, dict) and "$schema" in value) or not meta_schema_accepts(value)):
            raise _NotSure  # openapi-spec-validator checks each top-level schema against the dialect
        if id(value) in self.visited or isinstance(value, bool):
            return
        self.visited.add(id(value))
        for keyword in _COMBINATIONS:
            for inner in self.deref(value.get(keyword, [])):
                self.schema(inner)
        for keyword in ("not", "items"):
            if keyword in value:
                self.schema(value[keyword])
        for inner in self.mapping(value.get("properties", {})).values():
            self.schema(inner)
        if "allOf" in value:  # its own properties and those its allOf parts lead to (not anyOf/oneOf)
            defined = set(self.mapping(value.get("properties", {})))
            for inner in self.deref(value["allOf"]):
                defined |= self.properties(inner, (id(value),))
            if set(self.deref(value.get("required", []))) - defined:
                raise _NotSure
        if "default" in value and not (value["default"] is None and value.get("nullable") is True):
            _default_fits(value)

    def properties(self, node: Any, trail: tuple[int, ...]) -> set[Any]:
        """Every property name the schema and its allOf/anyOf/oneOf/items/not define, as
        openapi-spec-validator's `_collect_properties` (which has no cycle guard: a cycle is not sure)."""
        value = self.deref(node)
        if not isinstance(value, dict):
            return set()
        if id(value) in trail:
            raise _NotSure
        trail = (*trail, id(value))
        names = set(self.mapping(value.get("properties", {})))
        for keyword in _COMBINATIONS:
            for inner in self.deref(value.get(keyword, [])):
                names |= self.properties(inner, trail)
        for keyword in ("items", "not"):
            if keyword in value:
                names |= self.properties(value[keyword], trail)
        return names


def _default_fits(schema: dict[Any, Any]) -> None:
    """The schema's `default` is valid for it; only for schemas of simple keywords (else not sure)."""
    for key, value in schema.items():
        simple = key in _SIMPLE or (key == "additionalProperties" and value is True)
        if not (simple or (isinstance(key, str) and key.startswith("x-"))):
            raise _NotSure
    if not jsonschema_rs.Draft202012Validator(schema).is_valid(schema["default"]):
        raise _NotSure
