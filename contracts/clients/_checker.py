"""`check_request`: every client rule applied to one request, as a list of violations.

The rules are driven by the spec's ``Contract``: the batch list's place in the body, its size limits, the
way errors locate an item, the auth scheme, the conflict answer (optional) and, for asynchronous APIs,
the operation a batch starts. A rule the contract gives nothing to judge is reported "not applicable"."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl

from werkzeug.datastructures import Headers

from contracts.contract import Contract

from ._auth import credentials
from ._model import CLIENT_RULES, RequestSummary, Violation
from ._openapi import SpecRequest, SpecResponse, SpecValidators
from ._operations import (
    DEFAULT_MIN_POLL_INTERVAL,
    OperationHistory,
    check_poll_interval,
    check_resubmit,
    operation_key,
)
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
)
from ._spec import ClientSpec, Operation, load_client_spec

__all__ = [
    "ClientChecker",
    "ConflictHistory",
    "HeadersLike",
    "RequestFacts",
    "check_request",
    "request_key",
]

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


@dataclass(frozen=True)
class RequestFacts:
    """Who sent a request and what it is to the contract: the keys the stateful rules remember it by."""

    identity: str  # '' when the credentials could not be read
    key: str  # request_key: same client, method, path and JSON body
    role: str | None  # the contract role of the operation it names, if any
    operation_id: str | None = None  # operation_status requests: the polled operation

    @property
    def operation_key(self) -> str | None:
        """The polled operation as seen by this client (None when the request polls none)."""
        return None if self.operation_id is None else operation_key(self.identity, self.operation_id)


class ClientChecker:
    """Applies the client rules of one spec.  Thread-safe: it holds no per-request state."""

    def __init__(
        self,
        spec: ClientSpec | Contract | str | Path | None = None,
        *,
        min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY,
        min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL,
    ) -> None:
        self.spec = spec if isinstance(spec, ClientSpec) else load_client_spec(spec)
        self.contract = self.spec.contract
        self.min_retry_delay = min_retry_delay
        self.min_poll_interval = min_poll_interval
        self._validators = SpecValidators(self.spec)

    @property
    def not_applicable(self) -> dict[str, str]:
        """Client rules this contract gives nothing to judge, with the reason."""
        found = {}
        if self.contract.conflict is None:
            found["client.conflict_backoff"] = "the spec documents no 'still processing' (conflict) answer"
        if not self.contract.processing.asynchronous:
            reason = "processing is synchronous: a batch starts no operation to poll"
            found["client.poll_interval"] = found["client.resubmit_running"] = reason
        return found

    @property
    def spec_info(self) -> dict[str, str]:
        """Which spec the checks judge by: dialect, file name and content digest."""
        contract = self.contract
        return {"dialect": contract.dialect, "spec": contract.spec_name, "sha256": contract.spec_sha256}

    @property
    def rules(self) -> tuple[str, ...]:
        """The client rules that apply to this contract."""
        return tuple(rule for rule in CLIENT_RULES if rule not in self.not_applicable)

    def spec_path(self, path: str) -> str | None:
        base = self.spec.base_path
        if not base:
            return path
        if path == base or path.startswith(base + "/"):
            return path[len(base) :] or "/"
        return None

    def identity(self, headers: HeadersLike) -> str:
        """The Basic user name, or a digest of the API key / token ('' when none can be read)."""
        auth = self.contract.auth
        return credentials(auth, _headers(headers).get(auth.header))[0] or ""

    def _operation(self, method: str, path: str) -> tuple[Operation | None, str | None]:
        spec_path = self.spec_path(path)
        return (self.spec.match(method, spec_path)[0] if spec_path is not None else None), spec_path

    def facts(self, method: str, path: str, headers: HeadersLike, body: bytes) -> RequestFacts:
        identity = self.identity(headers)
        op, spec_path = self._operation(method, path)
        polled = None
        if op is not None and spec_path is not None and op.role == "operation_status":
            values = self.spec.path_values(op, spec_path)
            polled = values[0] if len(values) == 1 else None
        role = op.role if op is not None else None
        return RequestFacts(identity, request_key(identity, method, path, body), role, polled)

    def summarize(
        self, method: str, path: str, query_string: str | bytes, headers: HeadersLike, body: bytes
    ) -> RequestSummary:
        hdrs = _headers(headers)
        op = self._operation(method, path)[0]
        query = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
        return RequestSummary(
            method=method.upper(),
            path=path,
            query=query.lstrip("?"),
            identity=self.identity(hdrs),
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
        operations: OperationHistory | None = None,
        now: float | None = None,
        facts: RequestFacts | None = None,
    ) -> list[Violation]:
        """Every client rule on one request. ``history`` (conflict answers seen) and ``operations``
        (asynchronous operations seen) switch on the rules that judge a request against earlier ones;
        ``facts`` is :meth:`facts` of the same request when the caller has it already."""
        summary = self.summarize(method, path, query_string, headers, body)
        findings = self.findings(
            method,
            path,
            query_string,
            headers,
            body,
            history=history,
            operations=operations,
            now=now,
            facts=facts,
        )
        unique = list(dict.fromkeys(findings))
        return [Violation(f.rule, f.message, summary, f.pointer, f.location) for f in unique]

    def _timing(
        self,
        facts: RequestFacts,
        history: ConflictHistory | None,
        operations: OperationHistory | None,
        now: float,
    ) -> list[Finding]:
        """The rules that compare a request with what the same client did before."""
        findings = []
        if history is not None and self.contract.conflict is not None:
            last = history.last_conflict(facts.key)
            findings += check_conflict_backoff(last, now, self.min_retry_delay)
        operation = self.contract.processing.operation
        if operations is not None and operation is not None:
            if facts.operation_key is not None:
                last_poll = operations.last_poll(facts.operation_key)
                findings += check_poll_interval(last_poll, now, self.min_poll_interval)
            if facts.role == "batch_write":
                findings += check_resubmit(operation, operations.operation_of_batch(facts.key), now)
        return findings

    def findings(
        self,
        method: str,
        path: str,
        query_string: str | bytes,
        headers: HeadersLike,
        body: bytes,
        *,
        history: ConflictHistory | None = None,
        operations: OperationHistory | None = None,
        now: float | None = None,
        facts: RequestFacts | None = None,
    ) -> list[Finding]:
        hdrs = _headers(headers)
        spec_path = self.spec_path(path)
        op, same = self.spec.match(method, spec_path) if spec_path is not None else (None, [])
        findings = check_known_operation(self.spec, method.upper(), path, spec_path, op, same)
        findings += check_auth(self.contract.auth, hdrs.get(self.contract.auth.header))
        if history is not None or operations is not None:
            facts = facts or self.facts(method, path, hdrs.items(), body)
            findings += self._timing(facts, history, operations, time.time() if now is None else now)
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
        batch = op.role == "batch_write"
        request.body = body
        if batch and self.spec.batch.items_of(data) is None:
            return [*findings, self._shape_finding()]
        findings += self._validators.body_findings(request, batch=batch)
        if batch:
            findings += check_batch_size(self.spec, data)
        values = self.spec.path_values(op, spec_path)
        path_id = values[0] if len(values) == 1 else None
        findings += check_id_strings(self.spec, data, batch=batch, path_id=path_id)
        findings += check_timestamps(self.spec, schema, data, batch=batch)
        return findings

    def _shape_finding(self) -> Finding:
        """A batch body without its list where the contract puts it: say where the list goes."""
        example = json.dumps(self.spec.batch.wrap(["..."]))
        where = f"at {self.spec.batch.items}" if self.spec.batch.wrapped else "as the whole body"
        message = f"the batch must carry its items as a JSON list {where}, e.g. {example}"
        return Finding("client.request_schema", message, self.spec.whole_batch_pointer())

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
    operations: OperationHistory | None = None,
    now: float | None = None,
) -> list[Violation]:
    """Check one request against the default spec with the default settings (pure unless `history` or
    `operations` are given)."""
    checker = _DEFAULT.get("default")
    if checker is None:
        checker = _DEFAULT.setdefault("default", ClientChecker())
    return checker.check(
        method, path, query_string, headers, body_bytes, history=history, operations=operations, now=now
    )
