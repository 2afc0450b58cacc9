"""The generated `karrio_batches` client against the real reference server (uvicorn on 127.0.0.1, SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from codegen_support import OUR_SPECS
from karrio_batches import ApiError, AsyncKarrioBatchesClient, KarrioBatchesClient, RequestValidationError

from contracts.server import RunningServer, running_server_in_thread


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    spec = str(OUR_SPECS["karrio_batches"])
    with running_server_in_thread(spec_path=spec, processing_delay=0.05) as running:
        yield running


def order(order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "shipping_to": {
            "person_name": "Jane Doe",
            "city": "Moncton",
            "postal_code": "E1C 4Z8",
            "country_code": "CA",
        },
        "line_items": [{"sku": "MUG-1", "quantity": 2, "weight": 0.5, "weight_unit": "KG"}],
        **extra,
    }


def test_create_wait_read_back_and_reuse(server: RunningServer) -> None:
    prefix = uuid.uuid4().hex[:8]
    orders = [order(f"{prefix}-{i}") for i in range(3)]
    with KarrioBatchesClient(server.api_url, api_key="demo-secret") as api:
        done = api.create_order_batch_and_wait({"orders": orders}, timeout=30, poll_interval=0.05)
        assert done.status.value == "completed" and len(done.resources) == 3
        ids = [resource.id for resource in done.resources]
        stored = [api.retrieve_order(i) for i in ids if i is not None]
        assert [o.order_id for o in stored] == [o["order_id"] for o in orders]
        assert {o.source for o in stored} == {"API"}  # the key's default
        again = api.create_order_batch_and_wait({"orders": orders[:1]}, timeout=30, poll_interval=0.05)
        assert again.resources[0].id == ids[0]  # a known (order_id, source) is reused
        listed = {o.order_id for o in api.iter_orders(order_id=orders[1]["order_id"])}
        assert listed == {orders[1]["order_id"]}
        raw = api.retrieve_order.raw(ids[0] or "")
        assert raw.status_code == 200 and raw.parsed.id == ids[0]


def test_the_servers_rejection_and_the_local_one_locate_the_item_alike(server: RunningServer) -> None:
    bad = order(uuid.uuid4().hex[:8])
    bad["line_items"] = []
    body = {"orders": [order(uuid.uuid4().hex[:8]), bad]}
    with KarrioBatchesClient(server.api_url, api_key="demo-secret") as api:
        with pytest.raises(RequestValidationError) as local:
            api.create_order_batch(body)
    answer = httpx.post(
        server.api_url + "/v1/batches/orders", json=body, headers={"Authorization": "Token demo-secret"}
    )
    remote = ApiError.from_response(answer)
    assert remote.status_code == 400
    assert [(e.batch_index, e.field_path) for e in remote.errors] == [(1, ("line_items",))]
    assert [(e.batch_index, e.field_path) for e in local.value.errors] == [(1, ("line_items",))]


def test_a_wrong_token_is_an_api_error(server: RunningServer) -> None:
    with KarrioBatchesClient(server.api_url, api_key="wrong") as api, pytest.raises(ApiError) as caught:
        api.retrieve_batch_operation("batch_missing")
    assert caught.value.status_code == 401


async def test_async_client_waits_for_the_operation(server: RunningServer) -> None:
    orders = [order(uuid.uuid4().hex[:8]) for _ in range(2)]
    async with AsyncKarrioBatchesClient(server.api_url, api_key="demo-secret") as api:
        done = await api.create_order_batch_and_wait({"orders": orders}, timeout=30, poll_interval=0.05)
        assert done.status.value == "completed"
        seen = [o.order_id async for o in api.iter_orders(order_id=orders[0]["order_id"])]
    assert seen == [orders[0]["order_id"]]
