"""Walk a dereferenced JSON schema: merge ``allOf``, list types, enumerate every constrained path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..contract import join_pointer

__all__ = [
    "BRANCH",
    "ITEM",
    "ConstrainedPath",
    "constrained_paths",
    "normalize",
    "pointer_of",
    "schema_types",
]

ITEM = "*"  # path segment: any array item (index 0 when made concrete)
BRANCH = "|"  # path segment prefix: "|k" = branch k of a oneOf/anyOf (not part of the JSON pointer)

Schema = dict[str, Any]
_NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_STRING = ("minLength", "maxLength", "pattern")


def _merge(a: Schema, b: Schema) -> Schema:
    out = dict(a)
    for key, value in b.items():
        if key == "properties" and isinstance(out.get(key), dict):
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = _merge(props[name], sub) if name in props else sub
            out[key] = props
        elif key == "required" and isinstance(out.get(key), list):
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key == "type" and key in out:
            left = set(out[key] if isinstance(out[key], list) else [out[key]])
            right = set(value if isinstance(value, list) else [value])
            both = sorted(left & right) or sorted(right)
            out[key] = both[0] if len(both) == 1 else both
        else:
            out[key] = value
    return out


def normalize(schema: Any) -> Schema:
    """``schema`` with ``allOf`` merged into one node and a one-branch ``oneOf``/``anyOf`` inlined."""
    if not isinstance(schema, dict):
        return {}
    node = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema.get("allOf", []):
        node = _merge(node, normalize(part))
    for key in ("oneOf", "anyOf"):
        branches = node.get(key)
        if isinstance(branches, list) and len(branches) == 1:
            del node[key]
            node = _merge(node, normalize(branches[0]))
    if node.get("nullable") is True:  # OpenAPI 3.0 habit: treat as type [T, null]
        kinds = schema_types(node)
        node["type"] = [*kinds, "null"] if "null" not in kinds else kinds
    return node


def schema_types(schema: Schema) -> list[str]:
    """Declared JSON types of a normalized node (inferred from keywords when ``type`` is absent)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    if "properties" in schema or "additionalProperties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    if "enum" in schema:
        return sorted({_json_type(v) for v in schema["enum"]})
    return []


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass(frozen=True, order=True)
class ConstrainedPath:
    """One constraint of the schema: the path to the constrained value and the keyword (``kind``)."""

    segments: tuple[str, ...]
    kind: str  # required | type | enum | minimum | maximum | exclusiveMinimum | ... | pattern

    @property
    def pointer(self) -> str:
        """RFC 6901 pointer inside one order (array items as index 0, branches dropped)."""
        return pointer_of(self.segments)

    def __str__(self) -> str:
        return f"{self.pointer or '/'} [{self.kind}]"


def pointer_of(segments: tuple[str, ...]) -> str:
    return join_pointer("0" if s == ITEM else s for s in segments if s[:1] != BRANCH)


def constrained_paths(schema: Any, *, skip: frozenset[str] = frozenset()) -> list[ConstrainedPath]:
    """Every (path, keyword) a single value can violate, in a stable order.

    ``skip`` holds pointers whose whole subtree is left out (e.g. fields the caller controls).
    """
    found: list[ConstrainedPath] = []
    _walk(normalize(schema), (), found, skip)
    return sorted(set(found))


def _walk(node: Schema, at: tuple[str, ...], out: list[ConstrainedPath], skip: frozenset[str]) -> None:
    if pointer_of(at) in skip and at:
        return
    kinds = schema_types(node)
    if at and kinds and not at[-1].startswith(BRANCH):
        out.append(ConstrainedPath(at, "type"))
    if "enum" in node:
        out.append(ConstrainedPath(at, "enum"))
    if "const" in node:
        out.append(ConstrainedPath(at, "const"))
    for key in (*_NUMERIC, *_STRING, "minItems", "maxItems"):
        if key in node and not (key == "minLength" and node[key] == 0):
            out.append(ConstrainedPath(at, key))
    props = node.get("properties") or {}
    for name in node.get("required", []):
        if name in props and pointer_of((*at, name)) not in skip:
            out.append(ConstrainedPath((*at, name), "required"))
    for name, sub in sorted(props.items()):
        _walk(normalize(sub), (*at, name), out, skip)
    items = node.get("items")
    if isinstance(items, dict):
        _walk(normalize(items), (*at, ITEM), out, skip)
    for key in ("oneOf", "anyOf"):
        for i, branch in enumerate(node.get(key) or []):
            _walk(normalize(branch), (*at, f"{BRANCH}{i}"), out, skip)
