"""Cost of the client checks: `check_request` per request, and the middleware's overhead over HTTP.

    .venv/bin/python bench/clients_checker.py            # default: 200 checks per case, 60 HTTP upserts
    .venv/bin/python bench/clients_checker.py --quick    # fewer repetitions

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

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "tests" / "clients"),
]

from clients_support import order, serve_in_thread  # noqa: E402
from karrio_support import batch, karrio_order  # noqa: E402
from karrio_support import headers as karrio_headers  # noqa: E402
from sendcloud_orders import OrderUpsertBatch  # noqa: E402

from contracts.clients import CheckStore, ClientChecker, ClientCheckMiddleware  # noqa: E402

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


def bench_http(requests: int) -> None:
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
    args = parser.parse_args()
    bench_checker(50 if args.quick else 200)
    if not args.no_http:
        bench_http(20 if args.quick else 60)


if __name__ == "__main__":
    main()
