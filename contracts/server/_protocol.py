"""HTTP/1.1 at the connection level: uvicorn's httptools protocol with three gaps closed.

1. **Answers that reach send-first clients.**  When the app answers before the request body has fully arrived
   (a 413 for a body over the limit, a 401 before a large body is read), closing at once makes the kernel
   reset the connection while a client that writes its whole body before reading (urllib, http.client, many
   libraries) is still writing, and it never sees the answer.  Like nginx's ``lingering_close``, the answer
   (to a body over 64 KiB or chunked; a smaller rest is read past on a kept-alive connection) says
   ``connection: close``, the server shuts its sending side (FIN after the answer) and keeps reading and
   discarding what the client still sends, bounded in bytes (``discard_bytes``), in time (``linger_time``) and
   in silence (``linger_idle``), then closes.
2. **Malformed HTTP gets the contract's error shape.**  A request the parser refuses (unknown method, two
   Content-Length headers, a bad chunk size, ``HTTP/9.9``...) is answered 400 with the served contract's
   error envelope naming the parser's reason, instead of uvicorn's ``text/plain`` line.
3. **Stalled headers are bounded.**  A connection whose request line and headers are not complete within
   ``header_timeout`` seconds is answered 408 (closed silently when it sent nothing), and request line plus
   headers over ``max_header_bytes`` are answered 431; uvicorn has neither bound with httptools.

The bodies are rendered once, at launch, from the contract (:func:`protocol_policy`); the class is handed to
uvicorn as ``http=`` (a picklable ``functools.partial``, so worker processes get it too).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from contracts.contract import load_contract

from ._errors import ApiError, error_response
from ._settings import ServerSettings
from ._shape import shape_of

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent
    from uvicorn.config import Config
    from uvicorn.server import ServerState

__all__ = [
    "DEFAULT_HEADER_TIMEOUT",
    "ContractHttpProtocol",
    "ProtocolPolicy",
    "http_protocol",
    "protocol_policy",
]

DEFAULT_HEADER_TIMEOUT = 10.0
_DETAIL = "__orders_contract_protocol_detail__"  # stands for the detail in the pre-rendered bodies
_STATUSES = (400, 408, 431)
_SMALL_BODY = 64 * 1024  # an unread body up to this size does not end a kept-alive connection
log = logging.getLogger("contracts.server")


@dataclass(frozen=True)
class ProtocolPolicy:
    """The bounds and the pre-rendered error bodies (plain data, so it pickles into worker processes)."""

    templates: Mapping[int, bytes]  # status -> the error body, with _DETAIL where the detail goes
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    max_header_bytes: int = 64 * 1024
    discard_bytes: int = 4 * 5 * 1024 * 1024
    linger_time: float = 30.0
    linger_idle: float = 5.0

    @classmethod
    def rendered(cls, render: Callable[[int, str], bytes], **bounds: Any) -> ProtocolPolicy:
        """Render each answer's body once, with ``render(status, detail)``."""
        return cls(templates={status: render(status, _DETAIL) for status in _STATUSES}, **bounds)

    def body(self, status: int, detail: str) -> bytes:
        return self.templates[status].replace(_DETAIL.encode(), orjson.dumps(detail)[1:-1])


def protocol_policy(settings: ServerSettings, *, header_timeout: float | None = None) -> ProtocolPolicy:
    """The policy for ``settings``: bodies in the served contract's error shape, rendered the way the app
    renders its own errors; up to four bodies' worth of bytes discarded while lingering.  ``header_timeout``
    defaults to the settings' own, when they have one."""
    shape = shape_of(load_contract(settings.spec_path))

    def render(status: int, detail: str) -> bytes:
        return bytes(error_response(ApiError.one(status, detail), shape).body)

    if header_timeout is None:
        header_timeout = float(getattr(settings, "header_timeout", DEFAULT_HEADER_TIMEOUT))
    return ProtocolPolicy.rendered(
        render, header_timeout=header_timeout, discard_bytes=4 * settings.max_body_bytes
    )


def http_protocol(settings_or_policy: ServerSettings | ProtocolPolicy) -> Any:
    """What to pass to uvicorn as ``http=`` (a picklable factory, so worker processes get it too)."""
    policy = settings_or_policy
    if isinstance(policy, ServerSettings):
        policy = protocol_policy(policy)
    return functools.partial(ContractHttpProtocol, policy=policy)


def _reason(exc: httptools.HttpParserError) -> str:
    if isinstance(exc, httptools.HttpParserCallbackError):  # uvicorn refused the target (not ASCII, bad URL)
        return "the request target could not be parsed"
    text = str(exc).strip().rstrip(".") or "the request could not be parsed"
    return text[0].lower() + text[1:]


