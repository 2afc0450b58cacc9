"""The generated `karrio_batches` client (wrapped list, asynchronous operations) via httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from karrio_batches import (
    ApiError,
    AsyncKarrioBatchesClient,
    BatchSizeError,
    ChunkError,
    KarrioBatchesClient,
    OperationFailed,
    OperationTimeout,
    RequestValidationError,
    UnexpectedResponse,
)

BASE = "https://karrio.test"
NOW = "2026-01-15T10:00:00Z"


def order(n: int) -> dict[str, Any]:
    return {
        "order_id": f"o-{n}",
        "shipping_to": {"country_code": "CA", "person_name": "Jane Doe"},
        "line_items": [{"weight": 0.4, "weight_unit": "KG", "quantity": 1}],
    }


def operation(op_id: str, status: str, resources: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": op_id,
        "status": status,
        "resource_type": "orders",
        "resources": resources or [],
        "test_mode": False,
        "created_at": NOW,
        "updated_at": NOW,
    }


class Clock:
    """A fake monotonic clock that the fake sleep advances (no real waiting, no endless loop)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Server:
    """Answers a batch with a queued operation, then the states in `states` for each poll (last forever)."""

    def __init__(self, *states: str, resources: list[dict[str, Any]] | None = None) -> None:
        self.states, self.resources = list(states), resources
        self.requests: list[httpx.Request] = []
        self.polls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            count = len(json.loads(request.content)["orders"])
            return httpx.Response(201, json=operation(f"batch_{count}", "queued"))
        self.polls += 1
        state = self.states[min(self.polls, len(self.states)) - 1]
        return httpx.Response(200, json=operation(request.url.path.rsplit("/", 1)[-1], state, self.resources))


def client(
    handler: Callable[[httpx.Request], httpx.Response], clock: Clock | None = None
) -> KarrioBatchesClient:
    clock = clock or Clock()
    return KarrioBatchesClient(
        BASE, api_key="key_1", transport=httpx.MockTransport(handler), sleep=clock.sleep, clock=clock
    )


def test_create_and_wait_polls_with_growing_intervals_until_completed() -> None:
    done = [{"id": "ord_1", "status": "completed", "errors": None}]
    server, clock = Server("queued", "running", "running", "completed", resources=done), Clock()
    with client(server, clock) as api:
        final = api.create_order_batch_and_wait({"orders": [order(1)]}, poll_interval=1.0, max_interval=2.0)
    assert final.status.value == "completed" and final.resources[0].id == "ord_1"
    post = server.requests[0]
    assert post.method == "POST" and post.url.path == "/v1/batches/orders"
    assert post.headers["authorization"] == "Token key_1"
    assert json.loads(post.content) == {"orders": [order(1)]}
    assert [r.url.path for r in server.requests[1:]] == ["/v1/batches/operations/batch_1"] * 4
    assert clock.sleeps == [1.0, 1.5, 2.0]  # backoff 1.5, capped at max_interval


def test_a_final_status_other_than_success_raises_with_per_item_errors() -> None:
    resources = [
        {"id": "ord_1", "status": "completed", "errors": None},
        {"id": None, "status": "failed", "errors": {"code": "invalid", "message": "orders[1]: bad"}},
    ]
    with client(Server("completed_with_errors", resources=resources)) as api:
        with pytest.raises(OperationFailed) as caught:
            api.wait_for_operation("batch_2")
    assert caught.value.status == "completed_with_errors"
    assert caught.value.resource_errors == ((1, {"code": "invalid", "message": "orders[1]: bad"}),)
    assert caught.value.operation.id == "batch_2"


def test_an_operation_that_never_finishes_times_out_within_the_deadline() -> None:
    server, clock = Server("running"), Clock()
    with client(server, clock) as api, pytest.raises(OperationTimeout) as caught:
        api.wait_for_operation("batch_9", timeout=10.0, poll_interval=1.0, max_interval=4.0)
    assert sum(clock.sleeps) == pytest.approx(10.0)  # never sleeps past the deadline
    assert caught.value.status == "running" and caught.value.operation.id == "batch_9"
    assert server.polls <= 10


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout": -1.0}, {"poll_interval": 0.0}, {"timeout": float("inf")}, {"backoff": 0.5}],
)
def test_bad_wait_arguments_are_value_errors_before_any_request(kwargs: dict[str, float]) -> None:
    server = Server("completed")
    with client(server) as api, pytest.raises(ValueError, match="wait needs"):
        api.wait_for_operation("batch_1", **kwargs)
    assert server.requests == []


