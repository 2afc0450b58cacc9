"""The synchronous batch write: check a batch, claim its keys, write it in one transaction, answer the
per-item results in request order."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from contracts.contract import pointer_get, pointer_set, split_pointer

from ._batch import Batch, Item, Located, refuse
from ._documents import now_iso, row_values
from ._errors import ApiError, ErrorItem
from ._settings import Account
from ._state import ServerState
from ._storage import ItemRow

__all__ = ["conflict_error", "upsert_batch", "write_items"]


@dataclass
class _Plan:
    """Per item, the stored item it updates or reuses (None: insert)."""

    targets: list[ItemRow | None] = field(default_factory=list)
    errors: list[Located] = field(default_factory=list)


def conflict_error(state: ServerState) -> ApiError:
    conflict = state.contract.conflict
    if conflict is None:
        return ApiError(
            409, [ErrorItem("Another request is saving these items; retry in a moment.", "conflict")]
        )
    return ApiError(
        conflict.status, [ErrorItem(conflict.detail, conflict.code or "invalid", conflict.pointer)]
    )


def _plan(batch: Batch, conn: sqlite3.Connection, items: list[Item]) -> _Plan:
    """Match every item to a stored one (by explicit id, else by key)."""
    state, contract, username = batch.state, batch.contract, batch.account.username
    plan = _Plan()
    by_key: dict[str, ItemRow] = {}
    if not state.fault("no_upsert"):
        for row in state.store.rows_by_keys(conn, username, [item.key for item in items]):
            by_key.setdefault(row.key, row)
    explicit = [item.explicit_id for item in items if item.explicit_id is not None and item.explicit_id > 0]
    by_id = state.store.rows_by_ids(conn, username, explicit) if explicit else {}
    for item in items:
        if item.explicit_id is None:
            plan.targets.append(by_key.get(item.key))
            continue
        found = by_id.get(item.explicit_id)
        plan.targets.append(found)
        if found is None:
            raw = pointer_get(item.document, contract.key.explicit_id or "", item.explicit_id)
            where = split_pointer(contract.key.explicit_id or "")
            plan.errors.append(batch.error(item.index, where, f"Order with id {raw} does not exist"))
            continue
        plan.errors.extend(_changed_members(batch, item, found))
    return plan


def _changed_members(batch: Batch, item: Item, found: ItemRow) -> list[Located]:
    import orjson

    stored = orjson.loads(found.body)
    errors: list[Located] = []
    key = batch.contract.key
    for member in key.immutable:
        before = pointer_get(stored, member, None)
        if before != pointer_get(item.document, member, None) and not batch.state.fault(
            "order_id_change_allowed"
        ):
            errors.append(
                batch.documented(
                    "immutable_changed", item.index, member, "{stored} cannot be changed", stored=before
                )
            )
    for member in key.members:
        if member in key.immutable:
            continue
        before = pointer_get(stored, member, None)
        if before != pointer_get(item.document, member, None):
            detail = f"{member} of order {found.id} cannot be changed (it is {before})"
            errors.append(batch.error(item.index, split_pointer(member), detail))
    return errors


def write_items(
    batch: Batch,
    conn: sqlite3.Connection,
    items: list[Item],
    targets: list[ItemRow | None],
    *,
    visible_after: float = 0.0,
    duplicates: bool = False,
    stamps: list[tuple[str, str]] | None = None,
) -> list[int]:
    """Insert, update or reuse every item (inside the caller's write transaction); their ids in order.
    ``duplicates``: insert under a fresh ``dup`` value (the faults that store one key twice); ``stamps``
    receives each item's stored (created, modified) timestamps, in order."""
    state = batch.state
    now, stamp = time.time(), now_iso()
    reuse = batch.contract.key.existing == "reuse" and not state.fault("updates_instead_of_reusing")
    collapse = batch.contract.batch.duplicate_keys != "last_wins"
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[int, tuple[Any, ...]]] = []
    rekeys: list[tuple[int, str]] = []
    slots: list[tuple[bool, int]] = []  # (new, position in inserts) or (stored, id)
    pending: dict[str, int] = {}
    for item, target in zip(items, targets, strict=True):
        if target is None:
            if item.key in pending:
                position = pending[item.key]
                if not collapse:
                    inserts[position] = _row(batch, item, stamp, stamp, now + visible_after, 0)
                slots.append((True, position))
                continue
            dup = secrets.randbits(62) + 1 if duplicates or state.fault("no_upsert") else 0
            if not dup:
                pending[item.key] = len(inserts)
            slots.append((True, len(inserts)))
            inserts.append(_row(batch, item, stamp, stamp, now + visible_after, dup))
            continue
        slots.append((False, target.id))
        if reuse:
            continue
        updates.append((target.id, _row(batch, item, target.created_at, stamp, target.visible_at, 0)))
        if target.key and target.key != item.key and state.fault("order_id_change_allowed"):
            rekeys.append((target.id, item.key))
    if stamps is not None:
        for target in targets:
            if target is None:
                stamps.append((stamp, stamp))
            else:
                stamps.append((target.created_at, target.modified_at if reuse else stamp))
    new_ids = state.store.insert_many(conn, inserts)
    state.store.update_many(conn, updates, {t.id: t.indexed for t in targets if t is not None})
    state.store.rekey_many(conn, rekeys)
    return [new_ids[value] if new else value for new, value in slots]


