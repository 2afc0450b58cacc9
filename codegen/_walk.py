"""Find every schema object in an OpenAPI document, with its JSON pointer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._findings import join

__all__ = ["HTTP_METHODS", "canonical", "iter_operations", "iter_schemas"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SUB_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUB_SINGLE = ("items", "not", "additionalProperties", "contains", "if", "then", "else", "propertyNames")
_SUB_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def canonical(node: Any) -> Any:
    """Deep copy with every mapping's keys sorted: dict order in the input never reaches the output."""
    if isinstance(node, dict):
        return {key: canonical(node[key]) for key in sorted(node, key=str)}
    if isinstance(node, list):
        return [canonical(item) for item in node]
    return node


def _subschemas(node: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in _SUB_LISTS:
        value = node.get(key)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _schema_tree(item, join(where, key, index))
    for key in _SUB_SINGLE:
        value = node.get(key)
        if isinstance(value, dict):
            yield from _schema_tree(value, join(where, key))
    for key in _SUB_MAPS:
        value = node.get(key)
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, dict):
                    yield from _schema_tree(item, join(where, key, name))


def _schema_tree(node: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield where, node
    yield from _subschemas(node, where)


def _media_schemas(container: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Schemas under `content/*/schema` and `headers/*/schema` of a response/request body."""
    if not isinstance(container, dict):
        return
    for section in ("content", "headers"):
        entries = container.get(section)
        if isinstance(entries, dict):
            for name, entry in entries.items():
                if isinstance(entry, dict) and isinstance(entry.get("schema"), dict):
                    yield from _schema_tree(entry["schema"], join(where, section, name, "schema"))


def _param_schemas(params: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(params, list):
        for index, param in enumerate(params):
            if isinstance(param, dict) and isinstance(param.get("schema"), dict):
                yield from _schema_tree(param["schema"], join(where, index, "schema"))


def iter_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """Yield (path, method, path_item, operation) in sorted path/method order."""
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return
    for path in sorted(paths):
        item = paths[path]
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield path, method, item, operation


def iter_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object (pre-order) with its pointer. Collect into a list before mutating."""
    components = document.get("components")
    if isinstance(components, dict):
        schemas = components.get("schemas")
        if isinstance(schemas, dict):
            for name, node in schemas.items():
                if isinstance(node, dict):
                    yield from _schema_tree(node, join("", "components", "schemas", name))
        for section in ("parameters", "headers"):
            entries = components.get(section)
            if isinstance(entries, dict):
                for name, entry in entries.items():
                    if isinstance(entry, dict) and isinstance(entry.get("schema"), dict):
                        yield from _schema_tree(
                            entry["schema"], join("", "components", section, name, "schema")
                        )
        for section in ("responses", "requestBodies"):
            entries = components.get(section)
            if isinstance(entries, dict):
                for name, entry in entries.items():
                    yield from _media_schemas(entry, join("", "components", section, name))
    paths = document.get("paths")
    if isinstance(paths, dict):
        for path, item in paths.items():
            if not isinstance(item, dict):
                continue
            base = join("", "paths", path)
            yield from _param_schemas(item.get("parameters"), join(base, "parameters"))
            for method in HTTP_METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                where = join(base, method)
                yield from _param_schemas(operation.get("parameters"), join(where, "parameters"))
                yield from _media_schemas(operation.get("requestBody"), join(where, "requestBody"))
                responses = operation.get("responses")
                if isinstance(responses, dict):
                    for status, response in responses.items():
                        yield from _media_schemas(response, join(where, "responses", str(status)))
