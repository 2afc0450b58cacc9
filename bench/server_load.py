"""Load benchmark of the reference server: 100-order batches over HTTP, with a validation-only baseline.

    .venv/bin/python bench/server_load.py               # 10 s per scenario, 4 connections
    .venv/bin/python bench/server_load.py --duration 3  # quicker

The server runs in a subprocess (1 worker, then 2); the load comes from another process: ``wrk`` with
``bench/wrk_upsert.lua`` when it is installed (``apt-get install wrk``), else httpx threads in this process
(``--loadgen httpx``; slower, so it measures the client as much as the server).  Baseline, measured in the
same run: ``orjson.loads`` + pydantic validation of the same 100-order payload in this process, i.e. the
ceiling of a single-core server that did nothing but parse and validate.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import TypeAdapter  # noqa: E402
from sendcloud_orders.models import OrderUpsert  # noqa: E402

from contracts.server import RunningServer, running_server  # noqa: E402

BATCH = 100
_MARK_A, _MARK_B = b"AAAAAAAAAAAA", b"BBBBBBBBBBBB"


def _order(order_id: str, integration: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "order_number": "ON-" + order_id,
        "order_details": {
            "integration": {"id": integration},
            "status": {"code": "fulfilled", "message": "Fulfilled"},
            "order_created_at": "2024-03-01T10:00:00.555Z",
            "order_updated_at": "2024-03-02T11:05:15.634Z",
            "order_items": [
                {
                    "name": "Cylinder candle",
                    "quantity": 2,
                    "sku": "CC-1",
                    "total_price": {"value": 7.0, "currency": "EUR"},
                },
                {"name": "Orange card", "quantity": 1, "total_price": {"value": 3.5, "currency": "EUR"}},
            ],
        },
        "payment_details": {
            "total_price": {"value": 10.5, "currency": "EUR"},
            "status": {"code": "paid", "message": "Paid"},
        },
        "customer_details": {"name": "John Doe", "email": "john@example.com", "phone_number": "+31612345678"},
        "shipping_address": {
            "name": "John Doe",
            "address_line_1": "Stadhuisplein",
            "house_number": "15",
            "postal_code": "5341AB",
            "city": "Oss",
            "country_code": "NL",
        },
    }


def template() -> bytes:
    """A 100-order body: orders 0..49 are A-000..A-049, 50..99 are B-000..B-049 (integration by parity).

    The markers are replaced per request; putting the previous B token in A makes half the keys existing.
    """
    orders = [
        _order(
            f"{(_MARK_A if i < BATCH // 2 else _MARK_B).decode()}-{i % (BATCH // 2):03d}",
            7 if i % 2 else 739283,
        )
        for i in range(BATCH)
    ]
    return orjson.dumps(orders)


def baseline(body: bytes, seconds: float) -> tuple[float, float]:
    """(wall seconds, CPU seconds) per orjson.loads + whole-batch validation of one 100-order body.

    The server's validation: strict JSON-mode pydantic on the generated models, on the re-encoded items.
    """
    adapter = TypeAdapter(list[OrderUpsert])
    runs, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        adapter.validate_json(orjson.dumps(orjson.loads(body)), strict=True)
        runs += 1
    return (time.perf_counter() - start) / runs, (time.process_time() - cpu_start) / runs


def _fresh() -> bytes:
    return uuid.uuid4().hex[:12].encode()


BodyMaker = Callable[[], bytes]


def _mix(body: bytes, mix: str) -> BodyMaker:
    """A per-connection body generator for one upsert mix."""
    state = {"a": _fresh(), "b": _fresh()}

    def make() -> bytes:
        if mix == "new":
            state["a"], state["b"] = _fresh(), _fresh()
        elif mix == "half":  # first half: the keys of the previous request's second half
            state["a"], state["b"] = state["b"], _fresh()
        return body.replace(_MARK_A, state["a"]).replace(_MARK_B, state["b"])

    return make


def run_load(
    server: RunningServer, body: bytes, mix: str, connections: int, seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        make = _mix(body, mix)
        mine: list[float] = []
        with httpx.Client(base_url=server.api_url, auth=server.auth, timeout=30) as client:
            if mix == "existing":
                client.post("/orders", content=make(), headers={"content-type": "application/json"})
            while time.perf_counter() < deadline:
                payload = make()
                start = time.perf_counter()
                response = client.post(
                    "/orders", content=payload, headers={"content-type": "application/json"}
                )
                mine.append(time.perf_counter() - start)
                if response.status_code != 201:
                    with lock:
                        failures.append(f"{response.status_code} {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    begin = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.perf_counter() - begin
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[0]}")
    latencies.sort()
    return {
        "requests": len(latencies),
        "req_s": len(latencies) / elapsed,
        "orders_s": len(latencies) * BATCH / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


_WRK_SCRIPT = Path(__file__).with_name("wrk_upsert.lua")


def run_wrk(
    server: RunningServer, body: bytes, mix: str, connections: int, seconds: float
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".json") as template_file:
        template_file.write(body)
        template_file.flush()
        env = dict(
            os.environ,
            BENCH_TEMPLATE=template_file.name,
            BENCH_MIX=mix,
            BENCH_RUN=uuid.uuid4().hex[:4],
            BENCH_AUTH="Basic " + base64.b64encode(f"{server.username}:{server.password}".encode()).decode(),
        )
        threads = max(1, min(2, connections))
        if mix == "existing":  # create the keys first, so every timed request is an update
            warm = ["wrk", "-t", str(threads), "-c", str(threads), "-d", "1s", "-s", str(_WRK_SCRIPT)]
            subprocess.run(
                [*warm, server.api_url + "/orders"], env=env, capture_output=True, check=True, timeout=60
            )
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s"]
        out = subprocess.run(
            [*cmd, "-s", str(_WRK_SCRIPT), server.api_url + "/orders"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    match = re.search(r"RESULT (.*)", out)
    if not match:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    r = {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())}
    if r["non2xx"] or r["socket_errors"]:
        raise SystemExit(f"wrk saw failures: {r}")
    elapsed = r["duration_us"] / 1e6
    return {
        "requests": r["requests"],
        "req_s": r["requests"] / elapsed,
        "orders_s": r["requests"] * BATCH / elapsed,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
    }


def _descendants(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            found.extend(_descendants(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a process and its live descendants (uvicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in _descendants(pid):
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _timed_get(client: httpx.Client, url: str, params: dict[str, Any] | None, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url, params=params)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:200]
    return 1000 * statistics.median(times)


def read_side(server: RunningServer, body: bytes, total: int) -> dict[str, float]:
    """Fill to `total` stored orders, then RSS and GET /orders latencies at that size."""
    with httpx.Client(base_url=server.api_url, auth=server.auth, timeout=60) as client:
        count = _count_orders(server)
        make = _mix(body, "new")
        while count < total:
            response = client.post("/orders", content=make(), headers={"content-type": "application/json"})
            assert response.status_code == 201, response.text[:200]
            count += BATCH
        result = {"orders": float(count)}
        if server.pid:
            result["rss_mib"] = rss_mib(server.pid)
        result["first_page_ms"] = _timed_get(client, "/orders", None, 20)
        result["filtered_ms"] = _timed_get(
            client,
            "/orders",
            {"integration": "739283", "status": "FULFILLED", "order_created_at_min": "2024-03-01"},
            20,
        )
        result["by_order_id_ms"] = _timed_get(client, "/orders", {"order_id": "x-unknown"}, 20)
        response = client.get("/orders", params={"page_size": 200})
        for _ in range(min(250, count // 200 - 2)):  # up to 50,000 orders deep
            response = client.get(response.links["next"]["url"])
        result["deep_cursor_ms"] = _timed_get(client, response.links["next"]["url"], None, 20)
        if server.pid:
            result["rss_after_reads_mib"] = rss_mib(server.pid)
    return result


def _count_orders(server: RunningServer) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--fill", type=int, default=100_000, help="orders stored before the read benchmark")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--reads-only", action="store_true", help="skip the write scenarios")
    args = parser.parse_args()
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "httpx"
    load = run_wrk if loadgen == "wrk" else run_load

    body = template()
    per_call, per_call_cpu = baseline(body, min(args.duration, 3.0))
    ceiling = 1 / per_call
    print(f"payload: {BATCH} orders, {len(body) / 1024:.1f} KiB; load generator: {loadgen}, "
          f"{args.connections} connections, {args.duration:g} s per scenario")  # fmt: skip
    print(f"baseline (this process): orjson.loads + pydantic validation = {1000 * per_call:.2f} ms wall, "
          f"{1000 * per_call_cpu:.2f} ms CPU → ceiling {ceiling:.0f} req/s ({ceiling * BATCH:.0f} orders/s) "
          "on one core")  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start "
          "(other processes share the cores; CPU ms/req = the server's own CPU time)")  # fmt: skip
    columns = (
        "workers",
        "mix",
        "req/s",
        "orders/s",
        "p50 ms",
        "p99 ms",
        "vs ceiling",
        "CPU vs base",
        "CPU ms/req",
        "1-core req/s",
    )
    widths = (7, 9, 8, 9, 7, 7, 10, 11, 10, 12)
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for workers in [] if args.reads_only else args.workers:
        with running_server(workers=workers) as server:
            for mix in ("new", "half", "existing"):
                assert server.pid is not None
                cpu_before = cpu_seconds(server.pid)
                r = load(server, body, mix, args.connections, args.duration)
                cpu_ms = 1000 * (cpu_seconds(server.pid) - cpu_before) / r["requests"]
                print(f"{workers:>7} {mix:>9} {r['req_s']:>8.1f} {r['orders_s']:>9.0f} {r['p50_ms']:>7.1f} "
                      f"{r['p99_ms']:>7.1f} {r['req_s'] / ceiling:>10.2f} "
                      f"{cpu_ms / 1000 / per_call_cpu:>11.2f} {cpu_ms:>10.2f} "
                      f"{1000 / cpu_ms:>12.0f}")  # fmt: skip
    if args.fill < 1000:
        return
    with running_server(workers=1) as server:
        reads = read_side(server, body, args.fill)
    print("read side (1 worker): " + ", ".join(f"{k}={v:.1f}" for k, v in reads.items()))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