def test_an_empty_batch_and_an_invalid_item_are_refused_before_any_request() -> None:
    server = Server("completed")
    bad = order(2)
    del bad["line_items"]
    with client(server) as api:
        with pytest.raises(RequestValidationError) as empty:  # the body schema's minItems
            api.create_order_batch({"orders": []})
        with pytest.raises(BatchSizeError):
            api.create_order_batch_chunked([], chunk_size=0)
        with pytest.raises(RequestValidationError) as caught:
            api.create_order_batch({"orders": [order(1), bad]})
        with pytest.raises(RequestValidationError) as chunked:
            api.create_order_batch_chunked([order(i) for i in range(5)] + [bad], chunk_size=2)
    assert server.requests == []
    (detail,) = caught.value.errors
    assert (detail.batch_index, detail.field_path, detail.pointer) == (
        1,
        ("line_items",),
        "/orders/1/line_items",
    )
    assert chunked.value.errors[0].batch_index == 5  # the input index over the whole chunked input
    assert [(e.batch_index, e.field_path) for e in empty.value.errors] == [(None, ("orders",))]


def test_located_errors_of_a_rejected_batch_are_parsed() -> None:
    body = {
        "errors": [
            {"code": "required", "message": "orders[1].line_items: This field is required.", "index": 1},
            {"code": "invalid", "message": "orders[0].shipping_to.country_code: Not a valid choice."},
            {"code": "empty", "message": "orders: This list may not be empty."},
        ]
    }
    with client(lambda request: httpx.Response(400, json=body)) as api, pytest.raises(ApiError) as caught:
        api.create_order_batch({"orders": [order(0), order(1)]})
    located = [(e.batch_index, e.field_path, e.code) for e in caught.value.errors]
    assert located == [
        (1, ("line_items",), "required"),
        (0, ("shipping_to", "country_code"), "invalid"),
        (None, (), "empty"),
    ]
    assert "HTTP 400: item 1: line_items: This field is required.; item 0: shipping_to" in str(caught.value)


def test_chunked_batches_return_one_operation_per_chunk_and_a_failure_is_located() -> None:
    error = {"errors": [{"code": "required", "message": "orders[1].line_items: This field is required."}]}
    server = Server()
    with client(server) as api:
        ops = api.create_order_batch_chunked([order(i) for i in range(5)], chunk_size=2)
    assert [o.id for o in ops] == ["batch_2", "batch_2", "batch_1"]

    def second_fails(request: httpx.Request) -> httpx.Response:
        server.requests.append(request)
        return httpx.Response(400, json=error) if len(server.requests) == 2 else Server()(request)

    server.requests.clear()
    with client(second_fails) as api, pytest.raises(ChunkError) as caught:
        api.create_order_batch_chunked([order(i) for i in range(6)], chunk_size=2)
    assert (caught.value.offset, len(caught.value.completed), len(server.requests)) == (2, 1, 2)
    assert caught.value.errors[0].batch_index == 3  # orders[1] of the chunk starting at input item 2


def page_server(
    total: int, per_page: int = 2, origin: str = BASE
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", "0"))
        results = [
            {
                "id": f"ord_{i}",
                "order_id": f"o-{i}",
                "source": "API",
                "status": "unfulfilled",
                "shipping_to": {"country_code": "CA"},
                "line_items": [{"weight": 1.0, "weight_unit": "KG"}],
                "test_mode": False,
                "created_at": NOW,
            }
            for i in range(offset, min(offset + per_page, total))
        ]
        following = f"{origin}/v1/orders?limit={per_page}&offset={offset + per_page}"
        body = {"count": total, "next": following if offset + per_page < total else None, "previous": None}
        return httpx.Response(200, json={**body, "results": results})

    return handler


def test_iter_orders_follows_next_urls_on_the_same_origin_only() -> None:
    with client(page_server(5)) as api:
        assert [o.id for o in api.iter_orders(source="API")] == [f"ord_{i}" for i in range(5)]
    with (
        client(page_server(5, origin="https://evil.test")) as api,
        pytest.raises(UnexpectedResponse, match="leaves"),
    ):
        list(api.iter_orders())


async def test_async_create_and_wait() -> None:
    server, clock = Server("running", "completed"), Clock()

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)

    async with AsyncKarrioBatchesClient(
        BASE, api_key="key_1", transport=httpx.MockTransport(server), sleep=sleep, clock=clock
    ) as api:
        final = await api.create_order_batch_and_wait({"orders": [order(1), order(2)]}, poll_interval=0.5)
        raw = await api.retrieve_batch_operation.raw(final.id)
    assert final.id == "batch_2" and final.status.value == "completed"
    assert clock.sleeps == [0.5] and raw.status_code == 200 and raw.parsed.id == "batch_2"
    async with AsyncKarrioBatchesClient(BASE, transport=httpx.MockTransport(page_server(3))) as api:
        assert [o.id async for o in api.iter_orders()] == ["ord_0", "ord_1", "ord_2"]
