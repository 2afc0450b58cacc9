"""`check_request`: every client rule applied to one request, as a list of violations."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

from werkzeug.datastructures import Headers

from ._model import RequestSummary, Violation
from ._openapi import SpecRequest, SpecResponse, SpecValidators
from ._rules import (
    Finding,
    check_auth,
    check_batch_size,
    check_body_presence,
    check_conflict_backoff,
    check_id_strings,
    check_known_operation,
    check_query_names,
    check_timestamps,
    is_json_content_type,
    parse_basic_auth,
)
from ._spec import ClientSpec, load_client_spec

__all__ = ["ClientChecker", "ConflictHistory", "HeadersLike", "check_request", "request_key"]

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]
DEFAULT_MIN_RETRY_DELAY = 0.5


class ConflictHistory(Protocol):
    """Where 'still processing' answers were recorded: the time of the last one for a request key."""

    def last_conflict(self, key: str) -> float | None: ...


def _canonical(body: bytes) -> bytes:
    """A JSON body with keys sorted and no whitespace, so a re-serialised resend is the same batch."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        return body


def request_key(identity: str, method: str, path: str, body: bytes) -> str:
    """Same client, same method + path, same body (as JSON, or bytes) → same key (conflict back-off)."""
    digest = hashlib.sha256()
    for part in (identity.encode(), method.upper().encode(), path.encode(), _canonical(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _headers(headers: HeadersLike) -> Headers:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return Headers([(str(k), str(v)) for k, v in items])


def _query_pairs(query_string: str | bytes) -> list[tuple[str, str]]:
    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return parse_qsl(text.lstrip("?"), keep_blank_values=True)


class ClientChecker:
    """Applies the client rules of one spec.  Thread-safe: it holds no per-request state."""

    def __init__(
        self, spec: ClientSpec | None = None, *, min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY
    ) -> None:
        self.spec = spec or load_client_spec()
        self.min_retry_delay = min_retry_delay
        self._validators = SpecValidators(self.spec)

    def spec_path(self, path: str) -> str | None:
        base = self.spec.base_path
        if not base:
            return path
        if path == base or path.startswith(base + "/"):
            return path[len(base) :] or "/"
        return None

    def summarize(
        self, method: str, path: str, query_string: str | bytes, headers: HeadersLike, body: bytes
    ) -> RequestSummary:
        hdrs = _headers(headers)
        user, _ = parse_basic_auth(hdrs.get("authorization"))
        spec_path = self.spec_path(path)
        op = self.spec.match(method, spec_path)[0] if spec_path is not None else None
        query = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        return RequestSummary(
            method=method.upper(),
            path=path,
            query=query.lstrip("?"),
            identity=user or "",
            content_type=hdrs.get("content-type", ""),
            body_size=len(body),
            body_sha256=hashlib.sha256(body).hexdigest() if body else "",
            body_excerpt=body[:200].decode("utf-8", "replace"),
            operation_id=op.operation_id if op else None,
        )

    def check(
        self,
        method: str,
        path: str,
        query_string: str | bytes,
        headers: HeadersLike,
        body: bytes,
        *,
        history: ConflictHistory | None = None,
        now: float | None = None,
    ) -> list[Violation]:
        summary = self.summarize(method, path, query_string, headers, body)
        findings = self.findings(method, path, query_string, headers, body, history=history, now=now)
        unique = list(dict.fromkeys(findings))
        return [Violation(f.rule, f.message, summary, f.pointer, f.location) for f in unique]

    def findings(
        self,
        method: str,
        path: str,
        query_string: str | bytes,
        headers: HeadersLike,
        body: bytes,
        *,
        history: ConflictHistory | None = None,
        now: float | None = None,
    ) -> list[Finding]:
        hdrs = _headers(headers)
        spec_path = self.spec_path(path)
        op, same = self.spec.match(method, spec_path) if spec_path is not None else (None, [])
        findings = check_known_operation(self.spec, method.upper(), path, spec_path, op, same)
        findings += check_auth(hdrs.get("authorization"))
        if history is not None:
            user, _ = parse_basic_auth(hdrs.get("authorization"))
            last = history.last_conflict(request_key(user or "", method, path, body))
            findings += check_conflict_backoff(
                last, time.time() if now is None else now, self.min_retry_delay
            )
        if op is None or spec_path is None:
            return findings
        pairs = _query_pairs(query_string)
        findings += check_query_names(self.spec, op, pairs)
        content_type = hdrs.get("content-type", "")
        findings += check_body_presence(method.upper(), op, body, content_type, self.spec)
        request = SpecRequest.build(self.spec, method, spec_path, pairs, hdrs, b"", "application/json")
        findings += self._validators.parameter_findings(request)
        schema = self.spec.request_schema(op)
        if not body.strip() or schema is None:
            return findings
        try:
            data: Any = json.loads(body)
        except ValueError as exc:
            if not is_json_content_type(content_type) and content_type:
                return findings  # already flagged: not declared as JSON either
            return [*findings, Finding("client.content_type", f"body is not valid JSON ({exc})")]
        batch = schema.get("type") == "array"
        request.body = body
        findings += self._validators.body_findings(request, batch=batch)
        if batch:
            findings += check_batch_size(self.spec, data)
        match = op.pattern.fullmatch(spec_path)
        path_id = match.groupdict().get("id") if match else None
        findings += check_id_strings(self.spec, data, path_id)
        findings += check_timestamps(self.spec, schema, data)
        return findings

    def check_response(
        self,
        method: str,
        path: str,
        query_string: str | bytes,
        headers: HeadersLike,
        body: bytes,
        status: int,
        response_headers: HeadersLike,
        response_body: bytes,
    ) -> list[Violation]:
        """server.response_schema: the answer to a request that names an operation, against the spec."""
        spec_path = self.spec_path(path)
        if spec_path is None or self.spec.match(method, spec_path)[0] is None:
            return []
        hdrs = _headers(headers)
        request = SpecRequest.build(
            self.spec, method, spec_path, _query_pairs(query_string), hdrs, body, hdrs.get("content-type", "")
        )
        resp_headers = _headers(response_headers)
        content_type = resp_headers.get("content-type", "")
        response = SpecResponse(status, resp_headers, content_type.lower(), response_body or None)
        summary = self.summarize(method, path, query_string, headers, body)
        return [
            Violation(f.rule, f.message, summary, f.pointer, f.location, {"status": status})
            for f in self._validators.response_findings(request, response)
        ]


_DEFAULT: dict[str, ClientChecker] = {}


def check_request(
    method: str,
    path: str,
    query_string: str | bytes,
    headers: HeadersLike,
    body_bytes: bytes,
    *,
    history: ConflictHistory | None = None,
    now: float | None = None,
) -> list[Violation]:
    """Check one request against the project's spec with the default settings (pure unless `history`)."""
    checker = _DEFAULT.get("default")
    if checker is None:
        checker = _DEFAULT.setdefault("default", ClientChecker())
    return checker.check(method, path, query_string, headers, body_bytes, history=history, now=now)
