"""Several worker processes on one SQLite file: claims in the database, no duplicates, delayed visibility."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from srv_helpers import client, db_rows, make_order, unique

from contracts.server import RunningServer, running_server, running_server_in_thread

CONFLICT = {
    "status": "400",
    "code": "invalid",
    "detail": "We are still processing a previous request. Please try again in a moment.",
    "source": {"pointer": "/data"},
}


@pytest.fixture(scope="module")
def two_workers() -> Iterator[RunningServer]:
    with running_server(batch_latency=0.6, workers=2) as started:
        yield started


def _fire(server: RunningServer, batches: list[list[dict[str, object]]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(batches), timeout=10)

    def send(batch: list[dict[str, object]]) -> httpx.Response:
        with client(server) as c:
            barrier.wait()
            return c.post("/orders", json=batch)

    with ThreadPoolExecutor(len(batches)) as pool:
        return list(pool.map(send, batches, timeout=60))


def test_concurrent_identical_batches_conflict_and_never_duplicate(two_workers: RunningServer) -> None:
    batch = [make_order(unique("C"), integration=7 if i % 2 else 739283) for i in range(20)]
    responses = _fire(two_workers, [batch] * 6)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 400}, statuses
    for response in responses:
        if response.status_code == 400:
            assert response.json() == {"errors": [CONFLICT]}
    assert statuses.count(201) >= 1 and statuses.count(400) >= 1, statuses
    winners = {tuple(d["id"] for d in r.json()["data"]) for r in responses if r.status_code == 201}
    assert len(winners) == 1  # every successful answer names the same orders
    with client(two_workers) as c:
        for order in batch:
            found = c.get("/orders", params={"order_id": order["order_id"]}).json()["data"]
            assert len(found) == 1
    duplicates = db_rows(
        two_workers,
        "SELECT account, key, COUNT(*) FROM items GROUP BY 1, 2 HAVING COUNT(*) > 1",
    )
    assert duplicates == []
    assert db_rows(two_workers, "SELECT COUNT(*) FROM processing_claims") == [(0,)]  # all released


def test_disjoint_batches_in_parallel_all_succeed(two_workers: RunningServer) -> None:
    batches = [[make_order(unique("D")) for _ in range(10)] for _ in range(6)]
    responses = _fire(two_workers, batches)
    assert [r.status_code for r in responses] == [201] * 6
    ids = [d["id"] for r in responses for d in r.json()["data"]]
    assert len(set(ids)) == 60


def test_retry_after_conflict_succeeds(two_workers: RunningServer) -> None:
    batch = [make_order(unique("R"))]
    first, second = _fire(two_workers, [batch, batch])
    assert sorted([first.status_code, second.status_code]) == [201, 400]
    with client(two_workers) as c:
        retry = c.post("/orders", json=batch)
    assert retry.status_code == 201
    winner = first if first.status_code == 201 else second
    assert retry.json()["data"][0]["id"] == winner.json()["data"][0]["id"]


def test_processing_delay_hides_new_orders_for_a_while() -> None:
    with running_server_in_thread(processing_delay=0.6) as server, client(server) as c:
        order = make_order()
        pk = c.post("/orders", json=[order]).json()["data"][0]["id"]
        assert c.get(f"/orders/{pk}").status_code == 404
        assert c.get("/orders", params={"order_id": order["order_id"]}).json()["data"] == []
        again = c.post("/orders", json=[order])  # the upsert still finds the pending order
        assert again.json()["data"][0]["id"] == pk
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and c.get(f"/orders/{pk}").status_code == 404:
            time.sleep(0.05)
        assert c.get(f"/orders/{pk}").status_code == 200
