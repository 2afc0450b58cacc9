"""Load benchmark of the reference server against Stoplight Prism, side by side in one run.

    .venv/bin/python bench/server_load.py                     # both specs, 10 s per scenario, 4 connections
    .venv/bin/python bench/server_load.py --duration 5 --specs sendcloud
    .venv/bin/python bench/server_load.py --rounds 3            # each server 3 times per mix: medians
    .venv/bin/python bench/server_load.py --memory 1000000    # also: RSS and list latency at 1M stored orders

Write side: ``wrk`` (``apt-get install -y wrk``) with ``bench/wrk_upsert.lua`` POSTs 100-order batches
(~75 KB) to the batch operation, all-new keys and all-existing keys, at the reference server (1 worker, a
fresh SQLite file: every batch is stored) and at Prism mocking the same spec (``bench/prism.py`` finds or
installs it; it validates the request and answers an example, storing nothing).  The two alternate per
scenario, so both see the same machine load; CPU per request is each server's own user+system time from
``/proc``.  For an asynchronous spec (Karrio) the timed part is the accept path (validate, store the
operation, answer 202); the background worker's throughput is reported as orders saved per second, while
the load runs and after it until the queue is empty.

``--memory N`` fills a Sendcloud database to N orders directly (the server's own row code, one transaction
per 50,000 rows), starts the server on it and reports RSS, the first page and a page N/2 deep through the
keyset cursor (medians of 20 requests).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "generated"), str(Path(__file__).resolve().parent)]

from prism import prism_command, running_prism  # noqa: E402

from contracts.contract import load_contract  # noqa: E402
from contracts.server import RunningServer, running_server  # noqa: E402

BATCH = 100
_MARK_A, _MARK_B = b"AAAAAAAAAAAA", b"BBBBBBBBBBBB"
_WRK_SCRIPT = Path(__file__).with_name("wrk_upsert.lua")
SPECS = {"sendcloud": "sendcloud-orders-v3.yaml", "karrio": "karrio-batch-orders.yaml"}


def sendcloud_order(order_id: str, integration: int) -> dict[str, Any]:
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


def karrio_order(order_id: str, integration: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "order_date": "2024-03-01",
        "source": "shop" if integration % 2 else "API",
        "shipping_to": {
            "person_name": "John Doe",
            "company_name": "Candles & Co",
            "address_line1": "Stadhuisplein 15",
            "postal_code": "5341AB",
            "city": "Oss",
            "country_code": "NL",
            "email": "john@example.com",
            "phone_number": "+31612345678",
        },
        "line_items": [
            {
                "title": "Cylinder candle",
                "sku": "CC-1",
                "quantity": 2,
                "weight": 0.5,
                "weight_unit": "KG",
                "value_amount": 7.0,
                "value_currency": "EUR",
            },
            {
                "title": "Orange card",
                "quantity": 1,
                "weight": 0.05,
                "weight_unit": "KG",
                "value_amount": 3.5,
                "value_currency": "EUR",
            },
        ],  # fmt: skip
        "options": {"signature_required": False},
        "metadata": {"channel": "web", "campaign": "spring"},
    }


def template(dialect: str) -> bytes:
    """A 100-order body: orders 0..49 are A-000..A-049, 50..99 are B-000..B-049; the markers are replaced per
    request (putting the previous B token in A makes half the keys existing)."""
    make = sendcloud_order if dialect == "sendcloud" else karrio_order
    orders = [
        make(
            f"{(_MARK_A if i < BATCH // 2 else _MARK_B).decode()}-{i % (BATCH // 2):03d}",
            7 if i % 2 else 739283,
        )
        for i in range(BATCH)
    ]
    body: Any = orders if dialect == "sendcloud" else {"orders": orders}
    return orjson.dumps(body)


# -- measuring --------------------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    found = [pid]
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in children:
            found.extend(_descendants(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a process and its live descendants (uvicorn workers, node)."""
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
    total = 0
    for proc in _descendants(pid):
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # the batch operation's URL
    header: tuple[str, str]
    pid: int


