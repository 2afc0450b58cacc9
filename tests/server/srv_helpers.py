"""Helpers shared by the reference-server tests (unique module name: tests run in prepend import mode)."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sendcloud_orders.models import ErrorResponse

from contracts.server import RunningServer

_counter = itertools.count()


def unique(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}-{next(_counter)}"


def make_order(order_id: str | None = None, integration: int = 7, **overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "order_id": order_id or unique(),
        "order_number": overrides.pop("order_number", "N-" + uuid.uuid4().hex[:8]),
        "order_details": {
            "integration": {"id": integration},
            "status": {"code": overrides.pop("status", "fulfilled"), "message": "Fulfilled"},
            "order_created_at": overrides.pop("created", "2024-03-01T10:00:00.000Z"),
            "order_items": [
                {"name": "Orange", "quantity": 1, "total_price": {"value": 3.5, "currency": "EUR"}},
                {"name": "Candle", "quantity": 2, "total_price": {"value": 7.0, "currency": "EUR"}},
            ],
        },
        "payment_details": {"total_price": {"value": 10.5, "currency": "EUR"}, "status": {"code": "paid"}},
        "shipping_address": {
            "name": "John Doe",
            "address_line_1": "Stadhuisplein",
            "house_number": "15",
            "postal_code": "5341AB",
            "city": "Oss",
            "country_code": "NL",
        },
    }
    updated = overrides.pop("updated", None)
    if updated is not None:
        order["order_details"]["order_updated_at"] = updated
    order.update(overrides)
    return order


@contextmanager
def client(server: RunningServer, *, auth: tuple[str, str] | None = None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api_url, auth=auth or server.auth, timeout=30.0) as c:
        yield c


def pointers(response: httpx.Response) -> list[str]:
    return [e.get("source", {}).get("pointer") for e in response.json()["errors"]]


def details(response: httpx.Response) -> list[str]:
    return [e["detail"] for e in response.json()["errors"]]


def assert_error_shape(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for error in body["errors"]:
        assert error["status"] == str(status)
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["detail"], str) and error["detail"]
    ErrorResponse.model_validate(body)  # the spec's shape, including the closed list of codes
    errors: list[dict[str, Any]] = body["errors"]
    return errors


def db_rows(server: RunningServer, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the server's SQLite file directly (a second, read-only connection)."""
    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
