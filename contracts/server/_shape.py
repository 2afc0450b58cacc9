"""What the server derives from a spec beyond its ``Contract``: schemas of items, results, resources and
operations, the list operation's parameters, and the stored columns that make list filters fast.

Everything here is read from the OpenAPI document the ``Contract`` carries; nothing names a dialect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.contract import BoundOperation, Contract, deref, join_pointer, pointer_get, split_pointer

__all__ = ["Column", "ListParam", "Shape", "object_members", "shape_of"]

_JSON = "application/json"


def object_members(document: Mapping[str, Any], schema: Any) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, ``allOf`` parts merged."""
    schema = deref(document, schema)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    if not isinstance(schema, Mapping):
        return properties, required
    for part in schema.get("allOf") or ():
        more, needed = object_members(document, part)
        properties.update(more)
        required |= needed
    properties.update(schema.get("properties") or {})
    required |= set(schema.get("required") or ())
    return properties, required


def _filler(document: Mapping[str, Any], schema: Any) -> Any:
    """A value for a required member the client left out: its default, the first enum value, or empty."""
    schema = deref(document, schema)
    if not isinstance(schema, Mapping):
        return None
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    return {"boolean": False, "integer": 0, "number": 0, "array": [], "object": {}, "string": ""}.get(
        str(kind)
    )


def _ref_name(node: Any) -> str | None:
    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        return str(node["$ref"]).rsplit("/", 1)[-1]
    return None


def _body_schema(operation: BoundOperation) -> Any:
    return pointer_get(operation.node, ("requestBody", "content", _JSON, "schema"), None)


def _answer_schema(document: Mapping[str, Any], operation: BoundOperation) -> Any:
    responses = operation.node.get("responses") or {}
    for status in sorted(responses):
        if str(status).startswith("2"):
            return deref(document, pointer_get(responses[status], ("content", _JSON, "schema"), None))
    return None


def _at(document: Mapping[str, Any], schema: Any, pointer: str) -> Any:
    """The schema of the value at ``pointer`` inside a value of ``schema`` (object members and list items)."""
    node = deref(document, schema)
    for token in split_pointer(pointer):
        properties, _ = object_members(document, node)
        if token in properties:
            node = deref(document, properties[token])
        elif isinstance(node, Mapping) and "items" in node:
            node = deref(document, node["items"])
        else:
            return None
    return node


def _find_member(document: Mapping[str, Any], schema: Any, name: str, depth: int = 4) -> str | None:
    """The pointer of the first member called ``name`` inside ``schema`` (breadth first, objects only)."""
    level: list[tuple[str, Any]] = [("", schema)]
    for _ in range(depth):
        following: list[tuple[str, Any]] = []
        for prefix, node in level:
            properties, _ = object_members(document, node)
            if name in properties:
                return prefix + join_pointer((name,))
            following += [(prefix + join_pointer((key,)), value) for key, value in properties.items()]
        level = following
    return None


@dataclass(frozen=True)
class Column:
    """A stored column extracted from each item, so list filters and sorts use an index."""

    name: str  # SQL column name (c0, c1, ...)
    member: str  # pointer into the stored item
    kind: Literal["value", "stamp", "day"]  # the value; a normalised UTC timestamp; its UTC date
    indexed: bool
    nocase: bool = False  # text compared without case (its index too)


@dataclass(frozen=True)
class ListParam:
    name: str
    column: str
    op: Literal["in", "=", ">=", "<="]
    integer: bool
    date: bool
    owned: bool  # values must be owned by the caller (the ownership member)
    array: bool  # comma-separated (and repeatable) values


