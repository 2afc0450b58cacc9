"""Normalisation, last steps: component names become class names; inline operation schemas get names.

datamodel-code-generator names a component schema after its key, so after these steps the client templates
know every model name in advance:

* ``class-name``    component schema keys become PascalCase identifiers (``order-items`` → ``OrderItems``);
                    collisions get a numeric suffix; every ``$ref`` follows.
* ``hoist-inline``  inline request bodies → ``<OperationId>Request``; inline response bodies →
                    ``<OperationId>Response<status>`` (``components/responses/X`` → ``X``/``XResponse``);
                    inline webhook payloads → ``<Name>Webhook``;
                    inline array items of any component → ``<Name>Item``; object-typed parameter schemas →
                    ``<OperationId><Param>Param``.
"""

from __future__ import annotations

from typing import Any

from contracts.contract import escape_token

from ._findings import Finding, join, warning
from ._naming import class_name, unique
from ._walk import iter_operations

__all__ = ["hoist_and_rename", "json_media", "redirect_refs", "schema_ref"]

_PREFIX = "#/components/schemas/"
_MAX_ITEM_DEPTH = 8


def schema_ref(name: str) -> str:
    return _PREFIX + escape_token(name)


def redirect_refs(node: Any, mapping: dict[str, str]) -> None:
    """Rewrite `$ref`s equal to (or below) a key of `mapping` in place."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            for old, new in mapping.items():
                if ref == old or ref.startswith(old + "/"):
                    node["$ref"] = new + ref[len(old) :]
                    break
        for value in node.values():
            redirect_refs(value, mapping)
    elif isinstance(node, list):
        for value in node:
            redirect_refs(value, mapping)


def json_media(container: Any) -> tuple[str, dict[str, Any]] | None:
    """The JSON media type entry of a request body / response: application/json first, else any *json."""
    content = container.get("content") if isinstance(container, dict) else None
    if not isinstance(content, dict):
        return None
    names = sorted(content)
    for name in ["application/json", *[n for n in names if "json" in n]]:
        if isinstance(content.get(name), dict):
            return name, content[name]
    return None


def _rename_components(document: dict[str, Any]) -> list[Finding]:
    schemas = document.get("components", {}).get("schemas")
    if not isinstance(schemas, dict):
        return []
    taken = {name for name in schemas if class_name(name) == name}
    renamed: dict[str, str] = {}
    for name in sorted(schemas):
        if name not in taken:
            renamed[name] = unique(class_name(name), taken)
            taken.add(renamed[name])
    if not renamed:
        return []
    document["components"]["schemas"] = {renamed.get(k, k): v for k, v in sorted(schemas.items())}
    redirect_refs(document, {schema_ref(old): schema_ref(new) for old, new in renamed.items()})
    return [
        warning(
            join("", "components", "schemas", old), f"schema renamed to class name {new!r}", old, "class-name"
        )
        for old, new in sorted(renamed.items())
    ]


def _is_named(schema: Any) -> bool:
    return isinstance(schema, dict) and isinstance(schema.get("$ref"), str)


def _hoist(document: dict[str, Any], holder: dict[str, Any], key: str, name: str, where: str) -> Finding:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    final = unique(name, set(schemas))
    schemas[final] = holder[key]
    holder[key] = {"$ref": schema_ref(final)}
    return warning(where, f"inline schema hoisted to components/schemas/{final}", rule="hoist-inline")


def _hoist_media(document: dict[str, Any], container: Any, name: str, where: str) -> list[Finding]:
    media = json_media(container)
    if media is None or not isinstance(media[1].get("schema"), dict) or _is_named(media[1]["schema"]):
        return []
    return [_hoist(document, media[1], "schema", name, join(where, "content", media[0], "schema"))]


def _hoist_operations(document: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    components = document.get("components", {})
    for section, suffix in (("requestBodies", "Request"), ("responses", "Response")):
        for name, entry in sorted(components.get(section, {}).items()):
            base = class_name(name)
            wanted = base if base.endswith(suffix) else base + suffix
            findings += _hoist_media(document, entry, wanted, join("", "components", section, name))
    for path, method, _item, operation in iter_operations(document):
        base = class_name(str(operation.get("operationId") or f"{method} {path}"))
        where = join("", "paths", path, method)
        body = operation.get("requestBody")
        if isinstance(body, dict) and "$ref" not in body:
            findings += _hoist_media(document, body, base + "Request", join(where, "requestBody"))
        for status, response in sorted((operation.get("responses") or {}).items()):
            if isinstance(response, dict) and "$ref" not in response:
                label = class_name(str(status)) if not str(status).isdigit() else str(status)
                findings += _hoist_media(
                    document, response, f"{base}Response{label}", join(where, "responses", status)
                )
        for index, param in enumerate(operation.get("parameters") or []):
            schema = param.get("schema") if isinstance(param, dict) else None
            if isinstance(schema, dict) and not _is_named(schema) and "properties" in schema:
                name = f"{base}{class_name(str(param.get('name', index)))}Param"
                findings.append(
                    _hoist(document, param, "schema", name, join(where, "parameters", index, "schema"))
                )
    findings += _hoist_webhooks(document)
    return findings


def _hoist_webhooks(document: dict[str, Any]) -> list[Finding]:
    """Inline payloads of OpenAPI 3.1 `webhooks` → ``<Name>Webhook`` (their models are generated too)."""
    findings: list[Finding] = []
    hooks = document.get("webhooks")
    for name, item in sorted(hooks.items() if isinstance(hooks, dict) else []):
        for method, operation in sorted(item.items() if isinstance(item, dict) else []):
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if isinstance(body, dict) and "$ref" not in body:
                where = join("", "webhooks", name, method, "requestBody")
                findings += _hoist_media(document, body, class_name(str(name)) + "Webhook", where)
    return findings


def _is_array(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _is_structured(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" or any(
        k in schema for k in ("properties", "allOf", "oneOf", "anyOf")
    )


def _hoist_items(document: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    schemas = document.get("components", {}).get("schemas", {})
    for _ in range(_MAX_ITEM_DEPTH):
        found = []
        for name in sorted(schemas):
            schema = schemas[name]
            items = schema.get("items") if isinstance(schema, dict) and _is_array(schema) else None
            if isinstance(items, dict) and not _is_named(items) and _is_structured(items):
                where = join("", "components", "schemas", name, "items")
                found.append(_hoist(document, schema, "items", name + "Item", where))
        findings += found
        if not found:
            break
    return findings


def hoist_and_rename(document: dict[str, Any]) -> list[Finding]:
    findings = _rename_components(document)
    findings += _hoist_operations(document)
    findings += _hoist_items(document)
    return findings
