"""The list operation: filters from ``list.filters`` and the spec's date parameters (indexed columns),
sorting, and the contract's pagination — ``link_cursor`` (opaque keyset cursors, ``Link`` header) or
``page`` (``count``/``next``/``previous`` with limit/offset)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson
from starlette.datastructures import URL

from contracts.contract import split_pointer

from ._documents import item_json
from ._errors import ApiError, ErrorItem
from ._settings import Account
from ._state import ServerState
from ._storage import ItemRow

__all__ = ["list_items", "page_window", "wrap_list"]

_SELECT = "SELECT id, key, body, created_at, modified_at, visible_at"


def _param_error(name: str, detail: str, code: str = "invalid") -> ApiError:
    title = "Invalid Choice" if code == "invalid_choice" else None  # as in the spec's example
    return ApiError(400, [ErrorItem(detail, code, parameter=name, title=title)])


def parse_sort(state: ServerState, raw: str | None) -> list[tuple[str, bool]]:
    """[(column, descending)], always ending in the primary key.  Unknown keys → default ``-pk``."""
    default = [("id", True)]
    if not raw:
        return default
    keys = state.shape.sort_keys
    result: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for token in raw.split(","):
        token = token.strip()
        descending = token.startswith("-")
        name = token[1:] if descending else token
        if name not in keys:
            return default
        column = keys[name]
        if column in seen:  # a contradicting (or repeated) key is ignored
            continue
        seen.add(column)
        result.append((column, descending))
        if column == "id":
            break
    if "id" not in seen:
        result.append(("id", True))
    return result


def _values(query: Mapping[str, str], name: str, array: bool) -> list[str]:
    getlist = getattr(query, "getlist", None)
    if not array:
        return [query[name]]
    raw = ",".join(getlist(name)) if getlist else query[name]
    return [part.strip() for part in raw.split(",")]


def _filters(state: ServerState, account: Account, query: Mapping[str, str]) -> tuple[list[str], list[Any]]:
    where: list[str] = ["account = ?"]
    params: list[Any] = [account.username]
    now = time.time()
    if not state.store.all_visible(now):  # some item may still be hidden (a processing delay)
        where.append("visible_at <= ?")
        params.append(now)
    if state.fault("list_ignores_filters"):
        return where, params
    for name, param in state.shape.params.items():
        if name not in query:
            continue
        if param.date:
            value = query[name]
            try:
                if len(value) != 10:
                    raise ValueError
                day = date.fromisoformat(value)
            except ValueError:
                raise _param_error(name, f"Enter a valid date (YYYY-MM-DD), got {value!r}.") from None
            where.append(f"{param.column} {param.op} ?")
            params.append(day.isoformat())
            continue
        values: list[Any] = _values(query, name, param.array)
        if param.integer:
            for part in values:
                if not (part.isascii() and part.isdigit()) or len(part) > 18:  # '²'.isdigit() too
                    raise _param_error(name, f"A valid integer is required, got {part!r}.")
            values = [int(part) for part in values]
        if param.owned:
            for value in values:
                if value not in account.owns:
                    detail = f"Select a valid choice. {value} is not one of the available choices."
                    raise _param_error(name, detail, "invalid_choice")
        nocase = "" if param.integer else " COLLATE NOCASE"
        if len(values) == 1:
            where.append(f"{param.column} = ?{nocase}")
        else:
            where.append(f"{param.column}{nocase} IN ({','.join('?' * len(values))})")
        params.extend(values)
    return where, params


def _size(state: ServerState, query: Mapping[str, str]) -> int:
    name, default, maximum = state.shape.page_size or ("page_size", 100, 200)
    raw = query.get(name)
    if raw is None:
        return min(default, maximum)
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:  # '²'.isdigit() too
        raise _param_error(name, "A valid integer is required.")
    size = int(text)
    if not 1 <= size <= maximum:
        raise _param_error(name, f"{name} must be between 1 and {maximum}, got {size}.", "min_value")
    return size


def page_window(state: ServerState, query: Mapping[str, str]) -> tuple[int, int]:
    """(limit, offset) of a ``page`` listing."""
    size = _size(state, query)
    name = state.shape.offset_param or "offset"
    raw = query.get(name, "0").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise _param_error(name, "A valid integer is required.")
    return size, int(raw)


def _encode_cursor(sort: list[tuple[str, bool]], reverse: bool, position: list[Any]) -> str:
    raw = orjson.dumps({"s": [[c, d] for c, d in sort], "r": int(reverse), "p": position})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _list_statuses(state: ServerState) -> frozenset[str]:
    return frozenset(str(status) for status in state.contract.operation("list").node.get("responses") or {})


def _bad_cursor() -> ApiError:
    return ApiError(404, [ErrorItem("Invalid cursor", "not_found", title="Invalid cursor")])


def _decode_cursor(raw: str, sort: list[tuple[str, bool]]) -> tuple[bool, list[Any]]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise _bad_cursor() from None
    if (
        not isinstance(data, dict)
        or data.get("s") != [[c, d] for c, d in sort]
        or data.get("r") not in (0, 1)
    ):
        raise _bad_cursor()
    position = data.get("p")
    if not isinstance(position, list) or len(position) != len(sort):
        raise _bad_cursor()
    for (column, _), value in zip(sort, position, strict=True):
        if type(value) not in ((int,) if column == "id" else (int, str, float)):
            raise _bad_cursor()
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise _bad_cursor()  # past SQLite's integer range: would be a 500 (OverflowError)
    return bool(data["r"]), position


def _after(sort: list[tuple[str, bool]], position: list[Any], reverse: bool) -> tuple[str, list[Any]]:
    """SQL condition "row comes after `position` in `sort` order" (before it when ``reverse``)."""
    clauses: list[str] = []
    params: list[Any] = []
    for i, (column, descending) in enumerate(sort):
        forward_op = "<" if descending else ">"
        op = {"<": ">", ">": "<"}[forward_op] if reverse else forward_op
        parts = [f"{c} = ?" for c, _ in sort[:i]] + [f"{column} {op} ?"]
        clauses.append("(" + " AND ".join(parts) + ")")
        params.extend(position[:i])
        params.append(position[i])
    return "(" + " OR ".join(clauses) + ")", params


def wrap_list(pointer: str, items: list[bytes], extra: Mapping[str, Any] | None = None) -> bytes:
    """A list answer: ``items`` (encoded) at ``pointer`` (one member or the body), ``extra`` members first."""
    listed = b"[" + b",".join(items) + b"]"
    tokens = split_pointer(pointer)
    if not tokens:
        return listed
    head = orjson.dumps(dict(extra or {}))[:-1]
    head += b"," if extra else b""
    return head + orjson.dumps(tokens[0]) + b":" + listed + b"}"


def list_items(
    state: ServerState, account: Account, query: Mapping[str, str], url: URL
) -> tuple[bytes, dict[str, str]]:
    where, params = _filters(state, account, query)
    results = state.contract.listing.results if state.contract.listing else "/data"
    if state.contract.listing is not None and state.contract.listing.pagination == "page":
        return _page(state, where, params, query, url, results)
    size = _size(state, query)
    sort = parse_sort(state, query.get("sort"))
    reverse, position = False, None
    cursor_name = state.shape.cursor_param or "cursor"
    if cursor_name in query:
        try:
            reverse, position = _decode_cursor(query[cursor_name], sort)
        except ApiError:
            if "404" in _list_statuses(state) or "400" not in _list_statuses(state):
                raise
            raise _param_error(cursor_name, "Invalid cursor") from None  # the status the spec documents
        condition, extra = _after(sort, position, reverse)
        where.append(condition)
        params.extend(extra)
    order = ", ".join(f"{c} {'DESC' if d != reverse else 'ASC'}" for c, d in sort)
    keys = ", ".join(c for c, _ in sort)
    fetch = size + 2 if state.fault("pagination_skips") else size + 1
    sql = f"{_SELECT}, {keys} FROM items WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    with state.store.read() as conn:
        rows = conn.execute(sql, (*params, fetch)).fetchall()
    more = len(rows) > size
    page = rows[:size]
    if reverse:
        page.reverse()
    has_next = more if not reverse else True
    has_prev = position is not None if not reverse else more
    links = []
    if page and has_next:
        anchor = page[-1]
        if state.fault("pagination_repeats") and len(page) > 1:
            anchor = page[-2]
        if state.fault("pagination_skips") and not reverse and len(rows) > size + 1:
            anchor = rows[size]
        cursor = _encode_cursor(sort, False, list(anchor[6:]))
        links.append(f'<{url.include_query_params(**{cursor_name: cursor})}>; rel="next"')
    if page and has_prev:
        cursor = _encode_cursor(sort, True, list(page[0][6:]))
        links.append(f'<{url.include_query_params(**{cursor_name: cursor})}>; rel="prev"')
    body = wrap_list(results, [item_json(state.shape, ItemRow(*row[:6])) for row in page])
    return body, ({"Link": ", ".join(links)} if links else {})


def _page(
    state: ServerState, where: list[str], params: list[Any], query: Mapping[str, str], url: URL, results: str
) -> tuple[bytes, dict[str, str]]:
    limit, offset = page_window(state, query)
    condition = " AND ".join(where)
    with state.store.read() as conn:
        if where == ["account = ?"]:  # nothing filtered and nothing hidden: the kept count
            count = state.store.item_count(conn, params[0])
        else:
            count = conn.execute(f"SELECT COUNT(*) FROM items WHERE {condition}", params).fetchone()[0]
        rows = conn.execute(
            f"{_SELECT} FROM items WHERE {condition} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
    links = page_links(state, url, limit, offset, int(count))
    return wrap_list(results, [item_json(state.shape, ItemRow(*row)) for row in rows], links), {}


def page_links(state: ServerState, url: URL, limit: int, offset: int, count: int) -> dict[str, Any]:
    """``count``, ``next`` and ``previous`` of a ``page`` listing (the faults shift the next offset)."""
    size_name = (state.shape.page_size or ("limit", 20, 200))[0]
    offset_name = state.shape.offset_param or "offset"
    following = offset + limit
    if state.fault("pagination_repeats"):
        following -= 1
    if state.fault("pagination_skips"):
        following += 1
    next_url = (
        str(url.include_query_params(**{size_name: limit, offset_name: following}))
        if offset + limit < count
        else None
    )
    previous = None
    if offset > 0:
        previous = str(url.include_query_params(**{size_name: limit, offset_name: max(0, offset - limit)}))
    return {"count": count, "next": next_url, "previous": previous}
