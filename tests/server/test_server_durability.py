"""Durable asynchronous operations, for real: uvicorn in a subprocess, batches posted from threads, SIGKILL at
random moments, restart on the same SQLite file.  Afterwards every acknowledged operation exists and finishes,
every order it reports completed is stored under its key, and no key is stored twice."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from contracts.server import RunningServer, running_server

SPEC = "karrio-batch-orders.yaml"
ROUNDS = 5
TERMINAL = {"failed", "completed", "completed_with_errors"}


def _order(order_id: str, source: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "source": source,
        "shipping_to": {"country_code": "NL"},
        "line_items": [{"weight": 1, "weight_unit": "KG"}],
    }


def _post_until_stopped(
    server: RunningServer, keys: list[tuple[str, str]], acked: list[Any], stop: Any
) -> None:
    """Post batches of 3 orders drawn from a small key space (so keys repeat across batches)."""
    rng = random.Random()
    with httpx.Client(base_url=server.api_url, headers=server.headers, timeout=5) as c:
        while not stop.is_set():
            batch = rng.sample(keys, 3)
            try:
                answer = c.post("/v1/batches/orders", json={"orders": [_order(o, s) for o, s in batch]})
            except httpx.HTTPError:
                return  # the server was killed
            if answer.status_code == 201:
                acked.append((answer.json()["id"], batch))


def test_operations_survive_sigkill_at_random_moments(tmp_path: Path) -> None:
    db = str(tmp_path / "karrio.sqlite3")
    run = uuid.uuid4().hex[:6]
    keys = [(f"D-{run}-{n}", source) for n in range(12) for source in ("API", "POS")]
    acked: list[tuple[str, list[tuple[str, str]]]] = []
    rng = random.Random(7)
    for _round in range(ROUNDS):
        with running_server(spec_path=SPEC, db_path=db, processing_delay=0.05) as server:
            assert server.pid is not None
            stop = threading.Event()
            posters = [
                threading.Thread(target=_post_until_stopped, args=(server, keys, acked, stop))
                for _ in range(3)
            ]
            for thread in posters:
                thread.start()
            time.sleep(rng.uniform(0.2, 0.8))
            os.kill(server.pid, signal.SIGKILL)  # no shutdown, no flush: a crash
            stop.set()
            for thread in posters:
                thread.join(10)
    assert acked, "no batch was acknowledged before the kills"

    with (
        running_server(spec_path=SPEC, db_path=db) as server,
        httpx.Client(base_url=server.api_url, headers=server.headers, timeout=10) as c,
    ):
        deadline = time.monotonic() + 60
        finished: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline and len(finished) < len(acked):
            for operation_id, _batch in acked:
                if operation_id not in finished:
                    body = c.get(f"/v1/batches/operations/{operation_id}")
                    assert body.status_code == 200, f"acknowledged operation {operation_id} was lost"
                    if body.json()["status"] in TERMINAL:
                        finished[operation_id] = body.json()
            time.sleep(0.05)
        assert len(finished) == len(acked), "some acknowledged operations never finished after the restart"
        for operation_id, batch in acked:
            operation = finished[operation_id]
            assert operation["status"] == "completed", operation
            assert len(operation["resources"]) == len(batch)
            for (order_id, source), resource in zip(batch, operation["resources"], strict=True):
                stored = c.get(f"/v1/orders/{resource['id']}")
                assert stored.status_code == 200, f"{operation_id} reports {resource} completed; not stored"
                assert (stored.json()["order_id"], stored.json()["source"]) == (order_id, source)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        twice = conn.execute(
            "SELECT key, COUNT(*) FROM items GROUP BY account, key HAVING COUNT(*) > 1"
        ).fetchall()
        pending = conn.execute("SELECT COUNT(*) FROM operations WHERE pending = 1").fetchone()[0]
    finally:
        conn.close()
    assert twice == [] and pending == 0
