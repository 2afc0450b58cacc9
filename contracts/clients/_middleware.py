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

from contracts.contract import pointer_get

from ._asgi import MAX_BODY_BYTES, OWN_ANSWER, read_body_or_413, send_json
from ._checker import ClientChecker, RequestFacts
from ._envelope import conflict_body, server_error_body
from ._model import SERVER_RULES, Violation
from ._operations import accepted_operation, reported_status
from ._report import Report, write_reports
from ._scripts import NO_CONFLICT, ScriptError, script_from_json
from ._store import CheckStore

__all__ = ["CONTROL_PREFIX", "CheckOptions", "ClientCheckMiddleware"]

CONTROL_PREFIX = "/_contract"
log = logging.getLogger("contracts.clients")
_CAPTURE_LIMIT = 16 * 1024 * 1024
_NOT_JSON: Any = object()
_OBSERVED = frozenset({"batch_write", "operation_status"})  # roles whose answers the timing rules read


def _json(body: bytes | None) -> Any:
    if not body:
        return _NOT_JSON
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NOT_JSON


@dataclass(frozen=True)
class CheckOptions:
    """How the middleware behaves.  `report_dir`: write JSON + JUnit reports at lifespan shutdown."""

    validate_responses: bool = False
    ignore_paths: tuple[str, ...] = ("/health", "/favicon.ico")
    report_dir: str | None = None


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
        self.contract = self.checker.contract

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
        rules = self.checker.rules
        if self.options.validate_responses:
            rules = (*rules, *SERVER_RULES)
        violations, checked = self.store.violations(), self.store.checked_requests()
        return Report(violations, checked, rules, self.checker.not_applicable, self.checker.spec_info)

    def write_reports(self, report_dir: str) -> tuple[Path, Path]:
        return write_reports(Path(report_dir), self.report())

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = await read_body_or_413(receive, send, errors=self.contract.errors)
        if received is None:
            return
        body = received
        method: str = scope["method"]
        path: str = scope["path"]
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        headers = _headers(scope)
        violations, facts = await anyio.to_thread.run_sync(
            lambda: self._check(method, path, query, headers, body)
        )
        script = None
        try:  # the check store (SQLite) failing must not break the traffic it watches either
            await anyio.to_thread.run_sync(lambda: self._record_request(violations, facts))
            script = await anyio.to_thread.run_sync(self.store.take_script, method, path)
        except Exception:
            log.exception("the client-check store failed; %s %s passed through unrecorded", method, path)

        if script is not None and script.answer == "conflict" and self.contract.conflict is not None:
            status, payload = conflict_body(self.contract.conflict, self.contract.errors)
            try:  # recorded before the client has the answer: its resend is judged against it
                await anyio.to_thread.run_sync(self.store.record_conflict, facts.key)
            except Exception:
                log.exception("the client-check store failed to record a scripted conflict")
            await send_json(send, status, payload)
            return
        if script is not None and script.answer == "server_error":
            await send_json(send, script.status, server_error_body(script.status, self.contract.errors))
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
                if not message.get("more_body", False):  # before the client has it: its next request
                    await self._observe_answer(facts, captured)  # is judged with this answer known
            await send(message)

        await self.app(scope, replay, capture)
        if not captured["status"] or captured["size"] >= _CAPTURE_LIMIT:
            return
        decoded = _decoded(b"".join(captured["body"]), captured["headers"])
        if self.options.validate_responses and decoded is not None and not scope.get(OWN_ANSWER):
            found = await anyio.to_thread.run_sync(
                lambda: self._check_response(method, path, query, headers, body, captured, decoded)
            )
            await anyio.to_thread.run_sync(lambda: self.store.record(found, checked=0))

    def _record_request(self, violations: list[Violation], facts: RequestFacts) -> None:
        self.store.record(violations)
        if facts.operation_key is not None and facts.operation_id is not None:
            self.store.record_poll(facts.operation_key, facts.operation_id)

    async def _observe_answer(self, facts: RequestFacts, captured: dict[str, Any]) -> None:
        conflict, status = self.contract.conflict, captured["status"]
        maybe_conflict = conflict is not None and status == conflict.status
        operation = self.contract.processing.asynchronous and facts.role in _OBSERVED and status < 300
        if captured["size"] >= _CAPTURE_LIMIT or not (maybe_conflict or operation):
            return
        try:
            decoded = _decoded(b"".join(captured["body"]), captured["headers"])
            await anyio.to_thread.run_sync(lambda: self._observe(facts, captured["status"], decoded))
        except Exception:
            log.exception("the client-check store failed to record an answer; the rules may miss it")

    def _observe(self, facts: RequestFacts, status: int, body: bytes | None) -> None:
        """Remember what an answer tells the stateful rules: a conflict, an operation started by a batch,
        an operation's status."""
        data = _json(body)
        if data is _NOT_JSON:
            return
        if self._is_conflict(status, data):
            self.store.record_conflict(facts.key)
        operation = self.contract.processing.operation
        if operation is None or not 200 <= status < 300:
            return
        if facts.role == "batch_write":
            accepted = accepted_operation(self.contract, data)
            if accepted is not None:
                operation_id, state = accepted
                key = RequestFacts(facts.identity, facts.key, None, operation_id).operation_key
                assert key is not None
                self.store.record_accepted(facts.key, key, operation_id, state)
        elif facts.operation_key is not None:
            state = reported_status(operation, data)
            if state is not None:
                self.store.record_status(facts.operation_key, state)

    def _check(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[list[Violation], RequestFacts]:
        try:
            facts = self.checker.facts(method, path, headers, body)
        except Exception:
            log.exception("client check failed for %s %s; request passed through unchecked", method, path)
            return [], RequestFacts("", "", None)
        try:
            found = self.checker.check(
                method, path, query, headers, body, history=self.store, operations=self.store, facts=facts
            )
        except Exception:  # a checker bug must never break the traffic it watches
            log.exception("client check failed for %s %s; request passed through unchecked", method, path)
            found = []
        return found, facts

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

    def _is_conflict(self, status: int, data: Any) -> bool:
        """The answer is the contract's 'still processing' answer (same status and detail)."""
        conflict = self.contract.conflict
        if conflict is None or status != conflict.status:
            return False
        errors = self.contract.errors
        return any(
            pointer_get(error, errors.detail, None) == conflict.detail for error in errors.errors_of(data)
        )

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        received = await read_body_or_413(receive, send, errors=self.contract.errors)
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
                if script.answer == "conflict" and self.contract.conflict is None:
                    raise ScriptError(NO_CONFLICT, "/answer")
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
