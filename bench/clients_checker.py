"""Cost of the client checks: `check_request` per request, and the middleware's overhead over HTTP.

    .venv/bin/python bench/clients_checker.py            # default: 200 checks per case, 60 HTTP upserts
    .venv/bin/python bench/clients_checker.py --quick    # fewer repetitions
    .venv/bin/python bench/clients_checker.py --cpu      # process CPU time per check (a loaded machine)
    .venv/bin/python bench/clients_checker.py --cpu --source /tmp/old   # the same for another tree

`--cpu` measures process CPU time per `ClientChecker.check` with a check store (as the middleware calls it):
less sensitive than wall-clock medians to other load on the machine. With `--source DIR` the checks are
imported from DIR (e.g. `git archive REV contracts spec generated tests/clients | tar -x -C DIR`), so a
before/after comparison runs the same measurement on both trees in one session.

Baselines measured in the same run: pydantic validation of the same body with the generated
`OrderUpsertBatch` model (what a client or server does anyway), and the same HTTP upserts against the
reference server without the checks. The Karrio contract (wrapped list, token auth) is measured with the
same checker code on bodies of the same sizes.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def use_source(root: Path) -> None:
    """Import the checks (and the test builders) from ``root``: this checkout unless told otherwise."""
    sys.path[:0] = [str(root), str(root / "generated"), str(root / "tests" / "clients")]


AUTH = {
    "Authorization": "Basic " + base64.b64encode(b"demo:demo-secret").decode(),
    "Content-Type": "application/json",
}


def per_call(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def bench_checker(repeat: int) -> None:
    from clients_support import order
    from karrio_support import batch, karrio_order
    from karrio_support import headers as karrio_headers
    from sendcloud_orders import OrderUpsertBatch

    from contracts.clients import ClientChecker

    checker = ClientChecker()
    batch_path = checker.spec.batch_url_path
    print(f"check_request, median of {repeat} (ms):")
    print(f"  {'case':34} {'check':>8} {'pydantic':>9} {'ratio':>6}")
    for size in (1, 100):
        data = json.dumps([order(i) for i in range(size)]).encode()
        check = per_call(lambda d=data: checker.check("POST", batch_path, "", AUTH, d), repeat)
        base = per_call(lambda d=data: OrderUpsertBatch.model_validate_json(d), repeat)
        print(f"  {f'POST batch, {size} order(s)':34} {check:8.2f} {base:9.2f} {check / base:6.1f}x")
    query = "integration=7,739283&page_size=100&order_created_at_min=2024-01-01"
    list_path = checker.spec.base_path + checker.spec.batch_operation.template
    check = per_call(lambda: checker.check("GET", list_path, query, AUTH, b""), repeat)
    print(f"  {'GET list with filters':34} {check:8.2f}")
    karrio = ClientChecker("karrio-batch-orders")
    hdrs = karrio_headers()
    for size in (1, 100):
        data = batch(*(karrio_order(i) for i in range(size)))
        path = karrio.spec.batch_url_path
        check = per_call(lambda d=data, p=path: karrio.check("POST", p, "", hdrs, d), repeat)
        print(f"  {f'karrio POST batch, {size} order(s)':34} {check:8.2f}")


def bench_cpu(repeat: int) -> None:
    """CPU milliseconds per check, Sendcloud and (when the tree has it) Karrio, with a check store."""
    from clients_support import order

    from contracts.clients import CheckStore, ClientChecker

    def cpu(fn: Callable[[], Any], times: int) -> float:
        fn()
        start = time.process_time()
        for _ in range(times):
            fn()
        return (time.process_time() - start) / times * 1000

    store, checker = CheckStore(), ClientChecker()
    batch_path = checker.spec.base_path + "/orders"
    print(f"CPU time per check with a check store, mean of {repeat} (100 orders: of {repeat // 5}) (ms):")
    for size in (1, 100):
        data = json.dumps([order(i) for i in range(size)]).encode()
        n = repeat if size == 1 else max(1, repeat // 5)
        ms = cpu(lambda d=data: checker.check("POST", batch_path, "", AUTH, d, history=store), n)
        print(f"  {f'POST batch, {size} order(s)':40} {ms:8.2f}")
    try:
        from karrio_support import BATCH, OPERATIONS, batch, headers, karrio_order, token

        karrio = ClientChecker("karrio-batch-orders")
    except Exception as exc:  # an older tree: no Karrio contract to measure
        print(f"  karrio: not measured ({type(exc).__name__})")
        return
    for size in (1, 100):
        data = batch(*(karrio_order(i) for i in range(size)))
        n = repeat if size == 1 else max(1, repeat // 5)
        ms = cpu(
            lambda d=data: karrio.check("POST", BATCH, "", headers(), d, history=store, operations=store), n
        )
        print(f"  {f'karrio POST batch, {size} order(s)':40} {ms:8.2f}")
    poll = OPERATIONS + "/batch_1"
    ms = cpu(lambda: karrio.check("GET", poll, "", {"Authorization": token()}, b"", operations=store), repeat)
    print(f"  {'karrio poll of one operation':40} {ms:8.2f}")


def bench_http(requests: int) -> None:
    from clients_support import order, serve_in_thread

    from contracts.clients import CheckStore, ClientChecker, ClientCheckMiddleware
    from contracts.server import ServerSettings, create_app

    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, wrapped in (("plain", False), ("checked", True)):
            app: Any = create_app(ServerSettings(db_path=f"{tmp}/{label}.sqlite3"))
            if wrapped:
                app = ClientCheckMiddleware(app, store=CheckStore(f"{tmp}/checks.sqlite3"))
            with serve_in_thread(app) as url, httpx.Client(base_url=url, headers=AUTH, timeout=60) as http:
                bodies = [
                    json.dumps([order(i, order_id=f"{uuid.uuid4().hex}-{i}") for i in range(100)]).encode()
                    for _ in range(requests + 1)
                ]
                batch_path = ClientChecker().spec.batch_url_path
                assert http.post(batch_path, content=bodies[0]).status_code == 201
                samples = []
                for data in bodies[1:]:
                    start = time.perf_counter()
                    assert http.post(batch_path, content=data).status_code == 201
                    samples.append(time.perf_counter() - start)
                results[label] = statistics.median(samples) * 1000
    plain, checked = results["plain"], results["checked"]
    print(f"HTTP POST batch, 100 orders, median of {requests} sequential requests (ms):")
    print(
        f"  reference server {plain:.1f}, behind ClientCheckMiddleware {checked:.1f} ({checked / plain:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-http", action="store_true", help="only the checker, not the HTTP overhead")
    parser.add_argument("--cpu", action="store_true", help="only CPU time per check (see above)")
    parser.add_argument("--source", type=Path, default=ROOT, help="tree to import the checks from")
    args = parser.parse_args()
    use_source(args.source.resolve())
    if args.cpu:
        bench_cpu(60 if args.quick else 300)
        return
    bench_checker(50 if args.quick else 200)
    if not args.no_http:
        bench_http(20 if args.quick else 60)


if __name__ == "__main__":
    main()
