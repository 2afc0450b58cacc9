"""Small builders of conforming requests for the client-conformance tests."""

from __future__ import annotations

import base64
import json
from typing import Any

BASE = "/api/v3"


def basic(user: str = "demo", password: str = "demo-secret") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def headers(**extra: str) -> dict[str, str]:
    return {"Authorization": basic(), "Content-Type": "application/json", **extra}


def order(index: int = 0, integration: int = 7, **changes: Any) -> dict[str, Any]:
    item = {
        "order_id": f"order-{index}",
        "order_number": f"N-{index}",
        "order_details": {
            "integration": {"id": integration},
            "status": {"code": "fulfilled", "message": "Fulfilled"},
            "order_created_at": "2018-02-27T10:00:00.555Z",
            "order_items": [
                {"name": "Orange", "quantity": 1, "total_price": {"value": 3.5, "currency": "EUR"}}
            ],
        },
        "payment_details": {"total_price": {"value": 3.5, "currency": "EUR"}, "status": {"code": "paid"}},
    }
    item.update(changes)
    return item


def body(value: Any) -> bytes:
    return json.dumps(value).encode()
