"""``POST /orders``: validate a batch, claim its keys, upsert it in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ._documents import DocumentTooDeepError, encode_body, now_iso, stored_order
from ._errors import ApiError, ErrorItem
from ._settings import Account
from ._state import ServerState
from ._storage import OrderRow, Store, StoredOrder
from ._validation import to_pointer, validate_batch

__all__ = ["upsert_batch"]

_MAX_SQLITE_INT = 2**63 - 1


@dataclass(frozen=True)
class _Item:
    index: int
    document: dict[str, Any]
    body: bytes
    integration_id: int
    order_id: str
    order_number: str
    explicit_id: int | None  # the request's `id`, when given (-1: not a usable integer)


@dataclass
class _Plan:
    """What the write transaction will do: per item, the id of the order it updates (or None)."""

    targets: list[OrderRow | None] = field(default_factory=list)
    errors: list[tuple[int, ErrorItem]] = field(default_factory=list)


def _explicit_id(raw: Any) -> int | None:
    """The request's string `id` as an integer; -1 when it cannot name a stored order."""
    if raw is None:
        return None
    text = str(raw)
    if not text.isdigit() or len(text) > 19 or int(text) > _MAX_SQLITE_INT:
        return -1
    return int(text)


class _Batch:
    def __init__(self, state: ServerState, account: Account) -> None:
        self.state = state
        self.rules = state.rules
        self.account = account

    # -- pointers and errors -------------------------------------------------------------------------

    def pointer(self, index: int, path: str = "") -> str:
        if self.state.fault("pointer_index_off_by_one"):
            index += 1
        if self.state.fault("pointer_without_path"):
            path = ""
        return self.rules.pointer(index, path)

    def error(self, index: int, path: str, detail: str) -> tuple[int, ErrorItem]:
        return index, ErrorItem(detail, pointer=self.pointer(index, path))

    # -- checks before any storage access ------------------------------------------------------------

    def check_shape(self, payload: Any) -> list[Any]:
        rules = self.rules
        if not isinstance(payload, list):
            raise ApiError(
                400, [ErrorItem(rules.not_a_list_detail, rules.not_a_list_code, title="Wrong format")]
            )
        limit: float = rules.max_items
        if self.state.fault("no_batch_limit"):
            limit = float("inf")
        elif self.state.fault("limit_off_by_one"):
            limit += 1
        if len(payload) > limit:
            detail = rules.too_many_detail.format(max=rules.max_items, count=len(payload))
            raise ApiError(400, [ErrorItem(detail, pointer=rules.whole_batch_pointer)])
        if len(payload) < rules.min_items:
            detail = f"Orders list should have at least {rules.min_items} item, not {len(payload)}"
            raise ApiError(400, [ErrorItem(detail, pointer=rules.whole_batch_pointer)])
        if self.state.fault("integer_id_accepted"):
            for item in payload:
                if isinstance(item, dict) and type(item.get("id")) is int:
                    item["id"] = str(item["id"])
        return payload

    def validate(self, payload: list[Any]) -> tuple[list[_Item], list[tuple[int, ErrorItem]]]:
        errors: list[tuple[int, ErrorItem]] = []
        for issue in validate_batch(payload):
            index = issue.path[0] if issue.path and isinstance(issue.path[0], int) else 0
            errors.append(self.error(index, to_pointer(issue.path[1:]), issue.message))
        bad = {index for index, _ in errors}
        items: list[_Item] = []
        for index, document in enumerate(payload):
            if index in bad:
                continue
            try:
                body = encode_body(document)
            except DocumentTooDeepError:
                errors.append(self.error(index, "", "Order nests too deeply (more than 250 levels)"))
                continue
            explicit = _explicit_id(document.get("id"))
            items.append(
                _Item(
                    index,
                    document,
                    body,
                    int(document["order_details"]["integration"]["id"]),
                    document["order_id"],
                    document["order_number"],
                    explicit,
                )
            )
        return items, errors

    def key(self, item: _Item) -> tuple[int, str]:
        if self.state.fault("upsert_ignores_integration"):
            return 0, item.order_id
        return item.integration_id, item.order_id

    def check_business(self, items: list[_Item]) -> list[tuple[int, ErrorItem]]:
        errors: list[tuple[int, ErrorItem]] = []
        owned = set(self.account.integrations)
        first_seen: dict[tuple[int, str], int] = {}
        for item in items:
            if item.integration_id not in owned and not self.state.fault("foreign_integration_accepted"):
                detail = self.rules.unknown_integration_detail.format(id=item.integration_id)
                errors.append(self.error(item.index, "/order_details/integration/id", detail))
            key = self.key(item)
            if key in first_seen:
                detail = self.rules.duplicate_key_detail.format(
                    order_id=item.order_id, integration_id=item.integration_id, first=first_seen[key]
                )
                errors.append(self.error(item.index, "/order_id", detail))
            else:
                first_seen[key] = item.index
        return errors

    # -- storage -------------------------------------------------------------------------------------

    def plan(self, conn: sqlite3.Connection, items: list[_Item]) -> _Plan:
        """Match every item to an existing order (by explicit id, else by upsert key)."""
        username = self.account.username
        plan = _Plan()
        by_key: dict[tuple[int, str], OrderRow] = {}
        if not self.state.fault("no_upsert"):
            if self.state.fault("upsert_ignores_integration"):
                rows = Store.rows_by_order_ids(conn, username, [item.order_id for item in items])
            else:
                rows = Store.rows_by_keys(
                    conn, username, [(item.integration_id, item.order_id) for item in items]
                )
            ignore_integration = self.state.fault("upsert_ignores_integration")
            for row in rows:
                by_key.setdefault((0 if ignore_integration else row.integration_id, row.order_id), row)
        explicit_ids = [
            item.explicit_id for item in items if item.explicit_id is not None and item.explicit_id > 0
        ]
        by_id = Store.rows_by_ids(conn, username, explicit_ids, with_body=False) if explicit_ids else {}
        for item in items:
            if item.explicit_id is None:
                plan.targets.append(by_key.get(self.key(item)))
                continue
            found = by_id.get(item.explicit_id)
            plan.targets.append(found)
            if found is None:
                detail = f"Order with id {item.document['id']} does not exist"
                plan.errors.append(self.error(item.index, "/id", detail))
            elif found.order_id != item.order_id and not self.state.fault("order_id_change_allowed"):
                detail = self.rules.order_id_changed_detail.format(order_id=found.order_id)
                plan.errors.append(self.error(item.index, "/order_id", detail))
            elif found.integration_id != item.integration_id:
                detail = f"Integration of order {found.id} cannot be changed (it is {found.integration_id})"
                plan.errors.append(self.error(item.index, "/order_details/integration/id", detail))
        return plan

    def apply(
        self, conn: sqlite3.Connection, items: list[_Item], targets: list[OrderRow | None]
    ) -> list[int]:
        now, stamp = time.time(), now_iso()
        delay = self.state.settings.processing_delay
        inserts: list[StoredOrder] = []
        updates: list[tuple[int, StoredOrder]] = []
        renames: list[tuple[int, str]] = []
        ids: list[int | None] = []
        for item, target in zip(items, targets, strict=True):
            if target is None:
                row = stored_order(
                    self.account.username, item.document, item.body,
                    created_at=stamp, modified_at=stamp, visible_at=now + delay,
                )  # fmt: skip
                inserts.append(row)
                ids.append(None)
            else:
                row = stored_order(
                    self.account.username, item.document, item.body,
                    created_at=target.created_at, modified_at=stamp, visible_at=target.visible_at,
                )  # fmt: skip
                updates.append((target.id, row))
                ids.append(target.id)
                if target.order_id != item.order_id:  # only with the order_id_change_allowed fault
                    renames.append((target.id, item.order_id))
        new_ids = iter(Store.insert_many(conn, inserts))
        Store.update_many(conn, updates)
        Store.rename_many(conn, renames)
        return [next(new_ids) if known is None else known for known in ids]