def _row(batch: Batch, item: Item, created: str, modified: str, visible: float, dup: int) -> tuple[Any, ...]:
    return row_values(
        batch.shape, batch.account.username, item.key, item.document, item.body,
        created_at=created, modified_at=modified, visible_at=visible, dup=dup,
    )  # fmt: skip


async def upsert_batch(state: ServerState, account: Account, payload: Any) -> tuple[int, Any]:
    """Run one batch; (status, answer body) or ApiError with every problem found."""
    batch = Batch(state, account)
    items, errors = batch.checked(payload)
    if errors:
        if state.fault("partial_commit"):
            commit_prefix(batch, items, min(index for index, _ in errors))
        raise refuse(errors)
    store = state.store
    keys = sorted({item.key for item in items})
    stamps: list[tuple[str, str]] = []
    if state.fault("no_conflict_detection"):
        ids = await _racy_write(batch, items, stamps)
    elif not state.settings.batch_latency:
        # Processing is one write transaction: claims are only checked, never materialised.
        ids = _write(batch, items, keys, None, stamps)
    else:
        token = uuid.uuid4().hex
        ttl = state.settings.claim_ttl + state.settings.batch_latency  # a crashed request's claims expire
        if not store.claim(account.username, keys, token, time.time(), ttl):
            raise conflict_error(state)
        try:
            await asyncio.sleep(state.settings.batch_latency)
            ids = _write(batch, items, keys, token, stamps)
        except BaseException:
            store.release(account.username, keys, token)
            raise
    return _answer(state, items, ids, stamps)


def _answer(
    state: ServerState, items: list[Item], ids: list[int], stamps: list[tuple[str, str]]
) -> tuple[int, Any]:
    """The results the spec's result schema describes: the id, the members it copies from the stored item
    and the server's timestamps it names (``stamps``: each item's stored (created, modified))."""
    contract, shape = state.contract, state.shape
    as_text = contract.key.response_id_type == "string" or state.fault("id_as_string")
    id_tokens = split_pointer(contract.processing.result_id)
    members = shape.result_members
    stamped = [(name, creation) for name, creation in shape.server_stamps if name in members]
    results: list[Any] = []
    for pk, item, (created, modified) in zip(ids, items, stamps, strict=True):
        value = str(pk) if as_text else pk
        result: dict[str, Any]
        if len(id_tokens) == 1:
            result = {id_tokens[0]: value}
        else:
            result = {}
            pointer_set(result, contract.processing.result_id, value)
        document = item.document
        for member in members:
            if member in document:
                result[member] = document[member]
        for name, creation in stamped:
            result[name] = created if creation else modified
        results.append(result)
    if state.fault("results_reversed"):
        results.reverse()
    body: Any = {}
    pointer_set(body, contract.processing.results or "/data", results)
    return (200 if state.fault("status_200") else state.success_status), body


def _write(
    batch: Batch, items: list[Item], keys: list[str], token: str | None, stamps: list[tuple[str, str]]
) -> list[int]:
    """One write transaction: match, apply, release our claims (or check nobody holds one)."""
    state, username = batch.state, batch.account.username
    with state.store.write() as conn:
        if token is None and state.store.claims_held(conn, username, keys, time.time()):
            raise conflict_error(state)
        plan = _plan(batch, conn, items)
        if plan.errors:
            if state.fault("partial_commit"):
                first = min(index for index, _ in plan.errors)
                kept = [(i, t) for i, t in zip(items, plan.targets, strict=True) if i.index < first]
                write_items(batch, conn, [i for i, _ in kept], [t for _, t in kept])
                if token is not None:
                    state.store.release_in(conn, username, keys, token)
                conn.execute("COMMIT")
                conn.execute("BEGIN")
            raise refuse(plan.errors)
        ids = write_items(
            batch, conn, items, plan.targets, visible_after=state.settings.processing_delay, stamps=stamps
        )
        if token is not None:
            state.store.release_in(conn, username, keys, token)
    return ids


async def _racy_write(batch: Batch, items: list[Item], stamps: list[tuple[str, str]]) -> list[int]:
    """The ``no_conflict_detection`` fault: look up, wait, then write without looking again."""
    state = batch.state
    with state.store.read() as conn:
        plan = _plan(batch, conn, items)
    if plan.errors:
        raise refuse(plan.errors)
    await asyncio.sleep(max(state.settings.batch_latency, 0.2))  # a wide window: the race is reliable
    with state.store.write() as conn:
        return write_items(batch, conn, items, plan.targets, duplicates=True, stamps=stamps)


def commit_prefix(batch: Batch, items: list[Item], first_bad: int) -> None:
    """The ``partial_commit`` fault: store the items before the first failing one."""
    prefix = [item for item in items if item.index < first_bad]
    if not prefix:
        return
    with batch.state.store.write() as conn:
        plan = _plan(batch, conn, prefix)
        write_items(batch, conn, prefix, plan.targets)
