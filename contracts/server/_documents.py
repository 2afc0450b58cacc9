"""Turning a validated order document into a storage row and a stored row back into a response document."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from ._storage import OrderRow, StoredOrder

__all__ = ["DocumentTooDeepError", "encode_body", "now_iso", "order_document", "order_json", "stored_order"]


class DocumentTooDeepError(ValueError):
    """The document nests deeper than the JSON encoder allows."""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=8192)
def _shop_time(value: Any) -> tuple[str, str]:
    """(normalised UTC timestamp, UTC date) of a shop timestamp; ('', '') when absent."""
    if not isinstance(value, str) or not value:
        return "", ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value, value[:10]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    normal = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    return normal, normal[:10]


def encode_body(document: dict[str, Any]) -> bytes:
    """The stored JSON of an order: the document without server-owned fields."""
    if "id" in document or "created_at" in document or "modified_at" in document:
        document = {k: v for k, v in document.items() if k not in ("id", "created_at", "modified_at")}
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError as exc:
        raise DocumentTooDeepError(str(exc)) from exc


def stored_order(
    account: str,
    document: dict[str, Any],
    body: bytes,
    *,
    created_at: str,
    modified_at: str,
    visible_at: float,
) -> StoredOrder:
    details = document.get("order_details") or {}
    status = details.get("status") or {}
    created, created_date = _shop_time(details.get("order_created_at"))
    updated, updated_date = _shop_time(details.get("order_updated_at"))
    return StoredOrder(
        account=account,
        integration_id=int(details["integration"]["id"]),
        order_id=str(document["order_id"]),
        order_number=str(document["order_number"]),
        status=str(status.get("code", "")),
        shop_created_at=created,
        shop_created_date=created_date,
        shop_updated_at=updated,
        shop_updated_date=updated_date,
        body=body,
        created_at=created_at,
        modified_at=modified_at,
        visible_at=visible_at,
    )


def order_document(row: OrderRow) -> dict[str, Any]:
    """The ``Order`` of a stored row: the stored document plus id (string of digits) and timestamps."""
    document: dict[str, Any] = {"id": str(row.id)}
    document.update(orjson.loads(row.body))
    document["created_at"] = row.created_at
    document["modified_at"] = row.modified_at
    return document


def order_json(row: OrderRow) -> bytes:
    """The same as ``orjson.dumps(order_document(row))``, spliced from the stored bytes without parsing."""
    head = b'{"id":"%d"' % row.id
    inner = row.body[1:-1].strip()
    tail = (
        b'"created_at":'
        + orjson.dumps(row.created_at)
        + b',"modified_at":'
        + orjson.dumps(row.modified_at)
        + b"}"
    )
    return head + b"," + (inner + b"," if inner else b"") + tail
