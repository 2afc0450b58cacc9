"""`ClientCheckMiddleware`: check every request against the spec, record violations, script answers.

Pure ASGI; wraps any app.  Control endpoints under `/_contract` (never checked, never forwarded):
`GET|DELETE /_contract/violations`, `GET|POST|DELETE /_contract/script`.  Everything else passes
through unchanged, apart from a scripted conflict / server error / delay when one matches."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._asgi import MAX_BODY_BYTES, read_body_or_413, send_json
from ._checker import ClientChecker, request_key
from ._model import CLIENT_RULES, SERVER_RULES, Violation
from ._report import Report, write_reports
from ._rules import parse_basic_auth
from ._scripts import ScriptError, conflict_body, script_from_json, server_error_body
from ._store import CheckStore

__all__ = ["CONTROL_PREFIX", "CheckOptions", "ClientCheckMiddleware"]

CONTROL_PREFIX = "/_contract"
log = logging.getLogger("contracts.clients")
_CAPTURE_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class CheckOptions:
    """How the middleware behaves.  `report_dir`: write JSON + JUnit reports at lifespan shutdown."""

    validate_responses: bool = False
    ignore_paths: tuple[str, ...] = ("/health", "/favicon.ico")
    report_dir: str | None = None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _headers(scope_or_message: Scope | Message) -> list[tuple[str, str]]:
    return [
        (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
        for k, v in scope_or_message.get("headers") or []
    ]


def _decoded(body: bytes, headers: list[tuple[str, str]]) -> bytes | None:
    encoding = next((v.strip().lower() for k, v in headers if k.lower() == "content-encoding"), "")
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "deflate"):
        inflater = zlib.decompressobj(47)  # gzip or zlib header, auto-detected
        try:
            decoded = inflater.decompress(body, MAX_BODY_BYTES)
        except zlib.error:
            return None
        return None if inflater.unconsumed_tail else decoded  # past the limit (a zip bomb): not checked
    return None  # br and others: not checked


class ClientCheckMiddleware:
    """Wrap `app`; record what clients get wrong in `store` (a `CheckStore`, SQLite file or memory)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: CheckStore | None = None,
        checker: ClientChecker | None = None,
        options: CheckOptions | None = None,
    ) -> None:
        self.app = app
        self.store = store or CheckStore()
        self.checker = checker or ClientChecker()
        self.options = options or CheckOptions()
        self._conflict = self.checker.spec.conflict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            await self._control(scope, receive, send)
            return
        if path in self.options.ignore_paths:
            await self.app(scope, receive, send)
            return
        await self._checked(scope, receive, send)

    def _lifespan_send(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete" and self.options.report_dir:
                try:
                    await anyio.to_thread.run_sync(self.write_reports, self.options.report_dir)
                except Exception:  # a report problem must not keep the server from stopping
                    log.exception("could not write the client-check reports")
            await send(message)

        return wrapped

    def report(self) -> Report:
        rules = (*CLIENT_RULES, *SERVER_RULES) if self.options.validate_responses else tuple(CLIENT_RULES)
        return Report(self.store.violations(), self.store.checked_requests(), rules)

    def write_reports(self, report_dir: str) -> tuple[Path, Path]:
        return write_reports(Path(report_dir), self.report())

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = await read_body_or_413(receive, send)
        if received is None:
            return
        body = received
        method: str = scope["method"]
        path: str = scope["path"]
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        headers = _headers(scope)
        violations = await anyio.to_thread.run_sync(lambda: self._check(method, path, query, headers, body))
        user, _ = parse_basic_auth(_header(scope, b"authorization"))
        key = request_key(user or "", method, path, body)
        script = None
        try:  # the check store (SQLite) failing must not break the traffic it watches either
            await anyio.to_thread.run_sync(lambda: self.store.record(violations))
            script = await anyio.to_thread.run_sync(self.store.take_script, method, path)
        except Exception:
            log.exception("the client-check store failed; %s %s passed through unrecorded", method, path)

        if script is not None and script.answer == "conflict":
            status, payload = conflict_body(self._conflict)
            await send_json(send, status, payload)
            await anyio.to_thread.run_sync(self.store.record_conflict, key)
            return
        if script is not None and script.answer == "server_error":
            await send_json(send, script.status, server_error_body(script.status))
            return
        if script is not None and script.answer == "delay":
            await asyncio.sleep(min(script.delay_s, 30.0))

        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        captured: dict[str, Any] = {"status": 0, "headers": [], "body": [], "size": 0}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = int(message["status"])
                captured["headers"] = _headers(message)
            elif message["type"] == "http.response.body" and captured["size"] < _CAPTURE_LIMIT:
                chunk = bytes(message.get("body", b""))
                captured["body"].append(chunk)
                captured["size"] += len(chunk)
            await send(message)

        await self.app(scope, replay, capture)
        response_body = b"".join(captured["body"])
        if self._is_conflict(captured["status"], response_body, captured["headers"]):
            await anyio.to_thread.run_sync(self.store.record_conflict, key)
        if self.options.validate_responses and captured["status"] and captured["size"] < _CAPTURE_LIMIT:
            decoded = _decoded(response_body, captured["headers"])
            if decoded is not None:
                found = await anyio.to_thread.run_sync(
                    lambda: self._check_response(method, path, query, headers, body, captured, decoded)
                )
                await anyio.to_thread.run_sync(lambda: self.store.record(found, checked=0))

    def _check(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> list[Violation]:
        try:
            return self.checker.check(method, path, query, headers, body, history=self.store)
        except Exception:  # a checker bug must never break the traffic it watches
            log.exception("client check failed for %s %s; request passed through unchecked", method, path)
            return []

    def _check_response(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        captured: dict[str, Any],
        decoded: bytes,
    ) -> list[Violation]:
        try:
            return self.checker.check_response(
                method, path, query, headers, body, captured["status"], captured["headers"], decoded
            )
        except Exception:
            log.exception("response check failed for %s %s", method, path)
            return []

    def _is_conflict(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> bool:
        if status != int(self._conflict.get("status", 400)) or not body:
            return False
        decoded = _decoded(body, headers)
        try:
            data = json.loads(decoded or b"")
        except ValueError:
            return False
        errors = data.get("errors") if isinstance(data, dict) else None
        detail = self._conflict.get("detail")
        return isinstance(errors, list) and any(
            isinstance(e, dict) and e.get("detail") == detail for e in errors
        )

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        received = await read_body_or_413(receive, send)
        if received is None:
            return
        body = received
        if path == CONTROL_PREFIX + "/violations" and method == "GET":
            report = await anyio.to_thread.run_sync(self.report)
            await send_json(send, 200, report.payload())
        elif path == CONTROL_PREFIX + "/violations" and method == "DELETE":
            removed = await anyio.to_thread.run_sync(self.store.clear)
            await send_json(send, 200, {"cleared": removed})
        elif path == CONTROL_PREFIX + "/script" and method == "GET":
            scripts = await anyio.to_thread.run_sync(self.store.scripts)
            await send_json(send, 200, {"scripts": [{**s.to_dict(), "remaining": n} for s, n in scripts]})
        elif path == CONTROL_PREFIX + "/script" and method == "POST":
            try:
                script = script_from_json(json.loads(body or b"null"))
            except ValueError as exc:  # ScriptError or a JSON syntax error
                pointer = exc.pointer if isinstance(exc, ScriptError) else ""
                error = {
                    "status": "400",
                    "code": "invalid",
                    "detail": str(exc),
                    "source": {"pointer": pointer},
                }
                await send_json(send, 400, {"errors": [error]})
                return
            script_id = await anyio.to_thread.run_sync(self.store.add_script, script)
            await send_json(send, 201, {"id": script_id, "script": script.to_dict()})
        elif path == CONTROL_PREFIX + "/script" and method == "DELETE":
            removed = await anyio.to_thread.run_sync(self.store.clear_scripts)
            await send_json(send, 200, {"cleared": removed})
        else:
            detail = f"no control endpoint {method} {path}; use GET/DELETE {CONTROL_PREFIX}/violations, " + (
                f"GET/POST/DELETE {CONTROL_PREFIX}/script"
            )
            await send_json(send, 404, {"errors": [{"status": "404", "code": "not_found", "detail": detail}]})