def _small_body(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """The request declares a body small enough to read past on a kept-alive connection."""
    for name, value in headers:
        if name == b"content-length":
            return value.strip().isdigit() and int(value) <= _SMALL_BODY
    return False  # chunked: no telling how much is still coming


class _Cycle(RequestResponseCycle):
    """One request: answering before a large (or chunked) body has fully arrived announces ``connection:
    close``; a small rest is read past by the parser, as uvicorn does, and the connection kept."""

    async def send(self, message: ASGISendEvent) -> None:
        if not self.response_started and self.more_body and message["type"] == "http.response.start":
            if not _small_body(self.scope["headers"]):
                self.keep_alive = False
        await super().send(message)


class _CycleTransport(asyncio.Transport):
    """The transport as a request cycle sees it: its ``close`` goes through the protocol (lingering)."""

    def __init__(self, real: asyncio.Transport, on_close: Callable[[], None]) -> None:
        super().__init__()
        self._real = real
        self._on_close = on_close

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._real.write(data)

    def is_closing(self) -> bool:
        return self._real.is_closing()

    def close(self) -> None:
        self._on_close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._real.get_extra_info(name, default)


class ContractHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus lingering close, JSON answers to malformed HTTP and header bounds."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        policy: ProtocolPolicy,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.policy = policy
        self._header_timer: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._header_bytes = 0
        self._lingering = False
        self._discarded = 0
        self._last_read = 0.0
        self._linger_timer: asyncio.TimerHandle | None = None
        self._linger_deadline = 0.0

    # connection
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._discard(len(data))
            return
        if self._awaiting_headers:
            self._header_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._refuse(400, f"Malformed HTTP request: {_reason(exc)}")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._awaiting_headers and self._header_bytes > self.policy.max_header_bytes:
            limit = self.policy.max_header_bytes
            self._refuse(431, f"The request line and headers exceed {limit} bytes")

    def send_400_response(self, msg: str) -> None:  # uvicorn's own path, kept for completeness
        self._refuse(400, f"Malformed HTTP request: {msg}")

    # parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_headers = True
        self._arm_header_timer()  # the deadline counts from the request's first byte

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._cancel_header_timer()
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not previous and type(cycle) is RequestResponseCycle:
            cycle.__class__ = _Cycle  # same state, one overridden method
            cycle.transport = _CycleTransport(self.transport, functools.partial(self._close_after, cycle))

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_headers = True
        self._header_bytes = 0
        if self.cycle is not None and self.cycle.response_complete:
            self._arm_header_timer()  # the rest of an early-answered body came; bound the idle time again

    def on_response_complete(self) -> None:
        if self._lingering:  # no keep-alive, no pipelined request: the connection is ending
            self.server_state.total_requests += 1
            return
        super().on_response_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._arm_header_timer()  # a small body answered early: its rest must come in time too

    # closing
    def _close_after(self, cycle: RequestResponseCycle) -> None:
        """A request cycle closes the connection: linger when its request body is still arriving."""
        if cycle.more_body and not cycle.disconnected:
            self._start_linger()
        else:
            self.transport.close()

    def _refuse(self, status: int, detail: str) -> None:
        """Answer ``status`` with the contract's error body, then close (lingering)."""
        if self.transport.is_closing() or self._lingering:
            return
        self.logger.info("refused a request from %s: %s", self.client, detail)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # an answer is half written: nothing sensible can follow it
                self.transport.close()
                return
            cycle.disconnected = True  # the app stops waiting for the body and its answer is dropped
            cycle.message_event.set()
        body = self.policy.body(status, detail)
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body),
            body,
        ]
        self.transport.write(b"".join(head))
        self._start_linger()

    def _start_linger(self) -> None:
        self._cancel_header_timer()
        self._unset_keepalive_if_required()
        self.pipeline.clear()
        if self._lingering or self.transport.is_closing():
            return
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()  # the answer, then FIN: the client knows it is complete
        self.flow.resume_reading()
        now = self.loop.time()
        self._last_read = now
        self._linger_deadline = now + self.policy.linger_time
        self._linger_timer = self.loop.call_later(self.policy.linger_idle, self._linger_check)

    def _discard(self, size: int) -> None:
        self._discarded += size
        self._last_read = self.loop.time()
        if self._discarded > self.policy.discard_bytes:
            log.info(
                "closing: the client sent more than %d bytes after its answer", self.policy.discard_bytes
            )
            self.transport.close()

    def _linger_check(self) -> None:
        self._linger_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        idle_until = self._last_read + self.policy.linger_idle
        if now >= self._linger_deadline or now >= idle_until:
            self.transport.close()
            return
        self._linger_timer = self.loop.call_at(min(idle_until, self._linger_deadline), self._linger_check)

    # header timeout
    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.policy.header_timeout, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_header_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self._lingering or self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            self._arm_header_timer()  # a pipelined request waits for the answer in progress; wait again
            return
        if cycle is not None and cycle.more_body:  # the rest of a body answered early never came
            self.transport.close()
            return
        if self._header_bytes == 0:  # nothing of a request arrived: just close
            self.transport.close()
            return
        timeout = self.policy.header_timeout
        self._refuse(408, f"The request line and headers were not received completely within {timeout:g} s")
