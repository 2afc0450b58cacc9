"""Small builders of conforming requests for the client-conformance tests."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from hypothesis import strategies as st

BASE = "/api/v3"

# Any JSON value, small: for request bodies the checks must survive.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


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


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread on a free 127.0.0.1 port; yield its base URL; stop it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
