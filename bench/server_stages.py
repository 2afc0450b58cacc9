"""Where one 100-order POST goes inside the reference server: each stage timed alone, in this process.

    .venv/bin/python bench/server_stages.py              # Sendcloud (synchronous: the whole write)
    .venv/bin/python bench/server_stages.py --spec karrio

Every stage runs on fresh bodies (all-new keys) and the fastest of ``--repeat`` runs is kept: on a shared
machine the minimum is the closest to the cost of the work itself.  Baselines in the same run: the detailed
pydantic validation the fast check replaces, and a whole request through the ASGI app (no socket).  Uses the
server's private modules on purpose (a benchmark of its internals).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import inspect
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "generated"), str(Path(__file__).resolve().parent)]

from server_load import _MARK_A, _MARK_B, SPECS, template  # noqa: E402

from contracts.server import RunningServer, ServerSettings, create_app  # noqa: E402
from contracts.server._batch import Batch  # noqa: E402
from contracts.server._http import _has_long_digit_run  # noqa: E402
from contracts.server._upsert import _answer, _plan, write_items  # noqa: E402


def fastest(repeat: int, work: Callable[[Any], Any], setup: Callable[[], Any] = lambda: None) -> float:
    best = float("inf")
    for _ in range(repeat):
        argument = setup()
        start = time.perf_counter()
        work(argument)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", choices=sorted(SPECS), default="sendcloud")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="orders-contract-stages-")
    app = create_app(ServerSettings(db_path=str(Path(folder) / "s.sqlite3"), spec_path=SPECS[args.spec]))
    state = app.state.server
    account = state.settings.accounts[0]
    body = template(args.spec)

    def fresh() -> bytes:
        return body.replace(_MARK_A, uuid.uuid4().hex[:12].encode()).replace(
            _MARK_B, uuid.uuid4().hex[:12].encode()
        )

    def checked_items() -> list[Any]:
        batch = Batch(state, account)
        return batch.validate(batch.items_of(orjson.loads(fresh())))[0]

    rows: list[tuple[str, float]] = []
    batch = Batch(state, account)
    items = batch.items_of(orjson.loads(fresh()))
    rows.append(("`orjson.loads` of the body", fastest(args.repeat, orjson.loads, fresh)))
    rows.append(("scan for integers beyond 64 bits (19 digits in a row)",
                 fastest(args.repeat, _has_long_digit_run, fresh)))  # fmt: skip
    validators = state.validators
    rows.append(("fast check (jsonschema_rs, never looser than pydantic)",
                 fastest(args.repeat, lambda _: validators.accepts(items))))  # fmt: skip
    pydantic = fastest(args.repeat, lambda _: validators.batch(items))
    state.validators = dataclasses.replace(validators, accepts=lambda _: True)  # the loop alone
    rows.append(
        (
            "items prepared: documents, stored JSON, keys",
            fastest(args.repeat, lambda _: batch.validate(items)),
        )
    )
    accepted = batch.validate(items)[0]
    state.validators = validators
    rows.append(
        ("ownership and duplicate keys", fastest(args.repeat, lambda _: batch.check_business(accepted)))
    )
    store = state.store
    if not state.contract.processing.asynchronous:
        parts: dict[str, float] = {}
        for _ in range(args.repeat):
            fresh_items = checked_items()
            timings = {}
            start = time.perf_counter()
            store.conn.execute("BEGIN IMMEDIATE")
            timings["SQLite: BEGIN IMMEDIATE + claim check"] = time.perf_counter() - start
            store.claims_held(store.conn, account.username, [i.key for i in fresh_items], time.time())
            start = time.perf_counter()
            plan = _plan(batch, store.conn, fresh_items)
            timings["SQLite: look up the 100 keys"] = time.perf_counter() - start
            start = time.perf_counter()
            write_items(batch, store.conn, fresh_items, plan.targets)
            timings["rows built + SQLite INSERT of 100 rows (4 indexes)"] = time.perf_counter() - start
            start = time.perf_counter()
            store.conn.execute("COMMIT")
            timings["SQLite: COMMIT (WAL append)"] = time.perf_counter() - start
            for name, value in timings.items():
                parts[name] = min(parts.get(name, float("inf")), 1000 * value)
        rows += list(parts.items())
        ids = list(range(1, len(accepted) + 1))
        extra = [[("s", "s")] * len(ids)] if "stamps" in inspect.signature(_answer).parameters else []
        rows.append(
            (
                "answer built and encoded",
                fastest(args.repeat, lambda _: orjson.dumps(_answer(state, accepted, ids, *extra)[1])),
            )
        )
    total = sum(value for _, value in rows)
    print(f"{args.spec}, {len(items)} orders, {len(body) / 1024:.1f} KiB; fastest of {args.repeat}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("| stage | ms |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value:.3f} |")
    print(f"| **sum of the stages** | **{total:.3f}** |")
    print(f"| baseline: pydantic's detailed validation (what the fast check replaces) | {pydantic:.3f} |")
    whole = asyncio.run(_through_app(app, fresh, args.repeat))
    print(f"| baseline: the whole request through the ASGI app, no socket (fastest) | {whole[0]:.3f} |")
    print(f"| baseline: GET /health through the ASGI app | {whole[1]:.3f} |")


async def _through_app(app: Any, fresh: Callable[[], bytes], repeat: int) -> tuple[float, float]:
    state = app.state.server
    header = next(iter(RunningServer("http://t", state.settings, "").headers.items()))
    path = state.contract.base_path + state.contract.batch_write.path

    async def call(method: str, target: str, body: bytes) -> int:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": target, "raw_path": target.encode(), "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"t"), (b"content-type", b"application/json"),
                        (header[0].lower().encode(), header[1].encode()),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
        }  # fmt: skip
        chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    best_post = best_health = float("inf")
    async with app.router.lifespan_context(app):
        for _ in range(repeat):
            payload = fresh()
            start = time.perf_counter()
            assert await call("POST", path, payload) < 300
            best_post = min(best_post, time.perf_counter() - start)
            start = time.perf_counter()
            await call("GET", "/health", b"")
            best_health = min(best_health, time.perf_counter() - start)
    return 1000 * best_post, 1000 * best_health


if __name__ == "__main__":
    main()