@dataclass(frozen=True)
class Shape:
    contract: Contract
    item_model: str | None  # component name of one batch item (also the generated model's name)
    patch_model: str | None
    item_schema: Any = field(repr=False)
    result_members: tuple[str, ...]  # besides the id, members a result copies from its item
    update_members: tuple[str, ...]
    resource_schema: Any = field(repr=False)
    resource_id_integer: bool
    server_stamps: tuple[tuple[str, bool], ...]  # (member, is-creation) set by the server
    columns: tuple[Column, ...]
    params: Mapping[str, ListParam]
    sort_keys: Mapping[str, str]  # sort key -> column ("id" for the primary key)
    page_size: tuple[str, int, int] | None  # (name, default, maximum)
    offset_param: str | None
    cursor_param: str | None
    operation_schema: Any = field(repr=False)
    error_title: bool
    error_codes: frozenset[str] | None  # the closed list of codes, when the spec has one
    parameter_member: str | None  # where a parameter error names its parameter (pointer style)
    fill: tuple[tuple[str, Any], ...] = ()  # required resource members an item may leave out, and their value
    key_tokens: tuple[tuple[tuple[str, ...], Any], ...] = ()  # per key member: its tokens and its default
    column_tokens: tuple[tuple[str, ...], ...] = ()  # per column: the tokens of its member

    @property
    def document(self) -> Mapping[str, Any]:
        return self.contract.document

    def code(self, wanted: str) -> str:
        """``wanted`` when the spec's codes allow it, else the generic ``invalid``."""
        if self.error_codes is None or wanted in self.error_codes:
            return wanted
        return "invalid"

    def column_of(self, member: str) -> str | None:
        for column in self.columns:
            if column.member == member and column.kind == "value":
                return column.name
        return None


def _list_params(
    contract: Contract, item_schema: Any
) -> tuple[list[Column], dict[str, ListParam], dict[str, str]]:
    document = contract.document
    columns: list[Column] = []
    params: dict[str, ListParam] = {}
    sort_keys: dict[str, str] = {"pk": "id", "id": "id"}
    if contract.listing is None or not contract.has("list"):
        return columns, params, sort_keys
    declared = {}
    for raw in contract.operation("list").node.get("parameters") or ():
        parameter = deref(document, raw)
        if isinstance(parameter, Mapping) and parameter.get("in") == "query":
            declared[str(parameter["name"])] = deref(document, parameter.get("schema") or {})
    owner = contract.ownership.member if contract.ownership else None
    for name, member in contract.listing.filters.items():
        schema = declared.get(name, {})
        items = deref(document, schema.get("items")) if schema.get("type") == "array" else schema
        integer = isinstance(items, Mapping) and items.get("type") == "integer"
        column = f"c{len(columns)}"
        # Top-level members are indexed (ids, numbers, sources); nested ones (a status code) are filtered
        # within the account's rows: fewer indexes keep batch writes fast.
        columns.append(Column(column, member, "value", len(split_pointer(member)) == 1, not integer))
        array = schema.get("type") == "array"
        params[name] = ListParam(name, column, "in", integer, False, member == owner, array)
        sort_keys[name] = column
    stamps: dict[str, tuple[str, str]] = {}
    for name, schema in declared.items():
        if name in params or schema.get("format") not in ("date", "date-time"):
            continue
        base, op = name, "="
        for suffix, bound in (("_min", ">="), ("_max", "<=")):
            if name.endswith(suffix):
                base, op = name[: -len(suffix)], bound
        found = _find_member(document, item_schema, base)
        if found is None:
            continue
        member = found
        if base not in stamps:
            stamps[base] = (f"c{len(columns)}", f"c{len(columns) + 1}")
            columns.append(Column(stamps[base][0], member, "stamp", False))
            columns.append(Column(stamps[base][1], member, "day", False))
            sort_keys[base] = stamps[base][0]
        params[name] = ListParam(name, stamps[base][1], op, False, True, False, False)  # type: ignore[arg-type]
    return columns, params, sort_keys


def _paging(contract: Contract) -> tuple[tuple[str, int, int] | None, str | None, str | None]:
    if not contract.has("list"):
        return None, None, None
    document = contract.document
    size = offset = cursor = None
    for raw in contract.operation("list").node.get("parameters") or ():
        parameter = deref(document, raw)
        if not isinstance(parameter, Mapping) or parameter.get("in") != "query":
            continue
        name, schema = str(parameter["name"]), deref(document, parameter.get("schema") or {})
        if contract.listing is not None and name in contract.listing.filters:
            continue
        if schema.get("type") == "integer":
            if schema.get("minimum") == 0 and offset is None:
                offset = name
            elif size is None:
                size = (name, int(schema.get("default", 100)), int(schema.get("maximum", 200)))
        elif name == "cursor" or re.fullmatch(r"(page_)?cursor", name):
            cursor = name
    return size, offset, cursor


_SHAPES: dict[tuple[str, str, int], Shape] = {}


def shape_of(contract: Contract) -> Shape:
    """The shape of ``contract``'s spec (computed once per spec content)."""
    key = (contract.dialect, contract.spec_sha256, id(contract.document))
    found = _SHAPES.get(key)
    if found is None:
        found = _SHAPES[key] = _shape_of(contract)
    return found


