"""`orders-contract proxy`: forward a client's traffic unchanged to another server, checking both ways."""

from __future__ import annotations

import asyncio
import json

import httpx
from starlette.types import Message, Receive, Scope, Send

from contracts.contract import Contract, ErrorRules, pointer_get, pointer_set

from ._asgi import MAX_BODY_BYTES, OWN_ANSWER, BodyTooLarge, read_body_or_413, send_error
from ._checker import ClientChecker
from ._middleware import CheckOptions, ClientCheckMiddleware
from ._store import CheckStore

__all__ = ["HOP_BY_HOP", "ForwardingApp", "create_proxy_app", "page_link_pointers"]

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def page_link_pointers(contract: Contract) -> tuple[str, ...]:
    """Where a list answer names the next and previous pages by URL: the members of ``page`` pagination
    (``count``/``next``/``previous``/``results``, see docs/x-contract.md); none for other paginations."""
    listing = contract.listing
    return ("/next", "/previous") if listing is not None and listing.pagination == "page" else ()


def _drop(
    headers: list[tuple[bytes, bytes]], also: frozenset[str] = frozenset()
) -> list[tuple[bytes, bytes]]:
    connection_tokens = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    dropped = HOP_BY_HOP | also | connection_tokens
    return [(k, v) for k, v in headers if k.decode("latin-1").lower() not in dropped]


class ForwardingApp:
    """ASGI app that sends each request to `upstream` (same method, path, query, headers, body) and
    returns the upstream's status, headers and raw body bytes.  Upstream down → 502 in the error shape."""

    def __init__(
        self,
        upstream: str,
        *,
        timeout: float = 30.0,
        rewrite_links: bool = True,
        errors: ErrorRules | None = None,
        page_links: tuple[str, ...] = (),
    ) -> None:
        self.upstream = httpx.URL(upstream.rstrip("/"))
        self.errors = errors  # the contract's error envelope, for the proxy's own 413/502/504
        self.page_links = page_links  # pointers of next/previous page URLs in a JSON answer
        self.timeout = timeout
        self.rewrite_links = rewrite_links
        port = f":{self.upstream.port}" if self.upstream.port else ""
        self._origin = f"{self.upstream.scheme}://{self.upstream.host}{port}".encode()
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        scope[OWN_ANSWER] = True  # until the upstream's answer is passed on
        content = await read_body_or_413(receive, send, errors=self.errors)
        if content is None:
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        target = self.upstream.copy_with(
            raw_path=self.upstream.raw_path.rstrip(b"/") + raw_path + (b"?" + query if query else b"")
        )
        headers = _drop(list(scope.get("headers") or []), frozenset({"host", "content-length"}))
        request = self._http().build_request(scope["method"], target, headers=headers, content=content)
        try:
            response = await self._http().send(request, stream=True)
        except httpx.HTTPError as exc:
            detail = f"upstream {self.upstream} did not answer: {type(exc).__name__}: {exc}"
            await send_error(send, 502, "Bad gateway", detail, self.errors)
            return
        try:
            body = await self._read_answer(response)
        except httpx.HTTPError as exc:
            detail = f"upstream {self.upstream} broke off its answer: {exc}"
            await send_error(send, 502, "Bad gateway", detail, self.errors)
            return
        except BodyTooLarge as exc:
            await send_error(send, 502, "Bad gateway", f"upstream {self.upstream}: {exc}", self.errors)
            return
        except TimeoutError:
            detail = f"upstream {self.upstream} did not complete its answer within {self.timeout:g} s"
            await send_error(send, 504, "Gateway timeout", detail, self.errors)
            return
        finally:
            await response.aclose()
        head = scope["method"] == "HEAD"  # keep the upstream's length of the body it did not send
        out = _drop(list(response.headers.raw), frozenset() if head else frozenset({"content-length"}))
        mine = self._my_origin(scope) if self.rewrite_links else None
        if mine is not None:
            out = self._rewrite(out, mine)
            body = self._rewrite_body(body, out, mine)
        if not head:
            out.append((b"content-length", str(len(body)).encode()))
        scope[OWN_ANSWER] = False
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": body})

    async def _read_answer(self, response: httpx.Response) -> bytes:
        """The upstream's raw body, bounded in bytes and in total time (httpx's timeout bounds each read
        only, so an answer trickling in would otherwise hold the client forever)."""
        chunks: list[bytes] = []
        size = 0
        async with asyncio.timeout(self.timeout):
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BodyTooLarge(f"answer exceeds {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _my_origin(scope: Scope) -> bytes | None:
        host = next((v for k, v in scope.get("headers") or [] if k.lower() == b"host"), b"")
        return f"{scope.get('scheme', 'http')}://".encode() + host if host else None

    def _rewrite(self, headers: list[tuple[bytes, bytes]], mine: bytes) -> list[tuple[bytes, bytes]]:
        """Point `Link` / `Location` URLs at the upstream back at this proxy, so that a client following
        pagination stays behind the checks."""
        return [
            (k, v.replace(self._origin, mine) if k.lower() in (b"link", b"location") else v)
            for k, v in headers
        ]

    def _rewrite_body(self, body: bytes, headers: list[tuple[bytes, bytes]], mine: bytes) -> bytes:
        """The same for the next/previous page URLs inside a JSON list answer (``page`` pagination). The
        body is re-serialised only when such a URL names the upstream; encoded bodies are left alone."""
        if not self.page_links or self._origin not in body:
            return body
        if any(k.lower() == b"content-encoding" and v.strip().lower() != b"identity" for k, v in headers):
            return body
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return body
        origin, changed = self._origin.decode("latin-1"), False
        for pointer in self.page_links if isinstance(data, dict) else ():
            value = pointer_get(data, pointer, None)
            rest = value[len(origin) :] if isinstance(value, str) and value.startswith(origin) else None
            if rest is not None and rest[:1] in ("", "/", "?", "#"):  # that origin, not a longer host
                pointer_set(data, pointer, mine.decode("latin-1") + rest)
                changed = True
        return json.dumps(data, ensure_ascii=False).encode() if changed else body

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_proxy_app(
    upstream: str,
    *,
    store: CheckStore | None = None,
    checker: ClientChecker | None = None,
    report_dir: str | None = None,
    timeout: float = 30.0,
    rewrite_links: bool = True,
) -> ClientCheckMiddleware:
    """The forwarding app wrapped in the client checks, with response validation switched on."""
    checker = checker or ClientChecker()
    forwarding = ForwardingApp(
        upstream,
        timeout=timeout,
        rewrite_links=rewrite_links,
        errors=checker.contract.errors,
        page_links=page_link_pointers(checker.contract),
    )
    return ClientCheckMiddleware(
        forwarding,
        store=store,
        checker=checker,
        options=CheckOptions(validate_responses=True, ignore_paths=(), report_dir=report_dir),
    )
