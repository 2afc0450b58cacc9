"""Random JSON and query strings never produce a 500, a non-JSON answer or a hang."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from srv_helpers import assert_error_shape, make_order

from contracts.server import RunningServer, running_server_in_thread

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)
_order_keys = st.sampled_from(
    ["order_id", "order_number", "order_details", "payment_details", "id", "shipping_address"]
)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server_in_thread() as started:
        yield started


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api_url, auth=server.auth, timeout=30) as c:
        yield c


def _ok_or_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_error_shape(response, response.status_code)


_fast = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_fast
@given(body=_json)
def test_random_json_bodies(http: httpx.Client, body: Any) -> None:
    _ok_or_error(http.post("/orders", json=body))
    _ok_or_error(http.patch("/orders/1", json=body))


@_fast
@given(key=_order_keys, value=_json, index=st.integers(0, 2))
def test_orders_with_one_field_replaced(http: httpx.Client, key: str, value: Any, index: int) -> None:
    batch = [make_order() for _ in range(3)]
    batch[index][key] = value
    _ok_or_error(http.post("/orders", json=batch))


@_fast
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["integration", "order_id", "status", "sort", "page_size", "cursor", "order_created_at_min"]
        ),
        st.text(max_size=15),
        max_size=4,
    ),
    path=st.text(max_size=12),
)
def test_random_queries_and_paths(http: httpx.Client, params: dict[str, str], path: str) -> None:
    _ok_or_error(http.get("/orders", params=params))
    _ok_or_error(http.get("/orders/" + urllib.parse.quote(path, safe="")))
