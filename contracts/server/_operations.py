"""Asynchronous batches: the batch is checked as a whole, stored as an operation and COMMITTED before the
answer; a bounded background worker moves it through the contract's statuses and stores its items in ONE
transaction with the operation's final status and resources.  A process killed at any moment leaves every
operation either unfinished (resumed at the next start) or finished with all its items stored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.datastructures import URL

from contracts.contract import Contract, deref, pointer_set, split_pointer

from ._batch import Batch, Item, refuse
from ._documents import ISO_FORMAT, encode_body, now_iso
from ._errors import ErrorItem
from ._listing import page_links, page_window, wrap_list
from ._operations_store import OperationRow
from ._settings import Account
from ._shape import object_members
from ._state import ServerState
from ._upsert import commit_prefix, write_items

__all__ = [
    "OperationWorker",
    "create_operation",
    "get_operation",
    "list_operations",
    "statuses",
    "statuses_of",
]

log = logging.getLogger("contracts.server")
MAX_ATTEMPTS = 3
# A run holds its operation for processing_delay + this; after that another process may take it over (the
# process that claimed it died while the others went on serving).  The run that finishes first wins.
LEASE_SECONDS = 10.0
_LOST_ID_OFFSET = 10**12


class _TakenOverError(RuntimeError):
    """This run's claim lapsed and another run took the operation over: nothing of this run is stored."""


def statuses(state: ServerState) -> tuple[str, str, str, str]:
    """(queued, running, completed, failed) in the contract's words."""
    return statuses_of(state.contract)


def statuses_of(contract: Contract) -> tuple[str, str, str, str]:
    operation = contract.processing.operation
    assert operation is not None
    open_statuses = [s for s in operation.statuses if s not in operation.terminal] or [operation.statuses[0]]
    failed = next((s for s in operation.terminal if s not in operation.succeeded), operation.terminal[0])
    return open_statuses[0], open_statuses[-1], operation.succeeded[0], failed


_ANSWER_PLANS: dict[int, tuple[bool, tuple[tuple[str, str, Any], ...]]] = {}


def _answer_plan(state: ServerState) -> tuple[bool, tuple[tuple[str, str, Any], ...]]:
    """(integer operation id?, per other required member: (name, how it is filled, value)), once per spec."""
    found = _ANSWER_PLANS.get(id(state.shape))
    if found is not None:
        return found
    operation = state.contract.processing.operation
    assert operation is not None
    document = state.contract.document
    properties, required = object_members(document, state.shape.operation_schema)
    id_schema = deref(document, properties.get(operation.id.strip("/"), {}))
    named = {
        split_pointer(p)[0] for p in (operation.id, operation.status, operation.resources) if p.strip("/")
    }
    fills: list[tuple[str, str, Any]] = []
    for name in sorted(required - named):
        schema = deref(document, properties.get(name, {}))
        if schema.get("format") == "date-time":
            fills.append((name, "created" if "creat" in name else "updated", None))
        elif "default" in schema:
            fills.append((name, "value", schema["default"]))
        elif schema.get("enum"):
            fills.append((name, "value", schema["enum"][0]))
        else:
            empty = {"boolean": False, "integer": 0, "array": [], "object": {}}.get(schema.get("type"), "")
            fills.append((name, "value", empty))
    found = _ANSWER_PLANS[id(state.shape)] = (id_schema.get("type") == "integer", tuple(fills))
    return found


def _operation_json(state: ServerState, row: OperationRow) -> dict[str, Any]:
    operation = state.contract.processing.operation
    assert operation is not None
    integer_id, fills = _answer_plan(state)
    answer: dict[str, Any] = {}
    pointer_set(answer, operation.id, row.id if integer_id else str(row.id))
    pointer_set(answer, operation.status, row.status)
    pointer_set(answer, operation.resources, orjson.loads(row.resources))
    for name, how, value in fills:
        if name in answer:
            continue
        if how == "created":
            answer[name] = row.created_at
        elif how == "updated":
            answer[name] = row.updated_at
        else:
            answer[name] = value
    return answer


