"""The proxy: forwards unchanged to a real upstream over 127.0.0.1, checks requests and answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from clients_support import BASE, basic, body, headers, order, serve_in_thread
from sendcloud_orders import ApiError, OrdersClient, RetryPolicy, UnexpectedResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from contracts.clients import CheckStore, create_proxy_app
from contracts.server import RunningServer, running_server_in_thread


@pytest.fixture(scope="module")
def upstream() -> Iterator[RunningServer]:
    with running_server_in_thread() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> CheckStore:
    return CheckStore(tmp_path / "proxy.sqlite3")


@pytest.fixture
def proxy(upstream: RunningServer, store: CheckStore) -> Iterator[str]:
    with serve_in_thread(create_proxy_app(upstream.base_url, store=store)) as url:
        yield url


def test_traffic_is_forwarded_unchanged(upstream: RunningServer, proxy: str, store: CheckStore) -> None:
    data = body(
        [order(0, integration=upstream.integrations[0]), order(1, integration=upstream.integrations[0])]
    )
    with httpx.Client(base_url=proxy) as via, httpx.Client(base_url=upstream.base_url) as direct:
        created = via.post(BASE + "/orders", content=data, headers=headers())
        assert created.status_code == 201
        again = direct.post(BASE + "/orders", content=data, headers=headers())
        assert again.json() == created.json()  # same batch → same ids: the upsert went through once
        oid = created.json()["data"][0]["id"]
        for path in (f"{BASE}/orders/{oid}", f"{BASE}/orders/999999", f"{BASE}/orders/abc"):
            a = via.get(path, headers={"Authorization": basic()})
            b = direct.get(path, headers={"Authorization": basic()})
            assert (a.status_code, a.content, a.headers["content-type"]) == (
                b.status_code,
                b.content,
                b.headers["content-type"],
            )
        wrong = via.post(f"{BASE}/orders/{oid}", headers={"Authorization": basic()})
        assert (
            wrong.status_code
            == direct.post(f"{BASE}/orders/{oid}", headers={"Authorization": basic()}).status_code
        )
    rules = [v.rule for v in store.violations()]
    assert rules == ["client.id_string", "client.known_operation"]  # /orders/abc and POST /orders/{id}
    assert store.checked_requests() == 5


def test_pagination_through_the_proxy_stays_behind_the_checks(
    upstream: RunningServer, proxy: str, store: CheckStore
) -> None:
    integration = upstream.integrations[1]
    items = [order(100 + i, integration=integration) for i in range(25)]
    seen: list[str] = []
    with httpx.Client() as http:
        assert http.post(proxy + BASE + "/orders", content=body(items), headers=headers()).status_code == 201
        url: str | None = f"{proxy}{BASE}/orders?integration={integration}&page_size=10"
        for _ in range(10):  # bounded: 3 pages expected
            if url is None:
                break
            page = http.get(url, headers={"Authorization": basic()})
            assert page.status_code == 200
            seen += [o["order_id"] for o in page.json()["data"]]
            url = page.links.get("next", {}).get("url")
            assert url is None or url.startswith(proxy + "/")  # Link rewritten to point at the proxy
    assert sorted(seen) == sorted(o["order_id"] for o in items)
    assert store.checked_requests() == 4  # one upsert + three pages, all seen by the proxy
    assert store.violations() == []


def _wrong_app() -> Starlette:
    async def upsert(request: Request) -> Response:
        return JSONResponse({"data": [{"id": "5", "order_number": "N-0"}]}, status_code=201)

    async def listing(request: Request) -> Response:
        return JSONResponse({"orders": []})

    async def single(request: Request) -> Response:
        return Response(b"<html>oops</html>", status_code=500, media_type="text/html")

    return Starlette(
        routes=[
            Route("/api/v3/orders", upsert, methods=["POST"]),
            Route("/api/v3/orders", listing, methods=["GET"]),
            Route("/api/v3/orders/{id}", single, methods=["GET"]),
        ]
    )


def test_a_wrong_upstream_is_reported_as_server_response_schema(store: CheckStore) -> None:
    with serve_in_thread(_wrong_app()) as wrong, serve_in_thread(create_proxy_app(wrong, store=store)) as url:
        with OrdersClient(
            url + BASE, username="demo", password="x", retry=RetryPolicy(enabled=False)
        ) as client:
            with pytest.raises(UnexpectedResponse):
                client.upsert_orders([order(0)])
            with pytest.raises(UnexpectedResponse):
                client.list_orders()
            with pytest.raises(ApiError) as failed:
                client.get_order(5)
            assert failed.value.status_code == 500
    found = store.violations()
    assert [v.rule for v in found] == ["server.response_schema"] * 3
    assert found[0].pointer is not None and found[0].pointer.startswith("/data/0")
    assert "'data' is a required property" in found[1].message
    assert "500" in found[2].message


def test_an_unreachable_upstream_gives_a_502_in_the_error_shape(store: CheckStore) -> None:
    with serve_in_thread(create_proxy_app("http://127.0.0.1:9", store=store, timeout=2)) as url:
        answer = httpx.get(url + BASE + "/orders", headers={"Authorization": basic()}, timeout=10)
    assert answer.status_code == 502
    assert answer.json()["errors"][0]["status"] == "502"


def test_an_upstream_answer_trickling_in_ends_in_a_504_at_the_proxy_timeout(store: CheckStore) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        for _ in range(100):  # 10 s in all; the proxy's timeout is 1 s (wide margins for a loaded machine)
            await asyncio.sleep(0.1)
            yield b" "

    async def orders(request: Request) -> Response:
        return StreamingResponse(trickle(), media_type="application/json")

    slow = Starlette(routes=[Route(BASE + "/orders", orders)])
    with (
        serve_in_thread(slow) as upstream,
        serve_in_thread(create_proxy_app(upstream, store=store, timeout=1)) as url,
    ):
        started = time.monotonic()
        answer = httpx.get(url + BASE + "/orders", headers={"Authorization": basic()}, timeout=20)
        elapsed = time.monotonic() - started
    assert answer.status_code == 504, answer.text
    assert answer.json()["errors"][0]["status"] == "504"
    assert elapsed < 8  # long before the upstream would have finished


def test_head_keeps_the_upstream_length_and_is_flagged_as_unknown(
    upstream: RunningServer, proxy: str, store: CheckStore
) -> None:
    via = httpx.head(proxy + BASE + "/orders", headers={"Authorization": basic()}, timeout=10)
    direct = httpx.head(upstream.api_url + "/orders", headers={"Authorization": basic()}, timeout=10)
    assert via.status_code == direct.status_code
    assert via.headers.get("content-length") == direct.headers.get("content-length")
    assert [v.rule for v in store.violations()] == ["client.known_operation"]


def test_the_proxy_catches_a_faulty_reference_server(tmp_path: Path) -> None:
    store = CheckStore(tmp_path / "faulty.sqlite3")
    faults = {"id_as_string", "errors_without_array"}
    with (
        running_server_in_thread(faults=faults) as faulty,
        serve_in_thread(create_proxy_app(faulty.base_url, store=store)) as url,
    ):
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.post(BASE + "/orders", content=body([order(0)]), headers=headers()).status_code == 201
            assert http.get(BASE + "/orders/999999", headers={"Authorization": basic()}).status_code == 404
    found = store.violations()
    assert [(v.rule, v.extra["status"]) for v in found] == [
        ("server.response_schema", 201),
        ("server.response_schema", 404),
    ]
    assert found[0].pointer == "/data/0/id" and "is not of type 'integer'" in found[0].message
    assert "'errors' is a required property" in found[1].message