def run_wrk(target: Target, body: bytes, mix: str, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run; requests, req/s, p50/p99 and the target's CPU ms per request."""
    with tempfile.NamedTemporaryFile(suffix=".json") as template_file:
        template_file.write(body)
        template_file.flush()
        env = dict(
            os.environ,
            BENCH_TEMPLATE=template_file.name,
            BENCH_MIX=mix,
            BENCH_RUN=uuid.uuid4().hex[:4],
            BENCH_AUTH_HEADER=target.header[0],
            BENCH_AUTH=target.header[1],
        )
        threads = max(1, min(2, connections))
        if mix == "existing":  # create the keys first, so every timed request names stored keys
            warm = ["wrk", "-t", str(threads), "-c", str(threads), "-d", "1s", "-s", str(_WRK_SCRIPT)]
            subprocess.run([*warm, target.url], env=env, capture_output=True, check=True, timeout=60)
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "10s"]
        cpu_before = cpu_seconds(target.pid)
        out = subprocess.run(
            [*cmd, "-s", str(_WRK_SCRIPT), target.url],
            env=env, capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
        cpu = cpu_seconds(target.pid) - cpu_before
    match = re.search(r"RESULT (.*)", out)
    if not match:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    r = {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())}
    if r["non2xx"] or r["socket_errors"]:
        raise SystemExit(f"wrk saw failures against {target.name}: {r}")
    elapsed = r["duration_us"] / 1e6
    return {
        "requests": r["requests"],
        "req_s": r["requests"] / elapsed,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "cpu_ms": 1000 * cpu / max(r["requests"], 1),
    }


def _count(db_path: str, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each measure's median over the rounds (req/s, p50, p99 and CPU each on its own)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def _stored_orders(db_path: str) -> int:
    return _count(db_path, "SELECT COUNT(*) FROM items")


def _pending_operations(db_path: str) -> int:
    return _count(db_path, "SELECT COUNT(*) FROM operations WHERE pending = 1")


# -- the write benchmark ------------------------------------------------------------------------------------


@contextmanager
def server_from(tree: Path, spec: str) -> Iterator[tuple[str, int]]:
    """The reference server of another source tree (an older commit, e.g. ``git archive REV | tar -x``),
    started like ``running_server`` does (settings in the environment), 1 worker, a fresh database;
    yields (base URL, pid)."""
    import socket
    import urllib.request

    from contracts.server import SETTINGS_ENV, ServerSettings

    folder = tempfile.mkdtemp(prefix="orders-contract-before-")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = ServerSettings(host="127.0.0.1", port=port, db_path=f"{folder}/before.sqlite3", spec_path=spec)
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{tree / 'generated'}")
    env[SETTINGS_ENV] = orjson.dumps(settings.to_json_dict()).decode()
    quiet = subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "contracts.server"], cwd=tree, env=env,
                            stdout=quiet, stderr=quiet, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server of {tree} did not start") from None
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _check_accepted(target: Target, body: bytes) -> None:
    """One request by hand first: the body must be accepted (a 4xx would make wrk's numbers meaningless)."""
    sample = body.replace(_MARK_A, b"probe" + uuid.uuid4().hex[:7].encode()).replace(_MARK_B, b"probeB")
    headers = {target.header[0]: target.header[1], "content-type": "application/json"}
    answer = httpx.post(target.url, content=sample, headers=headers, timeout=30)
    if answer.status_code >= 300:
        raise SystemExit(
            f"{target.name} refused the benchmark body: {answer.status_code} {answer.text[:300]}"
        )


