"""Stage 2d: ids that round-trip — a path parameter accepts every id type the spec uses for its resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._ir_ops import Operation, annotation_of, deref, ref_name

__all__ = ["IdTypes", "id_types"]

_ID_TYPES = frozenset({"int", "str"})


@dataclass(frozen=True)
class _Source:
    annotation: str
    model: str | None  # the model holding the member (None: not a named model)
    member: str


@dataclass(frozen=True)
class IdTypes:
    unions: dict[tuple[str, str], tuple[str, ...]]  # (method, path parameter) → types, its own first
    carriers: dict[str, tuple[tuple[str, str], ...]]  # model → ((member, method), ...) it can be passed to


def _member(doc: dict[str, Any], schema: Any, tokens: list[str]) -> _Source | None:
    """The id member at ``tokens`` inside ``schema`` (digits step into array items)."""
    node, owner = deref(doc, schema), ref_name(schema)
    for token in tokens[:-1]:
        if not isinstance(node, dict):
            return None
        step = node.get("items") if token.isdigit() else (node.get("properties") or {}).get(token)
        owner, node = ref_name(step) or owner, deref(doc, step)
    if not isinstance(node, dict) or not tokens:
        return None
    leaf = deref(doc, (node.get("properties") or {}).get(tokens[-1]))
    annotation = annotation_of(doc, leaf) if isinstance(leaf, dict) else None
    return _Source(annotation, owner, tokens[-1]) if annotation in _ID_TYPES else None


def _model(model: str | None) -> Any:
    return {"$ref": f"#/components/schemas/{model}"} if model else None


def _read_member(doc: dict[str, Any], model: str | None, name: str) -> _Source | None:
    """The member ``name`` in a read answer: at the top, or inside its single object member."""
    schema = deref(doc, _model(model)) if model else None
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return None
    if name in props:
        return _member(doc, _model(model), [name])
    objects = [
        k for k, v in props.items() if isinstance(deref(doc, v), dict) and "properties" in deref(doc, v)
    ]
    return _member(doc, _model(model), [objects[0], name]) if len(objects) == 1 else None


def _linked(doc: dict[str, Any], ops: list[Operation]) -> dict[tuple[str, str], set[_Source]]:
    """Members that response links feed into a path parameter (``$response.body#/data/0/id``)."""
    by_id = {op.operation_id: op for op in ops if op.operation_id}
    seen: dict[tuple[str, str], set[_Source]] = {}
    for source in ops:
        for link in source.links:
            target = by_id.get(link.operation_id)
            response = next((r for r in source.responses if r.status == link.status), None)
            for wire_name, expression in link.parameters:
                if target is None or response is None or not expression.startswith("$response.body#/"):
                    continue
                tokens = [t for t in expression.split("#", 1)[1].split("/") if t]
                found = _member(doc, _model(response.model), tokens)
                if found:
                    seen.setdefault((target.method_name, wire_name), set()).add(found)
    return seen


def id_types(doc: dict[str, Any], ops: list[Operation]) -> IdTypes:
    """Every id type the spec uses for a path parameter's resource, and which models carry such ids.

    Sources: response links that feed the parameter, and the member of the same name in what reading the
    resource answers (its GET at the same path, the items of the list at the parent path). A read order's
    ``id`` can then be passed back without a cast.
    """
    seen = _linked(doc, ops)
    reads = {op.path: op for op in ops if op.http_method == "GET"}
    for op in ops:
        for param in (p for p in op.params if p.location == "path"):
            read, parent = reads.get(op.path), reads.get(op.path.rsplit("/", 1)[0])
            found = [_read_member(doc, read.success.model if read and read.success else None, param.name)]
            if parent and parent.pagination and op.path.endswith("{" + param.name + "}"):
                found.append(_read_member(doc, parent.pagination.item_model, param.name))
            seen.setdefault((op.method_name, param.name), set()).update(f for f in found if f)
    resource: dict[tuple[str, str], set[_Source]] = {}  # every operation on a path shares its ids
    for op in ops:
        for param in (p for p in op.params if p.location == "path"):
            resource.setdefault((op.path, param.name), set()).update(
                seen.get((op.method_name, param.name), ())
            )
    unions: dict[tuple[str, str], tuple[str, ...]] = {}
    carriers: dict[str, set[tuple[str, str]]] = {}
    for op in ops:
        for param in (p for p in op.params if p.location == "path"):
            sources = resource[(op.path, param.name)]
            others = {s.annotation for s in sources} - {param.annotation}
            if param.annotation not in _ID_TYPES or not others:
                continue
            unions[(op.method_name, param.name)] = (param.annotation, *sorted(others))
            for s in sources:
                if s.model:
                    carriers.setdefault(s.model, set()).add((s.member, op.method_name))
    return IdTypes(unions, {model: tuple(sorted(pairs)) for model, pairs in sorted(carriers.items())})
