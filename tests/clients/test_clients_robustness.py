"""Whatever the API answers, the generated clients either parse it into the typed result or raise the
typed `ApiError` (with parsed pointers) — never any other exception.

Answers are generated from the spec's response schemas (documented successes and error shapes, `Link`
headers) plus garbage (non-JSON, wrong shapes, empty and truncated bodies, undocumented statuses), and fed
to the sync and async clients through `httpx.MockTransport`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from clients_support import order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sendcloud_orders import (
    ApiError,
    AsyncOrdersClient,
    OrderList,
    OrderResponse,
    OrdersClient,
    OrderUpdatedResponse,
    OrderUpsertResponse,
    UnexpectedResponse,
)

from contracts._settings import examples_for_profile
from contracts.strategies import load_spec, value_strategy

EXAMPLES = examples_for_profile(ci=40, dev=100, deep=1000)
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
SPEC = load_spec()
API = "http://api.test/api/v3"

# operation → (client call, documented success status, its response model or None for no body)
CALLS: dict[str, tuple[int, type[Any] | None]] = {
    "upsertOrders": (201, OrderUpsertResponse),
    "listOrders": (200, OrderList),
    "getOrder": (200, OrderResponse),
    "updateOrder": (200, OrderUpdatedResponse),
    "deleteOrder": (204, None),
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    documented: bool  # generated from the spec for this operation and status


def _documented(operation_id: str) -> st.SearchStrategy[Answer]:
    _, _, op = SPEC.operation(operation_id)
    options = []
    for code, raw in sorted(op["responses"].items()):
        response = SPEC.deref(raw)
        schema = (response.get("content") or {}).get("application/json", {}).get("schema")
        status = int(code)
        if schema is None:
            options.append(st.just(Answer(status, b"", {}, True)))
            continue
        bodies = value_strategy(schema).map(lambda v: json.dumps(v).encode())
        if "Link" in (response.get("headers") or {}):
            links = st.sampled_from(
                [{}, {"Link": f'<{API}/orders?cursor=cj0xJnA9MzAw>; rel="next"'}, {"Link": "garbage"}]
            )
        else:
            links = st.just({})
        options.append(st.builds(lambda b, h, s=status: Answer(s, b, h, True), bodies, links))
    return st.one_of(options)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_SHAPES = st.sampled_from(
    [
        {"data": None},
        {"data": [{"id": "x"}]},
        {"data": {"id": 1}},
        {"errors": {"detail": "x"}},
        {"errors": [{"status": 400}]},
        {"errors": [{"source": {"pointer": "/data/attributes/[x]/a"}}]},
        {"errors": "boom"},
        {"error": "not an array"},
    ]
)
_GARBAGE_BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=20),
    st.text(max_size=20).map(str.encode),
    st.just(b"<html><body>502 Bad Gateway</body></html>"),
    _JSON.map(lambda v: json.dumps(v).encode()),
    _SHAPES.map(lambda v: json.dumps(v).encode()),
    _SHAPES.map(lambda v: json.dumps(v).encode()[:-3]),  # truncated
)
_GARBAGE = st.builds(
    lambda status, body, ctype: Answer(status, body, {"Content-Type": ctype}, False),
    st.sampled_from([200, 201, 204, 301, 400, 401, 404, 409, 429, 500, 502, 503]),
    _GARBAGE_BODIES,
    st.sampled_from(["application/json", "text/html", "text/plain"]),
)


def answers(operation_id: str) -> st.SearchStrategy[Answer]:
    documented = _documented(operation_id)  # half documented answers, half garbage
    return st.booleans().flatmap(lambda garbage: _GARBAGE if garbage else documented)


def _handler(answer: Answer, seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"Content-Type": "application/json", **answer.headers}
        return httpx.Response(answer.status, content=answer.body, headers=headers)

    return handle


def _call_sync(operation_id: str, client: OrdersClient) -> Any:
    if operation_id == "upsertOrders":
        return client.upsert_orders([order(0)])
    if operation_id == "listOrders":
        return client.list_orders(integration=[7])
    if operation_id == "getOrder":
        return client.get_order(669)
    if operation_id == "updateOrder":
        return client.update_order(669, {"order_number": "N-1"})
    return client.delete_order(669)


async def _call_async(operation_id: str, client: AsyncOrdersClient) -> Any:
    if operation_id == "upsertOrders":
        return await client.upsert_orders([order(0)])
    if operation_id == "listOrders":
        return await client.list_orders(integration=[7])
    if operation_id == "getOrder":
        return await client.get_order(669)
    if operation_id == "updateOrder":
        return await client.update_order(669, {"order_number": "N-1"})
    return await client.delete_order(669)


def _check_outcome(operation_id: str, answer: Answer, outcome: Any) -> None:
    """`outcome` is the returned value or the raised exception."""
    success, model = CALLS[operation_id]
    if isinstance(outcome, ApiError):
        assert outcome.status_code == answer.status and outcome.body == answer.body
        if answer.documented and operation_id == "upsertOrders" and isinstance(outcome, UnexpectedResponse):
            # x-contract batch.result_order: one result per item sent (we send one); other counts are refused
            assert len(json.loads(answer.body)["data"]) != 1, f"a matching 201 answer was refused: {outcome}"
            return
        if answer.documented:
            assert answer.status >= 300, f"a documented {answer.status} answer was refused: {outcome}"
            data = json.loads(answer.body)
            pointers = [e.get("source", {}).get("pointer") for e in data["errors"]]
            assert [e.pointer for e in outcome.errors] == pointers
            for detail in outcome.errors:
                if detail.pointer and detail.pointer.startswith("/data/attributes/["):
                    assert detail.batch_index is not None
        if isinstance(outcome, UnexpectedResponse):
            assert 200 <= answer.status < 300
        return
    assert not isinstance(outcome, BaseException), f"{type(outcome).__name__}: {outcome}"
    assert 200 <= answer.status < 300, f"HTTP {answer.status} was returned as a result: {outcome!r}"
    if model is None:
        assert outcome is None or answer.status != success or answer.body == b""
    else:
        assert isinstance(outcome, model)
        if operation_id == "upsertOrders" and answer.status == success:
            assert len(outcome.data) == 1  # never a result list that does not match the batch sent
        if answer.documented:
            assert outcome.model_dump(mode="json", exclude_unset=True) is not None


@pytest.mark.parametrize("operation_id", sorted(CALLS))
def test_sync_client_parses_or_raises_api_error(operation_id: str) -> None:
    @SETTINGS
    @given(answers(operation_id))
    def run(answer: Answer) -> None:
        seen: list[httpx.Request] = []
        transport = httpx.MockTransport(_handler(answer, seen))
        with OrdersClient(
            API, username="u", password="p", transport=transport, sleep=lambda _: None
        ) as client:
            try:
                outcome: Any = _call_sync(operation_id, client)
            except ApiError as exc:
                outcome = exc
            except Exception as exc:  # the property: nothing else may escape
                raise AssertionError(f"{operation_id} raised {type(exc).__name__}: {exc}") from exc
        _check_outcome(operation_id, answer, outcome)
        assert 1 <= len(seen) <= 4  # retries are bounded

    run()


@pytest.mark.parametrize("operation_id", sorted(CALLS))
def test_async_client_parses_or_raises_api_error(operation_id: str) -> None:
    async def noop(_: float) -> None:
        return None

    @SETTINGS
    @given(answers(operation_id))
    def run(answer: Answer) -> None:
        seen: list[httpx.Request] = []
        transport = httpx.MockTransport(_handler(answer, seen))

        async def go() -> Any:
            async with AsyncOrdersClient(
                API, username="u", password="p", transport=transport, sleep=noop
            ) as c:
                try:
                    return await _call_async(operation_id, c)
                except ApiError as exc:
                    return exc
                except Exception as exc:
                    raise AssertionError(f"{operation_id} raised {type(exc).__name__}: {exc}") from exc

        _check_outcome(operation_id, answer, asyncio.run(go()))
        assert 1 <= len(seen) <= 4

    run()


def test_iter_orders_pages_through_generated_pages_or_raises_api_error() -> None:
    page = value_strategy(SPEC.schema("OrderList"))

    @SETTINGS
    @given(page, page, st.one_of(st.none(), _GARBAGE))
    def run(first: dict[str, Any], second: dict[str, Any], broken: Answer | None) -> None:
        pages = [
            httpx.Response(200, json=first, headers={"Link": f'<{API}/orders?cursor=p2>; rel="next"'}),
            httpx.Response(broken.status, content=broken.body, headers=broken.headers)
            if broken is not None
            else httpx.Response(200, json=second),
        ]
        calls: list[int] = []

        def handle(request: httpx.Request) -> httpx.Response:
            calls.append(1)
            return pages[min(len(calls), 2) - 1]

        transport = httpx.MockTransport(handle)
        with OrdersClient(
            API, username="u", password="p", transport=transport, sleep=lambda _: None
        ) as client:
            try:
                got = [o.id for o in client.iter_orders(page_size=2)]
            except ApiError as exc:
                assert broken is not None and exc.status_code == broken.status
                return
            except Exception as exc:
                raise AssertionError(f"iter_orders raised {type(exc).__name__}: {exc}") from exc
        if broken is None:
            assert got == [o["id"] for o in first["data"]] + [o["id"] for o in second["data"]]

    run()


_SEGMENT = st.one_of(
    st.sampled_from(["order_details", "order_items", "quantity", "integration", "id"]), st.integers(0, 9)
)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 99), st.lists(_SEGMENT, max_size=4)),
        min_size=1,
        max_size=3,
    )
)
def test_contract_pointers_are_parsed_into_index_and_path(
    problems: list[tuple[int, list[int | str]]],
) -> None:
    """400 answers whose pointers follow x-contract.error_pointer (`/data/attributes/[i]/a/0/b`)."""
    template = SPEC.contract.errors.template or ""
    errors = [
        {
            "status": "400",
            "code": "invalid",
            "detail": "bad",
            "source": {"pointer": template.format(index=i, path="".join(f"/{p}" for p in path))},
        }
        for i, path in problems
    ]
    transport = httpx.MockTransport(lambda request: httpx.Response(400, json={"errors": errors}))
    with OrdersClient(API, username="u", password="p", transport=transport) as client:
        with pytest.raises(ApiError) as raised:
            client.upsert_orders([order(0)])
    parsed = [(e.batch_index, list(e.field_path)) for e in raised.value.errors]
    assert parsed == [(i, path) for i, path in problems]
    assert raised.value.error_response is not None
