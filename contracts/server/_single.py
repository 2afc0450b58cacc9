"""Read one, update (PATCH, deep merge; list items matched by ``name``) and delete one stored item."""

from __future__ import annotations

import time
from typing import Any

import orjson

from contracts.contract import BoundOperation, join_pointer, pointer_get, pointer_set, split_pointer

from ._batch import Batch
from ._documents import DocumentTooDeepError, complete_item, encode_body, item_json, now_iso, row_values
from ._errors import ApiError, ErrorItem, documented_item
from ._settings import Account
from ._state import ServerState
from ._storage import ItemRow

__all__ = ["delete_item", "get_item", "not_found", "parse_pk", "patch_item", "wrap_item"]

_NOT_FOUND = "The order could not be found with the search criteria given"
Errors = list[tuple[str, str]]  # (pointer, detail)


def not_found(state: ServerState) -> ApiError:
    status, item = documented_item(
        state.shape, "not_found", detail=_NOT_FOUND, code="not_found", title="Not found"
    )
    return ApiError(status or 404, [item])


def parse_pk(state: ServerState, raw: str, operation: BoundOperation) -> int:
    """The stored id in ``operation``'s path; a malformed one is a 400 where ids are integers and the
    operation documents a 400, else simply not found."""
    if not raw.isdigit() or not raw.isascii():
        if state.contract.key.response_id_type == "integer" and _documents_400(operation):
            raise ApiError(400, [ErrorItem("A valid integer is required.", parameter="id")])
        raise not_found(state)
    if len(raw) > 19:
        raise not_found(state)
    pk = int(raw)
    if not 1 <= pk < 2**63:
        raise not_found(state)
    return pk


def _documents_400(operation: BoundOperation) -> bool:
    responses = operation.node.get("responses")
    return isinstance(responses, dict) and any(str(status) in ("400", "4XX") for status in responses)


def wrap_item(pointer: str, encoded: bytes) -> bytes:
    tokens = split_pointer(pointer)
    return encoded if not tokens else b"{" + orjson.dumps(tokens[0]) + b":" + encoded + b"}"


def get_item(state: ServerState, account: Account, pk: int) -> bytes:
    row = state.store.get(account.username, pk, time.time())
    if row is None:
        raise not_found(state)
    return wrap_item(state.contract.resource.item, item_json(state.shape, row))


def delete_item(state: ServerState, account: Account, pk: int) -> None:
    if not state.store.delete(account.username, pk, time.time(), noop=state.fault("delete_noop")):
        raise not_found(state)


def _merge(base: Any, patch: Any, path: tuple[int | str, ...], errors: Errors) -> Any:
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, list) and _named_items(base.get(key)) and _named_items(value):
            merged[key] = _merge_items(base.get(key), value, path + (key,), errors)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value, path + (key,), errors)
        else:
            merged[key] = value
    return merged


def _named_items(value: Any) -> bool:
    """A list of objects that carry a ``name``: a PATCH changes its items found by name."""
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def _merge_items(base: Any, patch: list[Any], path: tuple[int | str, ...], errors: Errors) -> list[Any]:
    items = [dict(item) for item in base] if isinstance(base, list) else []
    positions = {item.get("name"): i for i, item in enumerate(items) if isinstance(item, dict)}
    for n, change in enumerate(patch):
        name = change.get("name") if isinstance(change, dict) else None
        if name not in positions:
            # The spec's example writes this location the vendor's way (not RFC 6901); kept verbatim.
            errors.append(("order" + join_pointer(path), "Could not find specified item."))
            continue
        i = positions[name]
        items[i] = _merge(items[i], change, path + (n,), errors)
    return items


def patch_item(state: ServerState, account: Account, pk: int, payload: Any) -> bytes:
    if not isinstance(payload, dict):
        raise ApiError(400, [ErrorItem("Wrong request format, expected an object", "non_field_errors")])
    check = state.validators.partial
    issues = check(payload) if check is not None else []
    if issues:
        raise ApiError(400, [ErrorItem(i.message, location=join_pointer(i.path)) for i in issues])
    id_member = state.contract.resource.id
    sent_id = pointer_get(payload, id_member, None)
    if sent_id is not None and sent_id != str(pk):
        raise ApiError(
            400, [ErrorItem(f"id {sent_id} does not match the order in the path", location=id_member)]
        )
    with state.store.write() as conn:
        row = state.store.rows_by_ids(conn, account.username, [pk]).get(pk)
        if row is None or row.visible_at > time.time():
            raise not_found(state)
        return _apply_patch(state, account, conn, row, payload)


def _apply_patch(
    state: ServerState, account: Account, conn: Any, row: ItemRow, payload: dict[str, Any]
) -> bytes:
    current = orjson.loads(row.body)
    errors: Errors = []
    key = state.contract.key
    for member in key.immutable:
        sent = pointer_get(payload, member, None)
        stored = pointer_get(current, member, None)
        if sent is not None and sent != stored and not state.fault("order_id_change_allowed"):
            detail = f"{stored} cannot be changed"
            found = state.contract.errors.get("immutable_changed")
            errors.append((member, found.render(stored=stored) if found else detail))
    for member in key.members:
        sent = pointer_get(payload, member, None)
        if member not in key.immutable and sent is not None and sent != pointer_get(current, member, None):
            errors.append((member, f"{member} of order {row.id} cannot be changed"))
    top = split_pointer(id_member := state.contract.resource.id)[0] if state.contract.resource.id else "id"
    merged = _merge(current, {k: v for k, v in payload.items() if k != top}, (), errors)
    del id_member
    if not errors:
        errors.extend((join_pointer(i.path), i.message) for i in state.validators.item(merged))
    try:
        body = encode_body(state.shape, complete_item(state.shape, merged))
    except DocumentTooDeepError:
        errors.append(("/data", "Order nests too deeply (more than 250 levels)"))
        body = b""
    if errors:
        raise ApiError(400, [ErrorItem(message, location=where or "/data") for where, message in errors])
    batch = Batch(state, account)
    _values, new_key = batch.key_of(merged)
    if not state.fault("patch_ignores_fields"):
        stored = row_values(
            state.shape, account.username, new_key, merged, body,
            created_at=row.created_at, modified_at=now_iso(), visible_at=row.visible_at,
        )  # fmt: skip
        state.store.update_many(conn, [(row.id, stored)])
        if new_key != row.key:  # only with the order_id_change_allowed fault
            state.store.rekey_many(conn, [(row.id, new_key)])
    result: dict[str, Any] = {}
    pointer_set(
        result, state.contract.resource.id, row.id if key.response_id_type == "integer" else str(row.id)
    )
    for member in state.shape.update_members:
        if member in merged:
            result[member] = merged[member]
    return wrap_item(state.contract.resource.item, orjson.dumps(result))
