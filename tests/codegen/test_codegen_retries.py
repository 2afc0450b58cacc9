"""Retries of the generated client: Retry-After, 429, idempotency, chunked transport errors, max_pages."""

from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest
from sendcloud_orders import ApiError, AsyncOrdersClient, ChunkError, OrdersClient, RetryPolicy
from test_codegen_client import BASE, Recorder, echo_upsert, make_client, order, stored


def test_retry_after_seconds_is_honoured_instead_of_the_backoff() -> None:
    rec = Recorder(
        httpx.Response(503, headers={"Retry-After": "3"}), httpx.Response(200, json={"data": stored(1)})
    )
    sleeps: list[float] = []
    with make_client(rec, sleeps) as client:
        assert client.get_order(1).data.id == "1"
    assert sleeps == [3.0]


def test_retry_after_as_an_http_date_is_honoured() -> None:
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    rec = Recorder(
        httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json={"data": stored(1)})
    )
    sleeps: list[float] = []
    with make_client(rec, sleeps) as client:
        client.get_order(1)
    assert len(sleeps) == 1 and 3.0 < sleeps[0] <= 5.0


def test_a_retry_after_beyond_the_bound_ends_the_retries_with_the_header_kept() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}))
    sleeps: list[float] = []
    with make_client(rec, sleeps, retry=RetryPolicy(jitter=False, max_retry_after=60)) as client:
        with pytest.raises(ApiError) as caught:
            client.get_order(1)
    assert len(rec.requests) == 1 and sleeps == []
    assert caught.value.status_code == 429 and caught.value.headers["retry-after"] == "3600"


def test_429_is_retried_even_for_a_delete_the_server_refused_to_process() -> None:
    rec = Recorder(httpx.Response(429), httpx.Response(204))
    sleeps: list[float] = []
    with make_client(rec, sleeps) as client:
        assert client.delete_order(3) is None
    assert len(rec.requests) == 2 and sleeps == [0.5]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(502, text="bad gateway"),
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("connection dropped"),
    ],
    ids=["5xx", "read-timeout", "dropped"],
)
def test_a_delete_is_never_repeated_after_an_ambiguous_failure(failure: httpx.Response | Exception) -> None:
    """The first DELETE may have succeeded: repeating it would turn success into a 404 error."""

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(failure, Exception):
            raise type(failure)(str(failure), request=request)
        return failure

    rec = Recorder(handler, httpx.Response(404, json={"errors": [{"detail": "Not found"}]}))
    with make_client(rec) as client, pytest.raises((ApiError, httpx.TransportError)) as caught:
        client.delete_order(3)
    assert len(rec.requests) == 1
    assert not (isinstance(caught.value, ApiError) and caught.value.status_code == 404)


def test_a_patch_is_not_repeated_after_a_5xx_but_is_when_the_caller_opts_in() -> None:
    ok = httpx.Response(200, json={"data": {"id": 3, "order_id": "ext-3", "order_number": "N-3"}})
    rec = Recorder(httpx.Response(500), ok)
    with make_client(rec) as client, pytest.raises(ApiError):
        client.update_order(3, {"order_number": "N-3"})
    assert len(rec.requests) == 1
    rec = Recorder(httpx.Response(500), ok)
    with make_client(rec, retry=RetryPolicy(jitter=False, retry_non_idempotent=True)) as client:
        assert client.update_order(3, {"order_number": "N-3"}).data.id == 3
    assert len(rec.requests) == 2


def test_a_connection_that_was_never_made_is_retried_for_any_method() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rec = Recorder(refused, httpx.Response(204))
    with make_client(rec) as client:
        assert client.delete_order(3) is None
    assert len(rec.requests) == 2


def test_the_keyed_upsert_is_idempotent_and_retried_after_a_5xx() -> None:
    rec = Recorder(httpx.Response(503), echo_upsert)
    with make_client(rec) as client:
        assert client.upsert_orders([order(1)]).data[0].id == 1001
    assert len(rec.requests) == 2


def test_a_transport_error_in_a_chunked_upsert_is_wrapped_with_its_offset() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] >= 2:
            raise httpx.ReadTimeout("slow", request=request)
        return echo_upsert(request)

    with make_client(Recorder(handler), retry=RetryPolicy(max_attempts=2, jitter=False)) as client:
        with pytest.raises(ChunkError) as caught:
            client.upsert_orders_chunked([order(i) for i in range(25)], chunk_size=10)
    error = caught.value
    assert (error.offset, error.size, len(error.completed), error.status_code) == (10, 10, 10, 0)
    assert isinstance(error.error, httpx.ReadTimeout) and isinstance(error, ApiError)
    assert "chunk of items 10..19 failed (10 item(s) accepted before): ReadTimeout" in str(error)


@pytest.mark.parametrize("bad", [0, -1])
def test_max_pages_below_one_is_a_value_error_before_any_request(bad: int) -> None:
    rec = Recorder(httpx.Response(200, json={"data": []}))
    with make_client(rec) as client, pytest.raises(ValueError, match="max_pages must be at least 1"):
        client.iter_orders(max_pages=bad)
    assert rec.requests == []


async def test_async_client_honours_retry_after_and_never_repeats_a_delete_after_a_5xx() -> None:
    rec = Recorder(
        httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, json={"data": stored(4)})
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with AsyncOrdersClient(BASE, transport=httpx.MockTransport(rec), sleep=sleep) as client:
        assert (await client.get_order(4)).data.id == "4"
        deleting = Recorder(httpx.Response(500), httpx.Response(404))
        client._http = httpx.AsyncClient(transport=httpx.MockTransport(deleting))
        with pytest.raises(ApiError) as caught:
            await client.delete_order(4)
        await client._http.aclose()
    assert sleeps == [2.0]
    assert caught.value.status_code == 500 and len(deleting.requests) == 1
    with pytest.raises(ValueError, match="max_pages"):
        client.iter_orders(max_pages=0)


def test_raw_response_gives_status_headers_and_the_parsed_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(204, headers={"X-Request-Id": "r2"})
        return httpx.Response(200, json={"data": stored(8)}, headers={"X-Request-Id": "r1"})

    with make_client(Recorder(handler)) as client:
        raw = client.get_order.raw(8)
        deleted = client.delete_order.raw(8)
        plain = client.get_order(8)
        unbound = OrdersClient.get_order(client, 8)
    assert (raw.status_code, raw.headers["x-request-id"], raw.parsed.data.id) == (200, "r1", "8")
    assert raw.http_response.json()["data"]["id"] == "8"
    assert (deleted.status_code, deleted.parsed, deleted.headers["x-request-id"]) == (204, None, "r2")
    assert plain == raw.parsed == unbound
    assert "Retrieve one order" in (client.get_order.__doc__ or "")


async def test_async_raw_response() -> None:
    rec = Recorder(echo_upsert)
    async with AsyncOrdersClient(BASE, transport=httpx.MockTransport(rec)) as client:
        raw = await client.upsert_orders.raw([order(1), order(2)])
    assert raw.status_code == 201 and [r.id for r in raw.parsed.data] == [1001, 1002]
    assert json.loads(raw.http_response.content)["data"][0]["order_id"] == "ext-1"