async def upsert_batch(
    state: ServerState, account: Account, payload: Any
) -> tuple[int, list[dict[str, Any]]]:
    """Run one batch; returns (status, data) or raises :class:`ApiError` with every problem found."""
    batch = _Batch(state, account)
    items, errors = batch.validate(batch.check_shape(payload))
    if not errors:
        errors = batch.check_business(items)
    if errors:
        if state.fault("partial_commit"):
            _commit_prefix(state, batch, items, min(index for index, _ in errors))
        raise ApiError(400, [item for _, item in sorted(errors, key=lambda pair: pair[0])])

    store = state.store
    keys = sorted({(item.integration_id, item.order_id) for item in items})
    if state.fault("no_conflict_detection"):
        ids = await _racy_write(state, batch, items)
    elif not state.settings.batch_latency:
        # Processing is one write transaction: claims are only checked, never materialised.
        ids = _write(state, batch, items, keys, None)
    else:
        token = uuid.uuid4().hex
        ttl = state.settings.claim_ttl + state.settings.batch_latency  # a crashed request's claims expire
        if not store.claim(account.username, keys, token, time.time(), ttl):
            raise _conflict(state)
        try:
            await asyncio.sleep(state.settings.batch_latency)
            ids = _write(state, batch, items, keys, token)
        except BaseException:
            store.release(account.username, keys, token)
            raise
    data: list[dict[str, Any]] = [
        {
            "id": str(pk) if state.fault("id_as_string") else pk,
            "order_id": item.order_id,
            "order_number": item.order_number,
        }
        for pk, item in zip(ids, items, strict=True)
    ]
    if state.fault("results_reversed"):
        data.reverse()
    return (200 if state.fault("status_200") else 201), data