def _shape_of(contract: Contract) -> Shape:
    document = contract.document
    write = contract.batch_write
    body = _body_schema(write)
    listed = _at(document, body, contract.batch.items) if contract.batch.items else deref(document, body)
    item_ref = listed.get("items") if isinstance(listed, Mapping) else None
    item_schema = deref(document, item_ref)
    answer = _answer_schema(document, write)
    result_members: tuple[str, ...] = ()
    if contract.processing.results is not None:
        results = _at(document, answer, contract.processing.results)
        result_item = results.get("items") if isinstance(results, Mapping) else None
        members, _ = object_members(document, result_item)
        result_members = tuple(m for m in members if join_pointer((m,)) != contract.processing.result_id)
    update_members: tuple[str, ...] = ()
    patch_model = None
    if contract.has("update"):
        update = contract.operation("update")
        patch_model = _ref_name(_body_schema(update))
        members, _ = object_members(
            document, _at(document, _answer_schema(document, update), contract.resource.item)
        )
        update_members = tuple(m for m in members if join_pointer((m,)) != contract.resource.id)
    resource_schema = item_schema
    if contract.has("read_one"):
        resource_schema = _at(
            document, _answer_schema(document, contract.operation("read_one")), contract.resource.item
        )
    resource_members, _ = object_members(document, resource_schema)
    item_members, _ = object_members(document, item_schema)
    id_schema = deref(document, resource_members.get(split_pointer(contract.resource.id)[-1], {}))
    stamps = tuple(
        (name, "creat" in name)
        for name, schema in resource_members.items()
        if name not in item_members
        and deref(document, schema).get("format") == "date-time"
        and deref(document, schema).get("type") == "string"
    )
    columns, params, sort_keys = _list_params(contract, item_schema)
    size, offset, cursor = _paging(contract)
    operation_schema = None
    if contract.has("operation_status"):
        operation_schema = _answer_schema(document, contract.operation("operation_status"))
    error_item = _error_item_schema(contract)
    error_members, _ = object_members(document, error_item)
    code_schema = (
        deref(document, _at(document, error_item, contract.errors.code)) if contract.errors.code else None
    )
    codes = code_schema.get("enum") if isinstance(code_schema, Mapping) else None
    parameter_member = None
    if contract.errors.style == "pointer" and contract.errors.member:
        parent = split_pointer(contract.errors.member)[:-1]
        if isinstance(_at(document, error_item, join_pointer((*parent, "parameter"))), Mapping):
            parameter_member = join_pointer((*parent, "parameter"))
    owned = {name for name, _ in stamps} | {split_pointer(contract.resource.id)[0]}
    resource_required = object_members(document, resource_schema)[1]
    fill = tuple(
        (name, _filler(document, resource_members.get(name)))
        for name in sorted(resource_required - owned)
        if name not in item_members or name not in object_members(document, item_schema)[1]
    )
    key_tokens = tuple((split_pointer(m), contract.key.defaults.get(m)) for m in contract.key.members)
    return Shape(
        fill=fill,
        key_tokens=key_tokens,
        column_tokens=tuple(split_pointer(column.member) for column in columns),
        contract=contract,
        item_model=_ref_name(item_ref),
        patch_model=patch_model,
        item_schema=item_schema,
        result_members=result_members,
        update_members=update_members,
        resource_schema=resource_schema,
        resource_id_integer=id_schema.get("type") == "integer",
        server_stamps=stamps,
        columns=tuple(columns),
        params=params,
        sort_keys=sort_keys,
        page_size=size,
        offset_param=offset,
        cursor_param=cursor,
        operation_schema=operation_schema,
        error_title="title" in error_members,
        error_codes=frozenset(codes) if isinstance(codes, list) else None,
        parameter_member=parameter_member,
    )


def _error_item_schema(contract: Contract) -> Any:
    document = contract.document
    for status, response in sorted((contract.batch_write.node.get("responses") or {}).items()):
        if str(status).startswith("4"):
            schema = pointer_get(deref(document, response), ("content", _JSON, "schema"), None)
            errors = _at(document, schema, contract.errors.errors_at)
            if isinstance(errors, Mapping) and "items" in errors:
                return deref(document, errors["items"])
    return {}
