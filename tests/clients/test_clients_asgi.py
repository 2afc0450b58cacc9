"""The bounded body reader shared by the checking middleware and the proxy; bounded decompression."""

from __future__ import annotations

import gzip
import json

import pytest
from starlette.types import Message

from contracts.clients._asgi import MAX_BODY_BYTES, BodyTooLarge, read_body, read_body_or_413
from contracts.clients._middleware import _decoded


def _receiver(messages: list[Message]):  # type: ignore[no-untyped-def]
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


async def test_chunks_are_joined_in_order() -> None:
    receive = _receiver(
        [
            {"type": "http.request", "body": b"[{", "more_body": True},
            {"type": "http.request", "body": b"}]", "more_body": False},
        ]
    )
    assert await read_body(receive) == b"[{}]"


async def test_a_disconnect_before_the_end_gives_none() -> None:
    partial: Message = {"type": "http.request", "body": b"[", "more_body": True}
    receive = _receiver([partial, {"type": "http.disconnect"}])
    assert await read_body(receive) is None


async def test_reading_stops_at_the_limit() -> None:
    endless = [{"type": "http.request", "body": b"x" * 100, "more_body": True} for _ in range(5)]
    with pytest.raises(BodyTooLarge, match="exceeds 250 bytes"):
        await read_body(_receiver(endless), limit=250)


async def test_past_the_limit_a_413_in_the_error_shape_is_sent_and_nothing_returned() -> None:
    endless = [{"type": "http.request", "body": b"x" * 100, "more_body": True} for _ in range(5)]
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    assert await read_body_or_413(_receiver(endless), send, limit=250) is None
    assert sent[0]["status"] == 413
    (error,) = json.loads(sent[1]["body"])["errors"]
    assert (error["status"], error["detail"]) == ("413", "Request body exceeds 250 bytes")


def test_decompressing_an_answer_stops_at_the_body_limit() -> None:
    headers = [("content-encoding", "gzip")]
    assert _decoded(gzip.compress(b'{"data": []}'), headers) == b'{"data": []}'
    bomb = gzip.compress(b"\0" * (MAX_BODY_BYTES + 1), compresslevel=1)  # ~66 KB on the wire
    assert len(bomb) < 1024 * 1024
    assert _decoded(bomb, headers) is None