def _conflict(state: ServerState) -> ApiError:
    return ApiError(400, [ErrorItem(state.rules.conflict_detail, pointer=state.rules.conflict_pointer)])


def _write(
    state: ServerState, batch: _Batch, items: list[_Item], keys: list[tuple[int, str]], token: str | None
) -> list[int]:
    """One write transaction: match, apply, release our claims (or check nobody holds one)."""
    username = batch.account.username
    with state.store.write() as conn:
        if token is None and Store.claims_held(conn, username, keys, time.time()):
            raise _conflict(state)
        plan = batch.plan(conn, items)
        if plan.errors:
            if state.fault("partial_commit"):
                first = min(index for index, _ in plan.errors)
                kept = [(i, t) for i, t in zip(items, plan.targets, strict=True) if i.index < first]
                batch.apply(conn, [i for i, _ in kept], [t for _, t in kept])
                if token is not None:
                    Store.release_in(conn, username, keys, token)
                conn.execute("COMMIT")
                conn.execute("BEGIN")
            raise ApiError(400, [item for _, item in sorted(plan.errors, key=lambda pair: pair[0])])
        ids = batch.apply(conn, items, plan.targets)
        if token is not None:
            Store.release_in(conn, username, keys, token)
    return ids


async def _racy_write(state: ServerState, batch: _Batch, items: list[_Item]) -> list[int]:
    """The ``no_conflict_detection`` fault: look up, wait, then write without looking again."""
    with state.store.read() as conn:
        plan = batch.plan(conn, items)
    if plan.errors:
        raise ApiError(400, [item for _, item in sorted(plan.errors, key=lambda pair: pair[0])])
    await asyncio.sleep(max(state.settings.batch_latency, 0.2))  # a wide window: the race is reliable
    with state.store.write() as conn:
        return batch.apply(conn, items, plan.targets)


def _commit_prefix(state: ServerState, batch: _Batch, items: list[_Item], first_bad: int) -> None:
    """The ``partial_commit`` fault: store the orders before the first failing one."""
    prefix = [item for item in items if item.index < first_bad]
    if not prefix:
        return
    with state.store.write() as conn:
        plan = batch.plan(conn, prefix)
        batch.apply(conn, prefix, plan.targets)