def write_side(dialect: str, args: argparse.Namespace, prism: list[str] | None) -> None:
    spec = SPECS[dialect]
    contract = load_contract(spec)
    operation = contract.batch_write
    body = template(dialect)
    print(f"\n## {dialect} ({spec}): POST {contract.base_path}{operation.path}, {BATCH} orders, "
          f"{len(body) / 1024:.1f} KiB, {contract.processing.mode}")  # fmt: skip
    print("| mix | server | req/s (median; range) | p50 ms | p99 ms | CPU ms/req | reference req/s ÷ this "
          "| reference CPU ÷ this |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with ExitStack() as stack:
        ours: RunningServer = stack.enter_context(running_server(spec_path=spec, workers=1))
        assert ours.pid is not None
        header = next(iter(ours.headers.items()))
        targets = [Target("reference", ours.api_url + operation.path, header, ours.pid)]
        if contract.processing.asynchronous:  # the accept path alone: a worker that never gets to run
            idle: RunningServer = stack.enter_context(
                running_server(spec_path=spec, workers=1, processing_delay=3600)
            )
            assert idle.pid is not None
            targets.append(Target("reference, accept only", idle.api_url + operation.path, header, idle.pid))
        if args.also_workers > 1:  # not the goal's setting (1 worker): what a second process would add
            workers = args.also_workers
            many: RunningServer = stack.enter_context(running_server(spec_path=spec, workers=workers))
            assert many.pid is not None
            name = f"reference, {workers} workers"
            targets.append(Target(name, many.api_url + operation.path, header, many.pid))
        if args.before is not None:
            url, pid = stack.enter_context(server_from(args.before, spec))
            base = contract.base_path + operation.path
            targets.append(Target(f"reference before ({args.before.name})", url + base, header, pid))
        if prism is not None:
            for name, level in (("Prism", "info"), ("Prism quiet", "warn")):
                url, pid = stack.enter_context(running_prism(prism, ROOT / "spec" / spec, log_level=level))
                targets.append(Target(name, url + operation.path, header, pid))
        for target in targets:
            _check_accepted(target, body)
        asynchronous = contract.processing.asynchronous
        for mix_no, mix in enumerate(args.mixes):
            runs: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
            background = ""
            for round_no in range(args.rounds):
                order = targets if (mix_no + round_no) % 2 == 0 else targets[::-1]  # alternate the order
                for target in order:
                    # the background worker's throughput, from the reference's first run of this mix
                    watched = target.name == "reference" and asynchronous and not background
                    saved_before = _stored_orders(ours.db_path) if watched else 0
                    started = time.monotonic()
                    runs[target.name].append(run_wrk(target, body, mix, args.connections, args.duration))
                    if watched:
                        r = runs[target.name][-1]
                        background = _background(ours.db_path, mix, r, saved_before, started)
            results = {name: _median_run(found) for name, found in runs.items()}
            baseline = ("Prism", "reference before")
            mine = [results[t.name] for t in targets if not t.name.startswith(baseline)]  # in table order
            for target in targets:
                name, r = target.name, results[target.name]
                ratio = cpu_ratio = "–"
                if name.startswith(baseline):  # each reference row against this baseline (in row order)
                    ratio = " / ".join(f"{m['req_s'] / r['req_s']:.2f}x" for m in mine)
                    cpu_ratio = " / ".join(f"{m['cpu_ms'] / r['cpu_ms']:.2f}" for m in mine)
                spread = ""
                if args.rounds > 1:
                    rates = sorted(run["req_s"] for run in runs[name])
                    spread = f" ({rates[0]:.0f}–{rates[-1]:.0f})"
                print(f"| {mix} | {name} | {r['req_s']:.0f}{spread} | {r['p50_ms']:.1f} | "
                      f"{r['p99_ms']:.1f} | {r['cpu_ms']:.2f} | {ratio} | {cpu_ratio} |")  # fmt: skip
            if background:
                print(background)


def _background(db_path: str, mix: str, r: dict[str, float], before: int, started: float) -> str:
    """Orders the worker saved while the load ran, and how long the queue took to empty afterwards."""
    load_seconds = time.monotonic() - started
    during = _stored_orders(db_path) - before
    deadline = time.monotonic() + 600
    while _pending_operations(db_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    total = time.monotonic() - started
    saved = _stored_orders(db_path) - before
    accepted = int(r["requests"]) * BATCH
    return (
        f"  background ({mix} keys): {during / load_seconds:.0f} orders/s "
        f"saved while accepting {r['req_s'] * BATCH:.0f} orders/s; queue empty {total - load_seconds:.1f} s "
        f"after the load; {accepted} orders accepted, {saved} new rows stored, "
        f"{accepted / total:.0f} orders/s processed from the first request to the empty queue"
    )


# -- memory and the read side at N stored orders --------------------------------------------------------


def fill(db_path: str, total: int, dialect: str = "sendcloud") -> float:
    """``total`` orders written straight into a new database with the server's own row code."""
    from contracts.server._documents import (
        complete_item,
        encode_body,
        key_text,
        key_values,
        now_iso,
        row_values,
    )
    from contracts.server._shape import shape_of
    from contracts.server._storage import Store

    shape = shape_of(load_contract(SPECS[dialect]))
    make = sendcloud_order if dialect == "sendcloud" else karrio_order
    store = Store(db_path, shape, background_checkpoint=False)
    start, stamp = time.perf_counter(), now_iso()
    try:
        for first in range(0, total, 50_000):
            rows = []
            for n in range(first, min(total, first + 50_000)):
                document = complete_item(shape, make(f"M{n:08d}", 7 if n % 2 else 739283))
                key = key_text(key_values(shape, document))
                body = encode_body(shape, document)
                rows.append(row_values(shape, "demo", key, document, body,
                                       created_at=stamp, modified_at=stamp, visible_at=0.0))  # fmt: skip
            with store.write() as conn:
                store.insert_many(conn, rows)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return time.perf_counter() - start


def _median_ms(client: httpx.Client, url: str, repeat: int = 20) -> float:
    for _ in range(3):  # warm: connection, page cache
        client.get(url)
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        answer = client.get(url)
        times.append(time.perf_counter() - begin)
        assert answer.status_code == 200, answer.text[:200]
    return 1000 * statistics.median(times)


def memory(total: int) -> None:
    """RSS and list latencies at ``total`` stored orders, each latency beside GET /health (the HTTP floor)."""
    folder = tempfile.mkdtemp(prefix="orders-contract-bench-")
    try:
        for dialect in ("sendcloud", "karrio"):
            db_path = str(Path(folder) / f"{dialect}.sqlite3")
            seconds = fill(db_path, total, dialect)
            size = Path(db_path).stat().st_size / 2**20
            print(f"\n## {total:,} stored orders ({dialect}): filled in {seconds:.0f} s, "
                  f"database {size:.0f} MiB")  # fmt: skip
            print("| measure | value |\n| --- | --- |")
            with running_server(db_path=db_path, workers=1, spec_path=SPECS[dialect]) as server:
                assert server.pid is not None
                print(f"| server RSS after start | {rss_mib(server.pid):.0f} MiB |")
                headers = server.headers
                with httpx.Client(base_url=server.api_url, headers=headers, timeout=60) as client:
                    health = _median_ms(client, server.base_url + "/health")
                    print(f"| baseline: GET /health (HTTP and client), median of 20 | {health:.2f} ms |")
                    reads = _cursor_reads if dialect == "sendcloud" else _offset_reads
                    for name, value in reads(client, server, total):
                        print(f"| {name} | {value} |")
                print(f"| server RSS after these reads | {rss_mib(server.pid):.0f} MiB |")
            Path(db_path).unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cursor_reads(client: httpx.Client, server: RunningServer, total: int) -> Iterator[tuple[str, str]]:
    yield "first page (100 orders), median of 20", f"{_median_ms(client, server.api_url + '/orders'):.2f} ms"
    filtered = _median_ms(client, server.api_url + "/orders?order_id=M00000042")
    yield "`order_id` filter, median of 20", f"{filtered:.2f} ms"
    answer = client.get("/orders", params={"page_size": 200})
    depth, started = 200, time.perf_counter()
    while depth < total // 2:
        answer = client.get(answer.links["next"]["url"])
        depth += 200
    walk, pages = time.perf_counter() - started, depth // 200
    deep = answer.links["next"]["url"]
    yield (
        f"page {depth:,} orders deep via the keyset cursor (100 orders), median of 20",
        (f"{_median_ms(client, deep.replace('page_size=200', 'page_size=100')):.2f} ms"),
    )
    yield "same cursor, 200 orders", f"{_median_ms(client, deep):.2f} ms"
    yield f"walking {pages} pages of 200 to get there", f"{walk:.1f} s ({1000 * walk / pages:.2f} ms/page)"


def _offset_reads(client: httpx.Client, server: RunningServer, total: int) -> Iterator[tuple[str, str]]:
    url = server.api_url + server.contract.operation("list").path
    yield "first page (with `count`), median of 20", f"{_median_ms(client, url):.2f} ms"
    deep = f"{url}?offset={total // 2}"
    yield (
        f"page at offset {total // 2:,} (limit/offset pagination), median of 20",
        (f"{_median_ms(client, deep):.2f} ms"),
    )


@contextmanager
def _load_note() -> Iterator[None]:
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start "
        "(other processes share the cores: compare the side-by-side ratios and CPU ms per request)"
    )
    yield
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--specs", nargs="*", choices=sorted(SPECS), default=["sendcloud", "karrio"])
    parser.add_argument(
        "--mixes", nargs="+", choices=["new", "half", "existing"], default=["new", "existing"]
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="alternating runs per server and mix; medians are printed"
    )
    parser.add_argument(
        "--also-workers", type=int, default=0, metavar="N", help="also the reference server with N workers"
    )
    parser.add_argument("--no-prism", action="store_true", help="skip the Prism baseline")
    parser.add_argument("--before", type=Path, metavar="TREE", help="also the server of this source tree")
    parser.add_argument("--memory", type=int, default=0, metavar="N", help="also fill N orders and read")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("error: wrk is not installed; install it with `apt-get install -y wrk`")
    prism = None if args.no_prism else prism_command()
    with _load_note():
        for dialect in args.specs:
            write_side(dialect, args, prism)
        if args.memory:
            memory(args.memory)


if __name__ == "__main__":
    main()
