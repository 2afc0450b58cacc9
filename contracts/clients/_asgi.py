"""Small ASGI helpers shared by the checking middleware and the proxy: bounded body reads, JSON answers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.types import Receive, Send

from contracts.contract import ErrorRules

from ._envelope import error_body

__all__ = [
    "MAX_BODY_BYTES",
    "OWN_ANSWER",
    "BodyTooLarge",
    "read_body",
    "read_body_or_413",
    "send_error",
    "send_json",
]

# Far above the reference server's own limit (5 MiB): the checks never refuse what the server would take.
MAX_BODY_BYTES = 64 * 1024 * 1024
# Scope key set by an app of ours (the proxy) when it answers itself (502, 504): not the API's answer, so
# not checked against the spec.
OWN_ANSWER = "orders_contract.own_answer"


class BodyTooLarge(Exception):
    """The request body went past the limit; nothing more of it was read."""


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The whole request body, or None when the client disconnected before sending all of it."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"Request body exceeds {limit} bytes")
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


async def read_body_or_413(
    receive: Receive, send: Send, limit: int = MAX_BODY_BYTES, errors: ErrorRules | None = None
) -> bytes | None:
    """:func:`read_body`, answering 413 in the error shape itself; None when there is nothing to do."""
    try:
        return await read_body(receive, limit)
    except BodyTooLarge as exc:
        await send_error(send, 413, "Payload too large", str(exc), errors)
        return None


async def send_json(send: Send, status: int, data: Any, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(data).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_error(
    send: Send, status: int, title: str, detail: str, errors: ErrorRules | None = None
) -> None:
    """An answer in the error envelope of the contract (``errors``), or a JSON:API-like one without."""
    await send_json(send, status, error_body(errors, status, detail, title=title))
