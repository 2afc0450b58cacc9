"""With several worker processes, a worker that dies while it runs an operation does not leave it running
forever: uvicorn starts a new worker, and once the claim is older than its lease (processing delay + 10 s)
the operation is queued again, run once, and every order of it is stored exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from functools import partial
from pathlib import Path

import httpx

from contracts.server import running_server

SPEC = "karrio-batch-orders.yaml"
DELAY = 1.0  # seconds each run waits before it stores: the window in which the workers are killed


def _workers(supervisor: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{supervisor}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return children


def _status(c: httpx.Client, operation: str) -> str:
    return str(c.get(f"/v1/batches/operations/{operation}").json()["status"])


def test_an_operation_of_a_killed_worker_is_run_again_after_its_lease() -> None:
    with running_server(spec_path=SPEC, workers=2, processing_delay=DELAY) as server:
        assert server.pid is not None
        orders = [{"order_id": f"lease-{uuid.uuid4().hex[:8]}", "shipping_to": {"country_code": "NL"},
                   "line_items": [{"weight": 1, "weight_unit": "KG"}]} for _ in range(3)]  # fmt: skip
        with httpx.Client(base_url=server.api_url, headers=server.headers, timeout=10) as c:
            accepted = c.post("/v1/batches/orders", json={"orders": orders})
            assert accepted.status_code == 201, accepted.text
            operation = accepted.json()["id"]
            deadline = time.monotonic() + 10
            while _status(c, operation) != "running" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _status(c, operation) == "running"
            before = set(_workers(server.pid))
            for pid in before:  # the one running it among them; uvicorn starts new ones
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + DELAY + 40
            status = ""
            while time.monotonic() < deadline:
                try:
                    status = _status(c, operation)
                except httpx.HTTPError:  # no worker is listening yet
                    status = ""
                if status in {"completed", "completed_with_errors", "failed"}:
                    break
                time.sleep(0.25)
            assert status == "completed", f"still {status!r} after the lease"
            assert not before & set(_workers(server.pid)), "the workers were replaced"
        conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
        try:
            for order in orders:
                stored = conn.execute("SELECT COUNT(*) FROM items WHERE c0 = ?", (order["order_id"],))
                assert stored.fetchone()[0] == 1, order["order_id"]
        finally:
            conn.close()


def test_only_the_latest_claim_may_finish_an_operation(tmp_path: Path) -> None:
    """A run whose claim lapsed and was taken over cannot finish the operation (its transaction must roll
    back); the run that holds the current claim can."""
    from contracts.contract import load_contract
    from contracts.server._shape import shape_of
    from contracts.server._storage import Store

    store = Store(str(tmp_path / "ops.sqlite3"), shape_of(load_contract(SPEC)), background_checkpoint=False)
    try:
        requeue = partial(store.reset_unfinished, "running", "queued")
        pk = store.add_operation("demo", "queued", b"[]", "2026-01-01T00:00:00.000000Z")
        first = store.claim_operation(pk, "queued", "running", "2026-01-01T00:00:01.000000Z")
        assert first is not None
        assert requeue(claimed_before="2026-01-01T00:00:00.500000Z") == 0  # still leased
        assert requeue(claimed_before="2026-01-01T00:00:12.000000Z") == 1  # lapsed
        second = store.claim_operation(pk, "queued", "running", "2026-01-01T00:00:13.000000Z")
        assert second is not None and second.attempts == first.attempts + 1
        with store.write() as conn:
            late = ("running", first.attempts)
            assert not store.finish_operation(conn, pk, "completed", b"[]", "t", run=late)
            assert store.finish_operation(conn, pk, "completed", b"[]", "t", run=("running", second.attempts))
        row = store.get_operation("demo", pk)
        assert row is not None and row.status == "completed"
        assert requeue(claimed_before="2099-01-01T00:00:00.000000Z") == 0  # finished
    finally:
        store.close()
