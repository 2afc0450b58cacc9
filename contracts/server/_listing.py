"""``GET /orders``: filters, sorting and opaque keyset cursors (stable while orders are inserted)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from ._errors import ApiError, ErrorItem
from ._settings import Account
from ._state import ServerState
from ._storage import OrderRow

__all__ = ["Page", "list_orders"]

_SORT_COLUMNS = {
    "integration": "integration_id",
    "order_number": "order_number",
    "order_created_at": "shop_created_at",
    "order_updated_at": "shop_updated_at",
    "pk": "id",
}
_INT_COLUMNS = {"integration_id", "id"}
_DATE_FILTERS = {
    "order_created_at": ("shop_created_date", "="),
    "order_created_at_min": ("shop_created_date", ">="),
    "order_created_at_max": ("shop_created_date", "<="),
    "order_updated_at": ("shop_updated_date", "="),
    "order_updated_at_min": ("shop_updated_date", ">="),
    "order_updated_at_max": ("shop_updated_date", "<="),
}
_TEXT_FILTERS = {"order_id": "order_id", "order_number": "order_number", "status": "status"}
_SELECT = "SELECT id, integration_id, order_id, body, created_at, modified_at, visible_at"


@dataclass(frozen=True)
class Page:
    rows: list[OrderRow]
    next_cursor: str | None
    prev_cursor: str | None


def _param_error(name: str, detail: str, code: str = "invalid") -> ApiError:
    title = "Invalid Choice" if code == "invalid_choice" else None  # as in the spec's example
    return ApiError(400, [ErrorItem(detail, code, parameter=name, title=title)])


def parse_sort(raw: str | None) -> list[tuple[str, bool]]:
    """[(column, descending)], always ending in the primary key.  Unknown keys → default ``-pk``."""
    default = [("id", True)]
    if not raw:
        return default
    result: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for token in raw.split(","):
        token = token.strip()
        descending = token.startswith("-")
        name = token[1:] if descending else token
        if name not in _SORT_COLUMNS:
            return default
        column = _SORT_COLUMNS[name]
        if column in seen:  # a contradicting (or repeated) key is ignored
            continue
        seen.add(column)
        result.append((column, descending))
        if column == "id":
            break
    if "id" not in seen:
        result.append(("id", True))
    return result


def _filters(state: ServerState, account: Account, query: Mapping[str, str]) -> tuple[list[str], list[Any]]:
    where = ["account = ?", "visible_at <= ?"]
    params: list[Any] = [account.username, time.time()]
    if state.fault("list_ignores_filters"):
        return where, params
    getlist = getattr(query, "getlist", None)  # integration=7&integration=8 means the same as 7,8
    raw_integrations = ",".join(getlist("integration")) if getlist else query.get("integration")
    if raw_integrations == "" and "integration" not in query:
        raw_integrations = None
    if raw_integrations is not None:
        ids: list[int] = []
        for part in raw_integrations.split(","):
            part = part.strip()
            if not (part.isascii() and part.isdigit()) or len(part) > 18:  # '²'.isdigit() too
                raise _param_error("integration", f"A valid integer is required, got {part!r}.")
            ids.append(int(part))
        for integration in ids:
            if integration not in account.integrations:
                detail = f"Select a valid choice. {integration} is not one of the available choices."
                raise _param_error("integration", detail, "invalid_choice")
        where.append(f"integration_id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    for name, column in _TEXT_FILTERS.items():
        if name in query:
            where.append(f"{column} = ? COLLATE NOCASE")
            params.append(query[name])
    for name, (column, op) in _DATE_FILTERS.items():
        value = query.get(name)
        if value is None:
            continue
        try:
            if len(value) != 10:
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError:
            raise _param_error(name, f"Enter a valid date (YYYY-MM-DD), got {value!r}.") from None
        where.append(f"{column} {op} ?")
        params.append(day.isoformat())
    return where, params


def _page_size(query: Mapping[str, str]) -> int:
    raw = query.get("page_size")
    if raw is None:
        return 100
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:  # '²'.isdigit() too
        raise _param_error("page_size", "A valid integer is required.")
    size = int(text)
    if not 1 <= size <= 200:
        raise _param_error("page_size", f"page_size must be between 1 and 200, got {size}.", "min_value")
    return size


def _encode_cursor(sort: list[tuple[str, bool]], reverse: bool, position: list[Any]) -> str:
    raw = orjson.dumps({"s": [[c, d] for c, d in sort], "r": int(reverse), "p": position})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


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
        expected = int if column in _INT_COLUMNS else str
        if type(value) is not expected:
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


def _position(row: tuple[Any, ...], sort: list[tuple[str, bool]]) -> list[Any]:
    return list(row[7 : 7 + len(sort)])


def list_orders(state: ServerState, account: Account, query: Mapping[str, str]) -> Page:
    where, params = _filters(state, account, query)
    size = _page_size(query)
    sort = parse_sort(query.get("sort"))
    reverse, position = False, None
    if "cursor" in query:
        reverse, position = _decode_cursor(query["cursor"], sort)
        condition, extra = _after(sort, position, reverse)
        where.append(condition)
        params.extend(extra)
    order = ", ".join(f"{c} {'DESC' if d != reverse else 'ASC'}" for c, d in sort)
    keys = ", ".join(c for c, _ in sort)
    fetch = size + 2 if state.fault("pagination_skips") else size + 1
    sql = f"{_SELECT}, {keys} FROM orders WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    with state.store.read() as conn:
        rows = conn.execute(sql, (*params, fetch)).fetchall()
    more = len(rows) > size
    page = rows[:size]
    if reverse:
        page.reverse()
    has_next = more if not reverse else True
    has_prev = position is not None if not reverse else more
    next_cursor = prev_cursor = None
    if page and has_next:
        anchor = page[-1]
        if state.fault("pagination_repeats") and len(page) > 1:
            anchor = page[-2]
        if state.fault("pagination_skips") and not reverse and len(rows) > size + 1:
            anchor = rows[size]
        next_cursor = _encode_cursor(sort, False, _position(anchor, sort))
    if page and has_prev:
        prev_cursor = _encode_cursor(sort, True, _position(page[0], sort))
    return Page([OrderRow(*row[:7]) for row in page], next_cursor, prev_cursor)
