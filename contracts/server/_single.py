"""``GET / PATCH / DELETE /orders/{id}``; PATCH deep-merges (order items matched by ``name``)."""

from __future__ import annotations

import time
from typing import Any

import orjson

from ._documents import DocumentTooDeepError, encode_body, now_iso, stored_order
from ._errors import ApiError, ErrorItem
from ._settings import Account
from ._state import ServerState
from ._storage import OrderRow, Store
from ._validation import to_pointer, validate_order, validate_partial

__all__ = ["delete_order", "get_order", "parse_order_pk", "patch_order"]

_NOT_FOUND = "The order could not be found with the search criteria given"
# The spec's example writes this pointer the way Sendcloud does (not RFC 6901); kept verbatim.
_ITEM_NOT_FOUND_POINTER = "order/order_details/order_items"
Errors = list[tuple[str, str]]  # (pointer, detail)


def not_found() -> ApiError:
    return ApiError(404, [ErrorItem(_NOT_FOUND, "not_found", title="Not found")])


def parse_order_pk(raw: str) -> int:
    if not raw.isdigit() or not raw.isascii():
        raise ApiError(400, [ErrorItem("A valid integer is required.", parameter="id")])
    if len(raw) > 19:
        raise not_found()
    pk = int(raw)
    if not 1 <= pk < 2**63:
        raise not_found()
    return pk


def get_order(state: ServerState, account: Account, pk: int) -> OrderRow:
    row = state.store.get(account.username, pk, time.time())
    if row is None:
        raise not_found()
    return row


def delete_order(state: ServerState, account: Account, pk: int) -> None:
    if not state.store.delete(account.username, pk, time.time(), noop=state.fault("delete_noop")):
        raise not_found()


def _merge(base: Any, patch: Any, path: tuple[int | str, ...], errors: Errors) -> Any:
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    merged = dict(base)
    for key, value in patch.items():
        if path + (key,) == ("order_details", "order_items") and isinstance(value, list):
            merged[key] = _merge_items(base.get(key), value, path + (key,), errors)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, path + (key,), errors)
        else:
            merged[key] = value
    return merged


def _merge_items(base: Any, patch: list[Any], path: tuple[int | str, ...], errors: Errors) -> list[Any]:
    items = [dict(item) for item in base] if isinstance(base, list) else []
    positions = {item.get("name"): i for i, item in enumerate(items) if isinstance(item, dict)}
    for n, change in enumerate(patch):
        name = change.get("name") if isinstance(change, dict) else None
        if name not in positions:
            errors.append((_ITEM_NOT_FOUND_POINTER, "Could not find specified item."))
            continue
        i = positions[name]
        items[i] = _merge(items[i], change, path + (n,), errors)
    return items


def patch_order(state: ServerState, account: Account, pk: int, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ApiError(400, [ErrorItem("Wrong request format, expected an object", "non_field_errors")])
    issues = validate_partial(payload)
    if issues:
        raise ApiError(400, [ErrorItem(i.message, pointer=to_pointer(i.path)) for i in issues])
    if "id" in payload and payload["id"] != str(pk):
        raise ApiError(
            400, [ErrorItem(f"id {payload['id']} does not match the order in the path", pointer="/id")]
        )
    with state.store.write() as conn:
        rows = Store.rows_by_ids(conn, account.username, [pk])
        row = rows.get(pk)
        if row is None or row.visible_at > time.time():
            raise not_found()
        return _apply_patch(state, account, conn, row, payload)


def _apply_patch(
    state: ServerState, account: Account, conn: Any, row: OrderRow, payload: dict[str, Any]
) -> dict[str, Any]:
    current = orjson.loads(row.body)
    errors: Errors = []
    if (
        "order_id" in payload
        and payload["order_id"] != row.order_id
        and not state.fault("order_id_change_allowed")
    ):
        errors.append(("/order_id", state.rules.order_id_changed_detail.format(order_id=row.order_id)))
    details = payload.get("order_details")
    integration = details.get("integration") if isinstance(details, dict) else None
    new_integration = integration.get("id") if isinstance(integration, dict) else None
    if new_integration is not None and new_integration != row.integration_id:
        errors.append(("/order_details/integration/id", f"Integration of order {row.id} cannot be changed"))
    merged = _merge(current, {k: v for k, v in payload.items() if k != "id"}, (), errors)
    if not errors:
        errors.extend((to_pointer(i.path), i.message) for i in validate_order(merged))
    try:
        body = encode_body(merged)
    except DocumentTooDeepError:
        errors.append(("/data", "Order nests too deeply (more than 250 levels)"))
        body = b""
    if errors:
        raise ApiError(400, [ErrorItem(message, pointer=pointer or "/data") for pointer, message in errors])
    if not state.fault("patch_ignores_fields"):
        stored = stored_order(
            account.username, merged, body,
            created_at=row.created_at, modified_at=now_iso(), visible_at=row.visible_at,
        )  # fmt: skip
        Store.update_many(conn, [(row.id, stored)])
        if stored.order_id != row.order_id:  # only with the order_id_change_allowed fault
            Store.rename_many(conn, [(row.id, stored.order_id)])
    return {"id": row.id, "order_id": merged["order_id"], "order_number": merged["order_number"]}
