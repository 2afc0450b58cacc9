"""What the generated clients send, for any valid input, passes every client check.

Valid batches and partial updates come from the spec (Hypothesis, constructive); the clients send them
through `httpx.MockTransport`, and each captured request goes through `check_request`."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sendcloud_orders import ApiError, AsyncOrdersClient, OrdersClient

from contracts._settings import examples_for_profile
from contracts.clients import check_request
from contracts.strategies import load_spec, valid_batches, value_strategy

EXAMPLES = examples_for_profile(ci=15, dev=50, deep=500)
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SPEC = load_spec()
API = "http://api.test/api/v3"


def _answer(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        items = json.loads(request.content)
        data = [
            {"id": i + 1, "order_id": o["order_id"], "order_number": o["order_number"]}
            for i, o in enumerate(items)
        ]
        return httpx.Response(201, json={"data": data})
    if request.method == "PATCH":
        return httpx.Response(200, json={"data": {"id": 669, "order_id": "a", "order_number": "b"}})
    if request.method == "DELETE":
        return httpx.Response(204)
    if request.url.path.endswith("/orders"):
        return httpx.Response(200, json={"data": []})
    return httpx.Response(
        404, json={"errors": [{"status": "404", "code": "not_found", "detail": "No such order"}]}
    )


def _violations(requests: list[httpx.Request]) -> list[str]:
    found = []
    for r in requests:
        for v in check_request(
            r.method, r.url.path, r.url.query.decode(), list(r.headers.multi_items()), r.content
        ):
            found.append(f"{v.rule} {v.pointer or v.location}: {v.message}")
    return found


@SETTINGS
@given(
    batch=valid_batches([7, 739283], spec=SPEC, max_size=12),
    patch=value_strategy(SPEC.schema("OrderPartialUpdate")),
    filters=st.fixed_dictionaries(
        {},
        optional={
            "integration": st.lists(st.integers(1, 10**6), min_size=1, max_size=3),
            "order_created_at_min": st.dates(datetime.date(2016, 1, 1), datetime.date(2030, 1, 1)),
            "page_size": st.integers(1, 200),
            "status": st.sampled_from(["fulfilled", "paid"]),
        },
    ),
)
def test_sync_client_requests_pass_every_check(
    batch: list[dict[str, Any]], patch: dict[str, Any], filters: dict[str, Any]
) -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    with OrdersClient(
        API, username="demo", password="secret", transport=httpx.MockTransport(handle)
    ) as client:
        client.upsert_orders(batch)
        client.list_orders(**filters)
        patch.pop("id", None)  # a body id must name the order of the path; the client leaves that to you
        client.update_order(669, patch)
        with pytest.raises(ApiError):
            client.get_order(669)
        client.delete_order(669)
    assert len(sent) == 5
    assert _violations(sent) == []


@SETTINGS
@given(batch=valid_batches([7], spec=SPEC, min_size=51, max_size=70))
def test_async_chunked_upsert_requests_pass_every_check(batch: list[dict[str, Any]]) -> None:
    sent: list[httpx.Request] = []

    async def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    async def go() -> None:
        transport = httpx.MockTransport(handle)
        async with AsyncOrdersClient(API, username="demo", password="secret", transport=transport) as client:
            await client.upsert_orders_chunked(batch * 2, chunk_size=100)

    asyncio.run(go())
    assert all(1 <= len(json.loads(r.content)) <= 100 for r in sent)
    assert _violations(sent) == []
