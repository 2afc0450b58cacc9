"""The generated `sendcloud_orders` client, driven through httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pydantic
import pytest
from sendcloud_orders import (
    ApiError,
    AsyncOrdersClient,
    BatchSizeError,
    ChunkError,
    OrdersClient,
    OrderUpsert,
    PageLimitError,
    RequestValidationError,
    RetryPolicy,
    UnexpectedResponse,
    parse_pointer,
)

BASE = "https://api.test/api/v3"
CONFLICT = {
    "errors": [
        {
            "status": "400",
            "code": "invalid",
            "detail": "We are still processing a previous request. Please try again in a moment.",
            "source": {"pointer": "/data"},
        }
    ]
}
Handler = Callable[[httpx.Request], httpx.Response]


def order(n: int) -> dict[str, Any]:
    return {
        "order_id": f"ext-{n}",
        "order_number": f"N-{n}",
        "order_details": {
            "integration": {"id": 7},
            "status": {"code": "fulfilled"},
            "order_created_at": "2024-02-27T10:00:00Z",
            "order_items": [
                {"name": "Candle", "quantity": 1, "total_price": {"value": 3.5, "currency": "EUR"}}
            ],
        },
        "payment_details": {"total_price": {"value": 3.5, "currency": "EUR"}, "status": {"code": "paid"}},
    }


def stored(n: int) -> dict[str, Any]:
    return {
        **order(n),
        "id": str(n),
        "created_at": "2024-02-27T10:00:00Z",
        "modified_at": "2024-02-27T10:00:00Z",
    }


class Recorder:
    """A MockTransport handler that records requests and answers from a list (then the last one forever)."""

    def __init__(self, *answers: Handler | httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


def echo_upsert(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    data = [
        {
            "id": 1000 + int(o["order_id"].split("-")[1]),
            "order_id": o["order_id"],
            "order_number": o["order_number"],
        }
        for o in body
    ]
    return httpx.Response(201, json={"data": data})


def make_client(handler: Recorder, sleeps: list[float] | None = None, **kwargs: Any) -> OrdersClient:
    record = sleeps if sleeps is not None else []
    kwargs.setdefault("retry", RetryPolicy(jitter=False))
    return OrdersClient(
        BASE,
        username="key",
        password="secret",
        transport=httpx.MockTransport(handler),
        sleep=record.append,
        **kwargs,
    )


def test_upsert_sends_auth_partner_header_and_parses_the_response() -> None:
    rec = Recorder(echo_upsert)
    with make_client(rec, sendcloud_partner_id="7b0f8a7e-0000-4000-8000-000000000001") as client:
        result = client.upsert_orders([order(1), OrderUpsert.model_validate(order(2))])
    assert [r.id for r in result.data] == [1001, 1002]
    request = rec.requests[0]
    assert request.method == "POST" and str(request.url) == f"{BASE}/orders"
    assert request.headers["authorization"] == "Basic a2V5OnNlY3JldA=="
    assert request.headers["sendcloud-partner-id"] == "7b0f8a7e-0000-4000-8000-000000000001"
    assert json.loads(request.content)[0] == order(1)  # unset optional fields are not sent as null


@pytest.mark.parametrize("count", [0, 101])
def test_batch_size_is_validated_before_any_request(count: int) -> None:
    rec = Recorder(echo_upsert)
    with make_client(rec) as client, pytest.raises(BatchSizeError, match=f"got {count}"):
        client.upsert_orders([order(i) for i in range(count)])
    assert rec.requests == []


def test_an_invalid_order_is_rejected_before_any_request() -> None:
    rec = Recorder(echo_upsert)
    bad = order(1)
    bad["order_details"]["order_items"][0]["quantity"] = "two"
    with make_client(rec) as client, pytest.raises(RequestValidationError) as caught:
        client.upsert_orders([order(0), bad])
    assert rec.requests == []
    (detail,) = caught.value.errors
    assert (detail.batch_index, detail.field_path) == (1, ("order_details", "order_items", 0, "quantity"))
    assert detail.pointer == "/1/order_details/order_items/0/quantity"  # where in the request body
    assert "item 1: order_details.order_items.0.quantity" in str(caught.value)
    assert isinstance(caught.value, ValueError) and not isinstance(caught.value, pydantic.ValidationError)


def test_chunked_upsert_splits_250_orders_into_3_requests_in_input_order() -> None:
    rec = Recorder(echo_upsert)
    with make_client(rec) as client:
        results = client.upsert_orders_chunked([order(i) for i in range(250)])
    assert [len(json.loads(r.content)) for r in rec.requests] == [100, 100, 50]
    assert [r.id for r in results] == [1000 + i for i in range(250)]
    assert [r.order_id for r in results] == [f"ext-{i}" for i in range(250)]


def test_chunked_upsert_reports_the_failed_chunk_and_accepted_results() -> None:
    error = httpx.Response(
        400,
        json={
            "errors": [
                {
                    "status": "400",
                    "code": "invalid",
                    "detail": "bad",
                    "source": {"pointer": "/data/attributes/[3]/order_id"},
                }
            ]
        },
    )
    rec = Recorder(echo_upsert, error)
    with make_client(rec) as client, pytest.raises(ChunkError) as caught:
        client.upsert_orders_chunked([order(i) for i in range(150)], chunk_size=50)
    assert caught.value.offset == 50 and len(caught.value.completed) == 50
    assert caught.value.error.errors[0].batch_index == 3  # the server's index inside the failed chunk
    assert caught.value.errors[0].batch_index == 53  # the input index
    assert isinstance(caught.value, ApiError) and caught.value.status_code == 400
    assert "chunk of items 50..99 failed (50 item(s) accepted before)" in str(caught.value)
    assert "item 53: order_id: bad" in str(caught.value)
    assert len(rec.requests) == 2  # the third chunk was never sent


def short_upsert(request: httpx.Request) -> httpx.Response:
    """A server that answers a batch with one result too few (results would silently misalign)."""
    answer = echo_upsert(request)
    return httpx.Response(201, json={"data": json.loads(answer.content)["data"][:-1]})


def test_a_batch_answer_with_the_wrong_number_of_results_is_an_unexpected_response() -> None:
    with make_client(Recorder(short_upsert)) as client, pytest.raises(UnexpectedResponse, match="3 item"):
        client.upsert_orders([order(i) for i in range(3)])
    rec = Recorder(echo_upsert, short_upsert)
    with make_client(rec) as client, pytest.raises(ChunkError) as caught:
        client.upsert_orders_chunked([order(i) for i in range(20)], chunk_size=10)
    assert caught.value.offset == 10 and len(caught.value.completed) == 10
    assert isinstance(caught.value.error, UnexpectedResponse)


def test_chunk_size_above_the_maximum_is_refused() -> None:
    rec = Recorder(echo_upsert)
    with make_client(rec) as client, pytest.raises(BatchSizeError):
        client.upsert_orders_chunked([order(1)], chunk_size=101)
    assert rec.requests == []


def test_conflict_is_retried_with_exponential_backoff_then_succeeds() -> None:
    rec = Recorder(httpx.Response(400, json=CONFLICT), httpx.Response(400, json=CONFLICT), echo_upsert)
    sleeps: list[float] = []
    with make_client(rec, sleeps) as client:
        result = client.upsert_orders([order(5)])
    assert result.data[0].id == 1005
    assert len(rec.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_conflict_retries_are_bounded_and_end_in_api_error() -> None:
    rec = Recorder(httpx.Response(400, json=CONFLICT))
    sleeps: list[float] = []
    with make_client(
        rec, sleeps, retry=RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=1.5, jitter=False)
    ) as client:
        with pytest.raises(ApiError) as caught:
            client.upsert_orders([order(5)])
    assert caught.value.is_conflict and caught.value.status_code == 400
    assert len(rec.requests) == 3 and sleeps == [1.0, 1.5]


def test_jitter_only_adds_up_to_half_and_respects_the_cap() -> None:
    policy = RetryPolicy(base_delay=2.0, max_delay=10.0, jitter=True)
    assert policy.delay(1, rng=lambda: 0.0) == 2.0 and policy.delay(1, rng=lambda: 1.0) == 3.0
    assert policy.delay(3, rng=lambda: 0.0) == 8.0 and policy.delay(3, rng=lambda: 1.0) == 10.0
    assert RetryPolicy().delay(1) >= 0.5  # default: never below the documented 0.5 s first back-off


def test_backoff_stays_capped_for_many_attempts_and_delays_must_be_finite() -> None:
    assert RetryPolicy(max_attempts=5000, jitter=False).delay(4999) == 8.0  # 2.0**4998 overflowed
    for bad in ({"max_delay": float("inf")}, {"base_delay": float("nan")}, {"max_delay": -1.0}):
        with pytest.raises(ValueError, match="finite, non-negative"):
            RetryPolicy(**bad)


def test_other_400s_are_not_retried_and_pointers_are_parsed() -> None:
    body = {
        "errors": [
            {
                "status": "400",
                "code": "invalid",
                "detail": "Input should be greater than 0",
                "source": {"pointer": "/data/attributes/[1]/order_details/order_items/0/quantity"},
            },
            {
                "status": "400",
                "code": "invalid",
                "detail": "Orders list should have at most 100 items, not 101",
                "source": {"pointer": "/data/attributes/"},
            },
        ]
    }
    rec = Recorder(httpx.Response(400, json=body))
    with make_client(rec) as client, pytest.raises(ApiError) as caught:
        client.upsert_orders([order(1), order(2)])
    assert len(rec.requests) == 1
    first, second = caught.value.errors
    assert first.pointer == "/data/attributes/[1]/order_details/order_items/0/quantity"
    assert first.batch_index == 1 and first.field_path == ("order_details", "order_items", 0, "quantity")
    assert second.batch_index is None and second.field_path == ("data", "attributes")
    assert caught.value.error_response is not None and caught.value.error_response.errors[
        0
    ].detail.startswith("Input")
    assert not caught.value.is_conflict


def test_5xx_and_transport_errors_are_retried() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        if calls["n"] == 2:
            return httpx.Response(503, text="<html>busy</html>")
        return httpx.Response(200, json={"data": stored(9)})

    sleeps: list[float] = []
    with make_client(Recorder(flaky), sleeps) as client:
        assert client.get_order(9).data.id == "9"
    assert calls["n"] == 3 and sleeps == [0.5, 1.0]


def test_retry_off_switch_sends_one_request_and_keeps_unparseable_bodies() -> None:
    rec = Recorder(httpx.Response(502, text="<html>bad gateway</html>"))
    with make_client(rec, retry=RetryPolicy(enabled=False)) as client, pytest.raises(ApiError) as caught:
        client.get_order(1)
    assert len(rec.requests) == 1
    assert caught.value.status_code == 502 and caught.value.errors == ()
    assert caught.value.body == b"<html>bad gateway</html>" and caught.value.error_response is None


def test_errors_survive_pickling_as_process_pools_need() -> None:
    body = json.dumps({"errors": [{"detail": "bad", "source": {"pointer": "/data/attributes/[1]/order_id"}}]})
    api = ApiError(400, body.encode(), {"x-request-id": "r1"})
    odd = UnexpectedResponse(httpx.Response(200, content=b"[]", request=httpx.Request("GET", BASE)), "no")
    timeout = httpx.ReadTimeout("slow", request=httpx.Request("POST", BASE))
    with make_client(Recorder(echo_upsert)) as client, pytest.raises(RequestValidationError) as invalid:
        client.upsert_orders([{"order_id": 5}])
    for error in (
        api,
        odd,
        BatchSizeError(0, 1, 100),
        ChunkError(100, 100, [], api),
        ChunkError(0, 3, [], timeout),
        invalid.value,
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert vars(copy).keys() == vars(error).keys()
    again = pickle.loads(pickle.dumps(api))
    assert again.errors[0].batch_index == 1 and again.headers == {"x-request-id": "r1"}
    assert again.error_response == api.error_response


def test_deeply_nested_json_bodies_give_api_errors_not_recursion_errors() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    rec = Recorder(httpx.Response(500, content=deep), httpx.Response(200, content=deep))
    with make_client(rec, retry=RetryPolicy(enabled=False)) as client:
        with pytest.raises(ApiError) as caught:
            client.get_order(1)
        assert caught.value.errors == () and caught.value.body == deep
        with pytest.raises(UnexpectedResponse, match="not JSON"):
            client.delete_order(1)


def test_a_2xx_body_that_does_not_match_the_schema_raises_unexpected_response() -> None:
    rec = Recorder(httpx.Response(200, json={"data": {"id": 5}}))
    with make_client(rec) as client, pytest.raises(UnexpectedResponse) as caught:
        client.get_order(5)
    assert "7 validation error(s) for OrderResponse: data.created_at: Field required" in str(caught.value)
    assert "data.id: Input should be a valid string" in str(caught.value) and "(+4 more)" in str(caught.value)
    assert {"data.id", "data.order_id", "data.order_number"} <= set(caught.value.fields)


def test_delete_returns_none_and_update_sends_only_given_fields() -> None:
    rec = Recorder(
        httpx.Response(204),
        httpx.Response(200, json={"data": {"id": 3, "order_id": "ext-3", "order_number": "N-3"}}),
    )
    with make_client(rec) as client:
        assert client.delete_order(3) is None
        updated = client.update_order(3, {"order_details": {"status": {"code": "shipped"}}})
    assert updated.data.id == 3
    assert rec.requests[0].method == "DELETE" and rec.requests[0].url.path == "/api/v3/orders/3"
    assert json.loads(rec.requests[1].content) == {"order_details": {"status": {"code": "shipped"}}}


def pages(total_pages: int, per_page: int = 2) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("cursor", "0"))
        items = [stored(page * per_page + i) for i in range(per_page)]
        headers = {}
        if page + 1 < total_pages:
            nxt = request.url.copy_set_param("cursor", str(page + 1))
            headers["Link"] = f'<{nxt}>; rel="next"'
        return httpx.Response(200, json={"data": items}, headers=headers)

    return handler


def test_iter_orders_follows_link_headers_across_3_pages() -> None:
    rec = Recorder(pages(3))
    with make_client(rec) as client:
        ids = [o.id for o in client.iter_orders(integration=[41, 68], page_size=2, sort="-pk")]
    assert ids == [str(i) for i in range(6)]
    assert len(rec.requests) == 3
    first = rec.requests[0].url.params
    assert first["integration"] == "41,68" and first["page_size"] == "2" and "cursor" not in first
    assert [r.url.params.get("cursor") for r in rec.requests[1:]] == ["1", "2"]
    assert all(r.url.params["integration"] == "41,68" for r in rec.requests)


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        ("https://evil.example/api/v3/orders?cursor=1", "leaves https://api.test"),
        ("//evil.example/orders", "leaves https://api.test"),
        ("http://api.test/api/v3/orders?cursor=1", "leaves https://api.test"),
        ("https://api.test:8443/api/v3/orders", "leaves https://api.test"),
        ("http://[::1", "not a URL"),
    ],
)
def test_a_next_link_to_another_origin_or_no_url_is_not_followed(link: str, problem: str) -> None:
    first = httpx.Response(200, json={"data": [stored(0)]}, headers={"Link": f'<{link}>; rel="next"'})
    rec = Recorder(first, pages(1))
    with make_client(rec) as client, pytest.raises(UnexpectedResponse, match=problem):
        list(client.iter_orders())
    assert len(rec.requests) == 1  # the credentials never went anywhere else


def test_iter_orders_falls_back_to_a_cursor_in_the_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("cursor", "0"))
        body: dict[str, Any] = {"data": [stored(page)]}
        if page < 2:
            body["next_cursor"] = str(page + 1)
        return httpx.Response(200, json=body)

    rec = Recorder(handler)
    with make_client(rec) as client:
        assert [o.id for o in client.iter_orders(status="open")] == ["0", "1", "2"]
    assert [r.url.params.get("status") for r in rec.requests] == ["open"] * 3


def test_iter_orders_stops_at_max_pages() -> None:
    rec = Recorder(pages(10_000))
    with make_client(rec) as client, pytest.raises(PageLimitError):
        list(client.iter_orders(max_pages=4))
    assert len(rec.requests) == 4


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("/data/attributes/[0]/order_details/integration", (0, ("order_details", "integration"))),
        ("/data/attributes/[12]", (12, ())),
        ("/data/attributes/[2]/a~1b/x~0y", (2, ("a/b", "x~y"))),
        ("/data", (None, ("data",))),
        ("order/order_details/order_items", (None, ("order", "order_details", "order_items"))),
        ("/data/attributes/[0]/order_items/\u00b2", (0, ("order_items", "\u00b2"))),  # isdigit, not int()
        ("/data/attributes/[\u0663]/x", (None, ("data", "attributes", "[\u0663]", "x"))),  # non-ASCII digit
    ],
)
def test_parse_pointer(pointer: str, expected: tuple[int | None, tuple[str | int, ...]]) -> None:
    assert parse_pointer(pointer) == expected


def test_an_odd_pointer_in_an_error_body_still_gives_an_api_error() -> None:
    body = json.dumps({"errors": [{"detail": "bad", "source": {"pointer": "/data/attributes/[1]/\u00b2"}}]})
    error = ApiError(400, body.encode())
    assert [(e.batch_index, e.field_path) for e in error.errors] == [(1, ("\u00b2",))]


async def test_async_client_retries_chunks_and_paginates() -> None:
    rec = Recorder(httpx.Response(400, json=CONFLICT), echo_upsert)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = httpx.MockTransport(rec)
    async with AsyncOrdersClient(
        BASE, transport=transport, sleep=sleep, retry=RetryPolicy(jitter=False)
    ) as client:
        results = await client.upsert_orders_chunked([order(i) for i in range(120)])
        with pytest.raises(BatchSizeError):
            await client.upsert_orders([])
    assert [r.id for r in results] == [1000 + i for i in range(120)]
    assert [len(json.loads(r.content)) for r in rec.requests] == [100, 100, 20]  # first try was the conflict
    assert sleeps == [0.5]

    paging = Recorder(pages(3))
    async with AsyncOrdersClient(BASE, transport=httpx.MockTransport(paging)) as client:
        ids = [o.id async for o in client.iter_orders()]
    assert ids == [str(i) for i in range(6)] and len(paging.requests) == 3


def test_a_bad_item_in_a_chunked_upsert_is_named_by_its_input_index_before_any_request() -> None:
    orders = [order(i) for i in range(250)]
    del orders[180]["payment_details"]["total_price"]
    rec = Recorder(echo_upsert)
    with make_client(rec) as client, pytest.raises(RequestValidationError) as caught:
        client.upsert_orders_chunked(orders)
    assert rec.requests == []
    assert [(e.batch_index, e.field_path) for e in caught.value.errors] == [
        (180, ("payment_details", "total_price"))
    ]
    assert str(caught.value).startswith(
        "invalid OrderUpsert: item 180: payment_details.total_price: Field required"
    )
