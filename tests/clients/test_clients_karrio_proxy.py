"""Karrio clients through the real proxy and middleware, over 127.0.0.1: requests and answers are checked
against spec/karrio-batch-orders.yaml, and the asynchronous rules see what the operation answers said.

The upstream is a small stand-in that answers in the shape of the spec (its answers are themselves checked
by the proxy's response validation, so the stand-in cannot drift from the spec unnoticed)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from clients_support import serve_in_thread
from karrio_support import BATCH, OPERATIONS, SPEC, batch, headers, karrio_order, token
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from contracts.clients import CheckStore, ClientChecker, ClientCheckMiddleware, create_proxy_app

POLL = 0.3  # the well-behaved client's interval; the checks want at least MIN_POLL
MIN_POLL = 0.2


class _Upstream:
    """Batch operations that run on the second poll and complete on the third."""

    def __init__(self) -> None:
        self.polls: dict[str, int] = {}
        self.sizes: dict[str, int] = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    def operation(self, op_id: str) -> dict[str, Any]:
        polls, size = self.polls[op_id], self.sizes[op_id]
        status = "queued" if polls == 0 else "running" if polls == 1 else "completed"
        resources = [{"id": f"ord_{op_id}_{i}", "status": "completed", "errors": None} for i in range(size)]
        now = datetime.now(UTC).isoformat()
        return {
            "id": op_id,
            "status": status,
            "resource_type": "orders",
            "resources": resources if status == "completed" else [],
            "test_mode": False,
            "created_at": now,
            "updated_at": now,
        }

    async def create(self, request: Request) -> JSONResponse:
        if not request.headers.get("authorization", "").startswith("Token "):
            return JSONResponse({"errors": [{"code": "not_authenticated", "message": "No."}]}, 401)
        data = await request.json()
        with self.lock:
            op_id = f"batch_{next(self.ids)}"
            self.polls[op_id], self.sizes[op_id] = 0, len(data["orders"])
            return JSONResponse(self.operation(op_id), 201)

    async def status(self, request: Request) -> JSONResponse:
        op_id = request.path_params["id"]
        with self.lock:
            if op_id not in self.polls:
                return JSONResponse({"errors": [{"code": "not_found", "message": "Not found."}]}, 404)
            self.polls[op_id] += 1
            return JSONResponse(self.operation(op_id))

    def app(self) -> Starlette:
        routes = [
            Route(BATCH, self.create, methods=["POST"]),
            Route(OPERATIONS + "/{id}", self.status, methods=["GET"]),
        ]
        return Starlette(routes=routes)


@pytest.fixture(scope="module")
def checker() -> ClientChecker:
    return ClientChecker(SPEC, min_poll_interval=MIN_POLL)


@pytest.fixture
def store(tmp_path: Path) -> CheckStore:
    return CheckStore(tmp_path / "karrio-checks.sqlite3")


@pytest.fixture
def proxy(checker: ClientChecker, store: CheckStore) -> Iterator[str]:
    with serve_in_thread(_Upstream().app()) as upstream:
        with serve_in_thread(create_proxy_app(upstream, store=store, checker=checker)) as url:
            yield url


def _wait(http: httpx.Client, op_id: str, interval: float, limit: int = 10) -> dict[str, Any]:
    for _ in range(limit):
        answer = http.get(f"{OPERATIONS}/{op_id}", headers={"Authorization": token()})
        assert answer.status_code == 200, answer.text
        if answer.json()["status"] in ("completed", "failed", "completed_with_errors"):
            return dict(answer.json())
        time.sleep(interval)
    raise AssertionError(f"operation {op_id} did not finish in {limit} polls")


def _report(http: httpx.Client) -> dict[str, Any]:
    return dict(http.get("/_contract/violations").json())


def test_a_patient_client_has_no_violations_and_the_answers_match_the_spec(proxy: str) -> None:
    with httpx.Client(base_url=proxy, timeout=10) as http:
        accepted = http.post(BATCH, content=batch(karrio_order(0), karrio_order(1)), headers=headers())
        assert accepted.status_code == 201 and accepted.json()["status"] == "queued"
        done = _wait(http, accepted.json()["id"], POLL)
        assert [r["id"] for r in done["resources"]] == [f"ord_{done['id']}_0", f"ord_{done['id']}_1"]
        http.post(BATCH, content=batch(karrio_order(0), karrio_order(1)), headers=headers())  # after it ended
        report = _report(http)
    assert report["violations"] == [] and report["checked_requests"] == 4
    assert report["spec"]["dialect"] == SPEC
    assert "client.conflict_backoff" in report["not_applicable"]
    assert {"client.poll_interval", "client.resubmit_running", "server.response_schema"} <= set(
        report["rules"]
    )


def test_a_busy_loop_and_a_resubmission_are_recorded(proxy: str) -> None:
    data = batch(karrio_order(5))
    with httpx.Client(base_url=proxy, timeout=10) as http:
        op_id = http.post(BATCH, content=data, headers=headers()).json()["id"]
        again = http.post(BATCH, content=data, headers=headers())  # while queued: poll instead
        assert again.status_code == 201  # the checks report, they do not refuse
        for _ in range(2):  # back to back
            http.get(f"{OPERATIONS}/{op_id}", headers={"Authorization": token()})
        report = _report(http)
    found = [(v["rule"], v["request"]["method"]) for v in report["violations"]]
    assert found == [("client.resubmit_running", "POST"), ("client.poll_interval", "GET")]
    assert report["violations"][0]["request"]["identity"].startswith("key:")


def test_a_basic_auth_client_is_flagged_and_the_proxy_answers_in_the_karrio_envelope(
    checker: ClientChecker, store: CheckStore
) -> None:
    with serve_in_thread(create_proxy_app("http://127.0.0.1:9", store=store, checker=checker)) as url:
        with httpx.Client(base_url=url, timeout=10) as http:
            hdrs = {"Authorization": "Basic ZGVtbzpkZW1vLXNlY3JldA==", "Content-Type": "application/json"}
            answer = http.post(BATCH, content=batch(karrio_order(0)), headers=hdrs)
            assert answer.status_code == 502
            (error,) = answer.json()["errors"]
            assert set(error) == {"code", "message"} and "did not answer" in error["message"]
            assert [v["rule"] for v in _report(http)["violations"]] == ["client.auth"]


async def test_the_middleware_refuses_to_script_a_conflict_the_spec_does_not_document(
    checker: ClientChecker, store: CheckStore
) -> None:
    wrapped = ClientCheckMiddleware(_Upstream().app(), store=store, checker=checker)
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        refused = await http.post("/_contract/script", json={"answer": "conflict"})
        assert refused.status_code == 400 and "no conflict answer" in refused.text
        scripted = await http.post("/_contract/script", json={"answer": "server_error", "status": 503})
        assert scripted.status_code == 201
        answer = await http.post(BATCH, content=batch(karrio_order(0)), headers=headers())
    assert answer.status_code == 503
    assert set(answer.json()["errors"][0]) == {"code", "message"}


def test_the_generated_client_pages_through_the_proxy_in_front_of_the_reference_server(
    checker: ClientChecker, store: CheckStore
) -> None:
    from karrio_batches import KarrioBatchesClient

    from contracts.server import running_server_in_thread

    with running_server_in_thread(spec_path=SPEC, processing_delay=0.0) as upstream:
        proxy_app = create_proxy_app(upstream.base_url, store=store, checker=checker)
        with serve_in_thread(proxy_app) as url, KarrioBatchesClient(url, api_key=upstream.password) as api:
            orders = [karrio_order(i) for i in range(5)]
            done = api.create_order_batch_and_wait({"orders": orders}, poll_interval=POLL, timeout=30)
            assert done.status == "completed"
            page = httpx.get(f"{url}/v1/orders?limit=2", headers={"Authorization": token(upstream.password)})
            assert page.json()["next"].startswith(url + "/")  # the next page stays behind the checks
            seen = [order.order_id for order in api.iter_orders(limit=2)]
            report = _report(httpx.Client(base_url=url))
    assert sorted(seen) == sorted(o["order_id"] for o in orders)
    assert report["violations"] == [], report["violations"]
    assert report["checked_requests"] >= 2 + 1 + 3  # batch, polls, the direct page, three pages
