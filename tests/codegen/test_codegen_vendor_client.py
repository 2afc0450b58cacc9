"""The client generated from the upstream vendor spec (no contract, long vendor operationIds) still works."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from codegen_support import VENDOR_SPEC

from codegen import load_spec
from codegen._examples import iter_examples


def _example(name: str) -> Any:
    for where, _schema, value in iter_examples(load_spec(VENDOR_SPEC).document):
        if where.endswith(f"/examples/{name}/value"):
            return value
    raise LookupError(name)


def test_batch_helpers_and_generic_names(vendor_package: Any) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        body = json.loads(request.content)
        data = [
            {"id": 600 + i, "order_id": o["order_id"], "order_number": o["order_number"]}
            for i, o in enumerate(body)
        ]
        return httpx.Response(201, json={"data": data})

    order = _example("CreateBasicOrder")[0]
    orders = [{**order, "order_id": f"o-{i}"} for i in range(5)]
    sleeps: list[float] = []
    with vendor_package.OrdersClient(
        "https://x.test/api/v3", transport=httpx.MockTransport(handler), sleep=sleeps.append
    ) as api:
        results = api.create_orders_chunked(orders, chunk_size=2)
        with pytest.raises(vendor_package.BatchSizeError):  # no maxItems upstream: only the minimum is known
            api.create_orders([])
    assert [len(json.loads(r.content)) for r in requests] == [2, 2, 1]
    assert [r.order_id for r in results] == [f"o-{i}" for i in range(5)]
    assert vendor_package.client.BATCH_MAX_ITEMS is None


def test_conflict_is_not_retried_without_x_contract_but_errors_parse(vendor_package: Any) -> None:
    detail = "We are still processing a previous request. Please try again in a moment."
    body = {
        "errors": [{"status": "400", "code": "invalid", "detail": detail, "source": {"pointer": "/data"}}]
    }
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json=body)

    with vendor_package.OrdersClient(
        "https://x.test", transport=httpx.MockTransport(handler), sleep=lambda s: None
    ) as api:
        with pytest.raises(vendor_package.ApiError) as caught:
            api.retrieve_order(669)
    assert len(calls) == 1 and not caught.value.is_conflict
    assert caught.value.errors[0].field_path == ("data",)
    assert caught.value.error_response is not None  # parsed with the vendor's `Errors` model


def test_pagination_follows_link_headers(vendor_package: Any) -> None:
    page = _example("Response")  # the GET /orders example (second order has delivery_dates: null)
    first = {"data": page["data"][:1]}

    def handler(request: httpx.Request) -> httpx.Response:
        if "cursor" in request.url.params:
            return httpx.Response(200, json=first)
        return httpx.Response(
            200, json=first, headers={"Link": '<https://x.test/orders?cursor=cj0x>; rel="next"'}
        )

    with vendor_package.OrdersClient("https://x.test", transport=httpx.MockTransport(handler)) as api:
        ids = [o.id for o in api.iter_orders(integration=7)]
    assert ids == ["669", "669"]
