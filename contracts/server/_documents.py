"""Turning a validated item into a stored row, and a stored row back into the resource the spec reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from contracts.contract import pointer_get, pointer_set, split_pointer

from ._shape import Shape
from ._storage import ItemRow

__all__ = [
    "DocumentTooDeepError",
    "complete_item",
    "encode_body",
    "item_json",
    "get_at",
    "key_text",
    "key_values",
    "now_iso",
    "row_values",
]


class DocumentTooDeepError(ValueError):
    """The document nests deeper than the JSON encoder allows."""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=8192)
def _stamp(value: Any) -> tuple[str, str]:
    """(normalised UTC timestamp, UTC date) of a timestamp member; ('', '') when absent."""
    if not isinstance(value, str) or not value:
        return "", ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value, value[:10]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    normal = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    return normal, normal[:10]


def key_text(values: Sequence[Any]) -> str:
    """The canonical key: JSON of the key values (a member's default already applied)."""
    return orjson.dumps(list(values)).decode()


_ABSENT: Any = object()


def get_at(document: Any, tokens: tuple[str, ...]) -> Any:
    """The value at pre-split pointer ``tokens`` (``_ABSENT`` when nothing is there): the hot-path walker."""
    node = document
    for token in tokens:
        if type(node) is dict:
            node = node.get(token, _ABSENT)
            if node is _ABSENT:
                return _ABSENT
        elif type(node) is list and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _ABSENT
    return node


def key_values(shape: Shape, document: Any) -> tuple[Any, ...]:
    """``contract.key.key_of`` on the hot path: each member's value, its default when absent or null."""
    values = []
    for tokens, default in shape.key_tokens:
        value = get_at(document, tokens)
        values.append(default if value is _ABSENT or value is None else value)
    return tuple(values)


def complete_item(shape: Shape, item: dict[str, Any]) -> dict[str, Any]:
    """The item as stored: key defaults written in, and required members of the resource that the item
    leaves out (and the server does not own) filled from the resource schema (default, first enum value)."""
    completed = item
    for member, value in shape.contract.key.defaults.items():
        if pointer_get(completed, member, None) is None:
            if completed is item:
                completed = dict(item)
            pointer_set(completed, member, value)
    for name, value in shape.fill:
        if name not in completed:
            if completed is item:
                completed = dict(item)
            completed[name] = value
    return completed


@lru_cache(maxsize=16)
def _owned_members(id_member: str, stamps: tuple[tuple[str, bool], ...]) -> frozenset[str]:
    tokens = split_pointer(id_member)
    return frozenset((tokens[0],) if len(tokens) == 1 else ()) | {name for name, _ in stamps}


def _server_members(shape: Shape) -> frozenset[str]:
    return _owned_members(shape.contract.resource.id, shape.server_stamps)


def encode_body(shape: Shape, document: dict[str, Any]) -> bytes:
    """The stored JSON of an item: the document without server-owned members (id, timestamps)."""
    owned = _server_members(shape)
    if not owned.isdisjoint(document):
        document = {k: v for k, v in document.items() if k not in owned}
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError as exc:
        raise DocumentTooDeepError(str(exc)) from exc


def _column_value(value: Any) -> Any:
    """A list column never holds NULL (keyset cursors compare with it): absent is ''."""
    if value is _ABSENT or value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return orjson.dumps(value).decode()


def row_values(
    shape: Shape,
    account: str,
    key: str,
    document: dict[str, Any],
    body: bytes,
    *,
    created_at: str,
    modified_at: str,
    visible_at: float,
    dup: int = 0,
) -> tuple[Any, ...]:
    """One ``items`` row in column order (see ``Store.insert_many``)."""
    extracted: list[Any] = []
    for column, tokens in zip(shape.columns, shape.column_tokens, strict=True):
        value = get_at(document, tokens)
        if column.kind == "value":
            extracted.append(_column_value(value))
        else:
            stamp, day = _stamp(value)
            extracted.append(stamp if column.kind == "stamp" else day)
    return (account, key, dup, body, created_at, modified_at, visible_at, *extracted)


_SPLICE: dict[int, tuple[bytes, tuple[tuple[bytes, bool], ...]] | None] = {}


def _splice_parts(shape: Shape) -> tuple[bytes, tuple[tuple[bytes, bool], ...]] | None:
    """(b'{"id":', ((b',"created_at":', True), ...)) for a top-level id; None when the id is nested."""
    key = id(shape)
    if key not in _SPLICE:
        tokens = split_pointer(shape.contract.resource.id)
        _SPLICE[key] = (
            None
            if len(tokens) != 1
            else (
                b"{" + orjson.dumps(tokens[0]) + b":",
                tuple((b"," + orjson.dumps(name) + b":", creation) for name, creation in shape.server_stamps),
            )
        )
    return _SPLICE[key]


def item_json(shape: Shape, row: ItemRow) -> bytes:
    """The resource of a stored row: its id, the stored document and the server's timestamps, spliced from
    the stored bytes without parsing them."""
    parts = _splice_parts(shape)
    if parts is None:  # an id below the top level: build the document
        document = orjson.loads(row.body)
        pointer_set(
            document, shape.contract.resource.id, row.id if shape.resource_id_integer else str(row.id)
        )
        for name, creation in shape.server_stamps:
            document[name] = row.created_at if creation else row.modified_at
        return orjson.dumps(document)
    head, stamps = parts
    identifier = b"%d" % row.id if shape.resource_id_integer else b'"%d"' % row.id
    inner = row.body[1:-1].strip()
    tail = b"".join(
        name + orjson.dumps(row.created_at if creation else row.modified_at) for name, creation in stamps
    )
    return head + identifier + (b"," + inner if inner else b"") + tail + b"}"
