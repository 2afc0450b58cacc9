"""Builders of Karrio-dialect requests (spec/karrio-batch-orders.yaml) for the client-check tests."""

from __future__ import annotations

import json
from typing import Any

SPEC = "karrio-batch-orders"
BATCH = "/v1/batches/orders"
OPERATIONS = "/v1/batches/operations"
KEY = "key_3f9a0c1d"


def token(key: str = KEY) -> str:
    return f"Token {key}"


def headers(**extra: str) -> dict[str, str]:
    return {"Authorization": token(), "Content-Type": "application/json", **extra}


def karrio_order(index: int = 0, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "order_id": f"K-{index}",
        "source": "ERP",
        "order_date": "2026-01-15",
        "shipping_to": {
            "person_name": "Jane Doe",
            "address_line1": "125 Church St",
            "city": "Moncton",
            "postal_code": "E1C 4Z8",
            "country_code": "CA",
        },
        "line_items": [{"title": "Blue mug", "quantity": 2, "weight": 0.4, "weight_unit": "KG"}],
    }
    item.update(changes)
    return item


def batch(*items: dict[str, Any]) -> bytes:
    return json.dumps({"orders": list(items)}).encode()
