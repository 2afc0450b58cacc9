"""Turning a validated item into a stored row, and a stored row back into the resource the spec reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    "getter",
    "key_text",
    "key_values",
    "now_iso",
    "row_values",
]


class DocumentTooDeepError(ValueError):
    """The document nests deeper than the JSON encoder allows."""


ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: these times order as text


def now_iso() -> str:
    return datetime.now(UTC).strftime(ISO_FORMAT)


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


Getter = Callable[[Any], Any]


def getter(tokens: tuple[str, ...]) -> Getter:
    """``get_at`` for fixed ``tokens``, specialised: one or two object members are read without a loop."""
    if len(tokens) == 1 and not tokens[0].isdigit():
        (first,) = tokens

        def one(document: Any) -> Any:
            return document.get(first, _ABSENT) if type(document) is dict else _ABSENT

        return one
    if len(tokens) == 2 and not any(token.isdigit() for token in tokens):
        first, second = tokens

        def two(document: Any) -> Any:
            node = document.get(first, _ABSENT) if type(document) is dict else _ABSENT
            return node.get(second, _ABSENT) if type(node) is dict else _ABSENT

        return two
    return lambda document: get_at(document, tokens)


@dataclass(frozen=True)
class _Plan:
    """What the hot path reads from an item, compiled once per shape."""

    keys: Callable[[Any], tuple[Any, ...]]  # the key values (a member's default when absent or null)
    columns: Callable[[Any], tuple[Any, ...]]  # the extracted list columns, in column order
    owned: frozenset[str]  # top-level members the server owns (left out of the stored document)


_PLANS: dict[int, _Plan] = {}


def _walk_source(target: str, tokens: tuple[str, ...], index: int) -> list[str]:
    """Source lines setting ``target`` to ``get_at(document, tokens)``: nested ``dict.get`` s, no loop."""
    if not tokens or any(token.isdigit() for token in tokens):  # list positions: the general walker
        return [f"    {target} = get_at(document, TOKENS[{index}])"]
    lines = [f"    {target} = ABSENT", "    node = document"]
    indent = "    "
    for depth, token in enumerate(tokens):
        lines.append(f"{indent}if type(node) is dict:")
        indent += "    "
        last = depth == len(tokens) - 1
        lines.append(f"{indent}{target if last else 'node'} = node.get({token!r}, ABSENT)")
    return lines


def _compile(
    name: str, members: list[tuple[str, ...]], result: list[str], **values: Any
) -> Callable[[Any], Any]:
    """A function of ``document`` that reads ``members`` (as m0, m1, ...) and returns ``result`` (Python
    expressions of them; ``values`` are further names they may use).

    Generated once per shape (like ``collections.namedtuple`` does): the per-item work of a batch is a few
    dictionary look-ups instead of a walker call per member and column."""
    lines = [f"def {name}(document):"]
    for index, tokens in enumerate(members):
        lines += _walk_source(f"m{index}", tokens, index)
    lines.append(f"    return ({', '.join(result)},)" if result else "    return ()")
    scope: dict[str, Any] = {"ABSENT": _ABSENT, "get_at": get_at, "TOKENS": members, **values}
    scope.update(column_value=_column_value, stamp=_stamp)
    exec(compile("\n".join(lines), f"<{name}>", "exec"), scope)  # noqa: S102 - source built from repr()s
    function: Callable[[Any], Any] = scope[name]
    return function


def _plan(shape: Shape) -> _Plan:
    found = _PLANS.get(id(shape))
    if found is None:
        members: list[tuple[str, ...]] = []
        result: list[str] = []
        for column, tokens in zip(shape.columns, shape.column_tokens, strict=True):
            if tokens not in members:
                members.append(tokens)
            m = f"m{members.index(tokens)}"
            if column.kind == "value":
                result.append(f"({m} if type({m}) is str or type({m}) is int else column_value({m}))")
            else:
                result.append(f"stamp({m})[{0 if column.kind == 'stamp' else 1}]")
        key_members = [tokens for tokens, _ in shape.key_tokens]
        defaults = [f"(D{i} if m{i} is ABSENT or m{i} is None else m{i})" for i in range(len(key_members))]
        key_defaults = {f"D{i}": default for i, (_, default) in enumerate(shape.key_tokens)}
        found = _PLANS[id(shape)] = _Plan(
            keys=_compile("key_values", key_members, defaults, **key_defaults),
            columns=_compile("columns", members, result),
            owned=_owned_members(shape.contract.resource.id, shape.server_stamps),
        )
    return found


def key_values(shape: Shape, document: Any) -> tuple[Any, ...]:
    """``contract.key.key_of`` on the hot path: each member's value, its default when absent or null."""
    values: tuple[Any, ...] = _plan(shape).keys(document)
    return values


@lru_cache(maxsize=64)
def _top_level(member: str) -> str | None:
    """The member name of a one-token pointer, else None."""
    tokens = split_pointer(member)
    return tokens[0] if len(tokens) == 1 else None


def complete_item(shape: Shape, item: dict[str, Any]) -> dict[str, Any]:
    """The item as stored: key defaults written in, and required members of the resource that the item
    leaves out (and the server does not own) filled from the resource schema (default, first enum value)."""
    completed = item
    for member, value in shape.contract.key.defaults.items():
        top = _top_level(member)
        if top is not None:  # the usual case, without a pointer walk
            if completed.get(top) is None:
                if completed is item:
                    completed = dict(item)
                completed[top] = value
        elif pointer_get(completed, member, None) is None:
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


def encode_body(shape: Shape, document: dict[str, Any]) -> bytes:
    """The stored JSON of an item: the document without server-owned members (id, timestamps)."""
    owned = _plan(shape).owned
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
    return (
        account, key, dup, body, created_at, modified_at, visible_at,
        *_plan(shape).columns(document),
    )  # fmt: skip


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
