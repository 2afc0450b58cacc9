"""Raw HTTP to the target: every request has a timeout, the whole run a deadline, and each exchange is
recorded so a failing rule can print it back as curl commands."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from ..contract import AuthRules

__all__ = ["NO_JSON", "Api", "Exchange", "Interrupted", "NoAnswer", "Reply", "TargetError", "Unreachable"]

NO_JSON: Any = object()
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class TargetError(Exception):
    """The target did not answer usefully: connection refused, timeout, or the run deadline passed."""


class NoAnswer(TargetError):
    """A request got no HTTP answer: timeout, refused or dropped connection (the target may be gone)."""


class Unreachable(NoAnswer):
    """Nothing accepts connections at the target URL."""


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt: not an error of the target
    """The run was asked to stop (SIGINT / SIGTERM); raised before any further request is sent."""


@dataclass(frozen=True)
class Exchange:
    """One request and what came back (``status`` is None when nothing came back)."""

    method: str
    url: str
    body: bytes | None
    auth: tuple[str, str] | None
    headers: tuple[tuple[str, str], ...] = ()
    status: int | None = None
    response_text: str = ""
    error: str = ""  # why nothing came back (status None): timeout, disconnect, refused


@dataclass(frozen=True)
class Reply:
    status: int
    headers: httpx.Headers
    text: str
    data: Any
    exchange: Exchange = field(repr=False)
    raw: httpx.Response | None = field(default=None, repr=False)

    @property
    def is_json(self) -> bool:
        return self.data is not NO_JSON

    def describe(self, limit: int = 300) -> str:
        snippet = self.text if len(self.text) <= limit else self.text[:limit] + "..."
        return f"HTTP {self.status}: {snippet.strip() or '(empty body)'}"


class Api:
    """A thin httpx wrapper bound to one target, one set of credentials and one deadline.

    ``scheme`` (the contract's auth) says how credentials travel: HTTP Basic (the default), or one header
    such as ``Authorization: Token <username>``; ``headers`` are sent with every request (tenant headers).
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        deadline: float | None = None,
        transport: httpx.BaseTransport | None = None,
        scheme: AuthRules | None = None,
        headers: Mapping[str, str] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.stop = stop  # set: every further request raises Interrupted
        self.no_answer_streak = 0  # requests in a row that got no HTTP answer (reset by any answer)
        self.last_no_answer = ""
        self.credentials = (username, password)
        self.scheme = scheme
        self.default_headers = dict(headers or {})
        self.timeout = timeout
        self.deadline = deadline if deadline is not None else time.monotonic() + 3600
        self._client = httpx.Client(transport=transport, follow_redirects=False)
        self._lock = threading.Lock()
        self._seq = 0
        self._history: list[tuple[int, Exchange]] = []

    def close(self) -> None:
        self._client.close()

    def wrong_credentials(self) -> tuple[str, str]:
        """Credentials that must be refused: a wrong password (Basic) or an unknown key."""
        user, _ = self.credentials
        if self.scheme is None or self.scheme.kind == "basic":
            return user, "wrong-" + user
        return "wrong-" + user, ""

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def mark(self) -> int:
        with self._lock:
            return self._seq

    def since(self, mark: int) -> list[Exchange]:
        with self._lock:
            return [ex for seq, ex in self._history if seq >= mark]

    def url(self, path: str) -> str:
        """``path`` under the base URL; an absolute URL (a Link the target sent) only on the target's origin,
        since the credentials go with every request."""
        if not path.startswith(("http://", "https://")):
            return self.base_url + path
        mine, theirs = httpx.URL(self.base_url), httpx.URL(path)
        if (theirs.scheme, theirs.host, theirs.port) != (mine.scheme, mine.host, mine.port):
            raise TargetError(f"refusing {_short(path)}: another origin than the target {self.base_url}")
        return path

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None | bool = True,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        if self.stop is not None and self.stop.is_set():
            raise Interrupted("the run was interrupted")
        remaining = self.remaining()
        if remaining <= 0:
            raise TargetError("run deadline reached before the request could be sent")
        creds = self.credentials if auth is True else (auth or None)
        body = (
            content
            if content is not None
            else (None if json_body is None else json.dumps(json_body).encode())
        )
        sent_headers = {**self.default_headers, **(headers or {})}
        if creds is not None and self.scheme is not None and self.scheme.kind != "basic":
            name, value = self.scheme.credentials_header(*creds)
            sent_headers[name] = value
            creds = None
        if body is not None:
            sent_headers.setdefault("Content-Type", "application/json")
        url = self.url(path)
        if params:
            url = str(httpx.URL(url, params=dict(params)))
        exchange = Exchange(method, url, body, creds, tuple(sorted(sent_headers.items())))
        limit = max(0.05, min(timeout or self.timeout, remaining))
        try:
            response = self._send(method, url, body, sent_headers, creds, limit)
        except httpx.TimeoutException:
            raise self._no_answer(
                NoAnswer,
                exchange,
                f"{method} {_short(url)} got no answer within {limit:.1f}s",
                f"no answer within {limit:.1f}s",
            ) from None
        except httpx.ConnectError as exc:
            raise self._no_answer(
                Unreachable, exchange, f"cannot connect to {self.base_url}: {exc}", "connection refused"
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            reason = "server disconnected on this request"
            raise self._no_answer(
                NoAnswer, exchange, f"{method} {_short(url)}: {reason} ({type(exc).__name__}: {exc})", reason
            ) from None
        except httpx.HTTPError as exc:
            self._record(exchange)
            raise TargetError(f"{method} {_short(url)} failed: {type(exc).__name__}: {exc}") from None
        self.no_answer_streak = 0
        text = response.content.decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if text.strip() else NO_JSON
        except ValueError:
            data = NO_JSON
        done = Exchange(method, url, body, creds, exchange.headers, response.status_code, text[:2000])
        self._record(done)
        return Reply(response.status_code, response.headers, text, data, done, response)

    def _no_answer(self, kind: type[NoAnswer], exchange: Exchange, message: str, reason: str) -> NoAnswer:
        """Record a request that got no HTTP answer (the exchange says why) and build its exception."""
        self._record(replace(exchange, error=reason))
        with self._lock:
            self.no_answer_streak += 1
            self.last_no_answer = message
        return kind(message)

    def _send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        auth: tuple[str, str] | None,
        limit: float,
    ) -> httpx.Response:
        """One exchange whose answer must be complete within ``limit`` seconds and ``MAX_ANSWER_BYTES``
        (httpx's timeout bounds each read, not the whole answer: a trickling body would never end)."""
        end = time.monotonic() + limit
        request = self._client.build_request(method, url, content=body, headers=headers, timeout=limit)
        streamed = self._client.send(request, auth=auth, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_raw():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise TargetError(f"{method} {_short(url)} answered more than {MAX_ANSWER_BYTES} bytes")
                if time.monotonic() > end:
                    raise httpx.ReadTimeout("answer not complete in time", request=request)
                chunks.append(chunk)
        finally:
            streamed.close()
        response = httpx.Response(
            streamed.status_code,
            headers=streamed.headers,
            content=b"".join(chunks),  # still content-encoded: decoded here like any answer
            request=streamed.request,
            extensions=streamed.extensions,
        )
        response.elapsed = streamed.elapsed
        return response

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self._history.append((self._seq, exchange))
            self._seq += 1
            if len(self._history) > 5000:
                del self._history[:1000]


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."