async def create_operation(state: ServerState, account: Account, payload: Any) -> tuple[int, Any]:
    batch = Batch(state, account)
    items, errors = batch.checked(payload, queued=True)  # the documents only: the worker does the rest
    stored = b""
    if not errors:
        try:
            stored = orjson.dumps([[item.index, item.document] for item in items])
        except orjson.JSONEncodeError:  # nested too deeply: the full check below locates it
            errors = [(-1, ErrorItem(""))]
    if errors:  # the full check, so the answer names every problem exactly as a synchronous batch would
        items, errors = batch.checked(payload)
        if errors:
            if state.fault("partial_commit"):
                commit_prefix(batch, items, min(index for index, _ in errors))
            raise refuse(errors)
        stored = orjson.dumps([[item.index, item.document] for item in items])
    queued = statuses(state)[0]
    pk = state.store.add_operation(account.username, queued, stored, now_iso())  # committed here
    state.worker.wake()
    row = state.store.get_operation(account.username, pk)
    assert row is not None
    return state.success_status, _operation_json(state, row)


def parse_operation_id(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


def get_operation(state: ServerState, account: Account, raw: str) -> Any:
    from ._single import not_found

    pk = parse_operation_id(raw)
    row = state.store.get_operation(account.username, pk) if pk is not None else None
    if row is None:
        raise not_found(state)
    return _operation_json(state, row)


def list_operations(state: ServerState, account: Account, query: Mapping[str, str], url: URL) -> bytes:
    limit, offset = page_window(state, query)
    count, rows = state.store.list_operations(account.username, limit, offset)
    results = [orjson.dumps(_operation_json(state, row)) for row in rows]
    pointer = state.contract.listing.results if state.contract.listing else "/results"
    return wrap_list(pointer, results, page_links(state, url, limit, offset, count))


class OperationWorker:
    """Background tasks (bounded in number) that run queued operations of this process's database."""

    def __init__(self, state: ServerState, tasks: int = 2) -> None:
        self.state = state
        self.tasks_wanted = 4 if state.fault("duplicates_under_concurrency") else tasks
        self._event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[int] = set()
        self._next_stale_check = 0.0

    def wake(self) -> None:
        self._event.set()

    def start(self, *, resume: bool) -> None:
        queued, running, _, _ = statuses(self.state)
        if resume:
            moved = self.state.store.reset_unfinished(running, queued)
            if moved:
                log.warning("resuming %d operation(s) a stopped server was running", moved)
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"operations-{n}") for n in range(self.tasks_wanted)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _loop(self) -> None:
        queued, running, _, _ = statuses(self.state)
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.25):
                    await self._event.wait()
            self._event.clear()
            if self.state.fault("never_completes"):
                continue
            self._requeue_stale()
            for pk in list(self.state.store.next_queued(queued, self._busy)):
                if pk in self._busy:
                    continue
                self._busy.add(pk)
                row = None
                try:
                    row = self.state.store.claim_operation(pk, queued, running, now_iso())
                    if row is not None:
                        await self._run(row)
                except asyncio.CancelledError:
                    raise
                except _TakenOverError:
                    log.warning("operation %s was taken over by another run after its lease", pk)
                except Exception:  # nothing of the run was stored: back to the queue (see _give_back)
                    log.exception("operation %s failed while running", pk)
                    if row is not None:
                        self._give_back(row)
                finally:
                    self._busy.discard(pk)

    def lease_seconds(self) -> float:
        return self.state.settings.processing_delay + LEASE_SECONDS

    def _requeue_stale(self) -> None:
        """Every half lease: operations whose claim is older than a lease go back to the queue."""
        now = time.monotonic()
        if now < self._next_stale_check:
            return
        self._next_stale_check = now + self.lease_seconds() / 2
        queued, running = statuses(self.state)[:2]
        claimed_before = datetime.now(UTC) - timedelta(seconds=self.lease_seconds())
        moved = self.state.store.reset_unfinished(
            running, queued, claimed_before=claimed_before.strftime(ISO_FORMAT)
        )
        if moved:
            log.warning("%d operation(s) were running longer than their lease: queued again", moved)
            self.wake()

    def _give_back(self, row: OperationRow) -> None:
        queued, running, _, failed = statuses(self.state)
        store = self.state.store
        with contextlib.suppress(Exception), store.write() as conn:
            if row.attempts > MAX_ATTEMPTS:  # even failing it with one resource per order went wrong
                store.finish_operation(conn, row.id, failed, b"[]", now_iso())
            else:
                store.requeue_operation(conn, row.id, running, queued)
        self.wake()

    async def _run(self, row: OperationRow) -> None:
        state = self.state
        _, _, completed, failed = statuses(state)
        # The operation's own account, even when this start's configuration no longer lists it.
        account = state.accounts.get(row.account) or Account(row.account, "")
        entries = orjson.loads(row.items)
        if row.attempts > MAX_ATTEMPTS:
            resources = [
                self._resource(None, failed, "processing was interrupted too often") for _ in entries
            ]
            with state.store.write() as conn:
                state.store.finish_operation(conn, row.id, failed, orjson.dumps(resources), now_iso())
            return
        if state.settings.processing_delay:
            await asyncio.sleep(state.settings.processing_delay)
        batch = Batch(state, account)
        items = []
        for index, document in entries:
            values, key = batch.key_of(document)
            items.append(Item(index, document, encode_body(state.shape, document), values, key, None))
        racy = state.fault("duplicates_under_concurrency")
        if racy:
            with state.store.read() as conn:
                targets = self._targets(conn, batch, items)
            await asyncio.sleep(0.2)
        final = "done" if state.fault("status_outside_enum") else completed
        with state.store.write() as conn:  # the items and the operation's outcome: one transaction
            if not racy:
                targets = self._targets(conn, batch, items)
            stored = items[:-1] if state.fault("loses_orders") and items else items
            ids = write_items(batch, conn, stored, targets[: len(stored)], duplicates=racy)
            if len(stored) < len(items):
                ids.append(_LOST_ID_OFFSET + int(time.time()))
            if state.fault("resources_name_nothing"):
                ids = [pk + _LOST_ID_OFFSET for pk in ids]
            outcome = orjson.dumps(self._completed(ids, completed))
            run = (statuses(state)[1], row.attempts)
            if not state.store.finish_operation(conn, row.id, final, outcome, now_iso(), run=run):
                raise _TakenOverError(row.id)  # rolls the items back: the run that took it over stores them

    def _targets(self, conn: Any, batch: Batch, items: list[Item]) -> list[Any]:
        found: dict[str, Any] = {}
        for stored in self.state.store.rows_by_keys(conn, batch.account.username, [i.key for i in items]):
            found.setdefault(stored.key, stored)
        return [found.get(item.key) for item in items]

    def _completed(self, ids: list[int], status: str) -> list[dict[str, Any]]:
        """``_resource(pk, status, None)`` for every id; one dict literal each when both members are
        top-level (the usual case), without a pointer walk per resource."""
        contract = self.state.contract
        operation = contract.processing.operation
        assert operation is not None
        id_at, status_at = (
            split_pointer(contract.processing.result_id),
            split_pointer(operation.resource_status or ""),
        )
        if len(id_at) != 1 or len(status_at) > 1:
            return [self._resource(pk, status, None) for pk in ids]
        as_text = contract.key.response_id_type == "string"
        if not status_at:
            return [{id_at[0]: str(pk) if as_text else pk} for pk in ids]
        return [{id_at[0]: str(pk) if as_text else pk, status_at[0]: status} for pk in ids]

    def _resource(self, pk: int | None, status: str, problem: str | None) -> dict[str, Any]:
        contract = self.state.contract
        operation = contract.processing.operation
        assert operation is not None
        entry: dict[str, Any] = {}
        text_ids = contract.key.response_id_type == "string"
        pointer_set(
            entry, contract.processing.result_id, None if pk is None else (str(pk) if text_ids else pk)
        )
        if operation.resource_status:
            pointer_set(entry, operation.resource_status, status)
        if problem is not None and operation.resource_errors:
            pointer_set(entry, operation.resource_errors, {"code": "interrupted", "message": problem})
        return entry
