"""The client rules that are ours rather than the schema's: each returns a list of findings."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from contracts.contract import MISSING, AuthRules, join_pointer, pointer_get, split_pointer

from ._auth import credentials
from ._spec import ClientSpec, Operation
from ._timestamps import date_time_problem, iter_date_times

__all__ = [
    "Finding",
    "check_auth",
    "check_batch_size",
    "check_body_presence",
    "check_conflict_backoff",
    "check_id_strings",
    "check_known_operation",
    "check_query_names",
    "check_spacing",
    "check_timestamps",
    "is_json_content_type",
]

_BRACKETED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[(\d*)\]")
_DIGITS = re.compile(r"[0-9]+")


class Finding(NamedTuple):
    rule: str
    message: str
    pointer: str | None = None
    location: str = "body"


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_known_operation(
    spec: ClientSpec,
    method: str,
    path: str,
    spec_path: str | None,
    op: Operation | None,
    same: list[Operation],
) -> list[Finding]:
    if spec_path is None:
        return [
            Finding(
                "client.known_operation",
                f"{method} {path} is outside the API base path {spec.base_path}; "
                f"send requests below it (e.g. {spec.batch_url_path})",
                location="path",
            )
        ]
    if op is not None:
        return []
    if same:
        allowed = ", ".join(sorted({o.method for o in same}))
        hint = " (delete an order with DELETE)" if method.upper() == "POST" and "DELETE" in allowed else ""
        return [
            Finding(
                "client.known_operation",
                f"{method} {same[0].template} is not an operation of the spec; "
                f"allowed methods: {allowed}{hint}",
                location="method",
            )
        ]
    stripped = spec_path.rstrip("/")
    if stripped != spec_path and spec.match(method, stripped)[0] is not None:
        message = f"{method} {spec_path}: the spec path has no trailing slash; send {method} {stripped}"
    else:
        known = ", ".join(sorted({f"{o.method} {o.template}" for o in spec.operations}))
        message = f"{method} {spec_path} is not an operation of the spec; known: {known}"
    return [Finding("client.known_operation", message, location="path")]


def check_body_presence(
    method: str, op: Operation, body: bytes, content_type: str, spec: ClientSpec
) -> list[Finding]:
    """client.content_type: a JSON body needs a JSON content type; bodies where the spec wants them only."""
    request_body = spec.resolve(op.node.get("requestBody") or {})
    wants_body = bool(request_body)
    if not body.strip():
        if wants_body and request_body.get("required"):
            return [
                Finding(
                    "client.content_type",
                    f"{method} {op.template} was sent without a body; the spec requires a JSON body "
                    "(do not send a request for an empty batch)",
                )
            ]
        return []
    if not wants_body:
        return [
            Finding(
                "client.content_type",
                f"{method} {op.template} takes no body, but {len(body)} bytes were sent",
            )
        ]
    if not content_type:
        return [
            Finding(
                "client.content_type",
                "body sent without a Content-Type; use application/json",
                location="header:content-type",
            )
        ]
    if not is_json_content_type(content_type):
        return [
            Finding(
                "client.content_type",
                f"body sent as {content_type!r}; the spec accepts application/json",
                location="header:content-type",
            )
        ]
    return []


def check_batch_size(spec: ClientSpec, data: Any) -> list[Finding]:
    """client.batch_size: at least min_items items; at most max_items only when the contract sets one."""
    items = spec.batch.items_of(data)
    if items is None:
        return []  # not the documented shape: the request schema rule says so
    low, high = spec.min_items, spec.max_items
    if len(items) >= low and (high is None or len(items) <= high):
        return []
    if not items:
        message = "empty batch: send nothing instead of an empty list"
    elif len(items) < low:
        message = f"batch of {len(items)} items; at least {low} per request"
    else:
        message = f"batch of {len(items)} items; at most {high} per request (split it into chunks)"
    return [Finding("client.batch_size", message, spec.whole_batch_pointer())]


def _digits(value: str) -> str:
    """A digit string without leading zeros (compared as text: int() refuses > 4300 digits)."""
    return value.lstrip("0") or "0"


def _id_problem(value: Any, request_type: str, digits: bool) -> str | None:
    if request_type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        return f"id must be sent as an integer, got {type(value).__name__} {value!r}"
    if isinstance(value, str) and (_DIGITS.fullmatch(value) if digits else value):
        return None
    example = '"669"' if digits else '"abc-1"'
    if isinstance(value, bool) or not isinstance(value, int | str):
        kind = "a string of digits" if digits else "a non-empty string"
        return f"id must be {kind} (e.g. {example}), got {type(value).__name__} {value!r}"
    if isinstance(value, int):
        return f'id must be sent as a string ("{value}"), not as the integer {value}'
    return f"id must be a string of digits, got {value!r}" if digits else "id must not be empty"


def _same_id(body_id: Any, path_id: str, digits: bool) -> bool:
    if digits and isinstance(body_id, str) and path_id.isdigit():
        return _digits(body_id) == _digits(path_id)
    return str(body_id) == path_id


def check_id_strings(
    spec: ClientSpec, data: Any, *, batch: bool, path_id: str | None = None
) -> list[Finding]:
    """The contract's explicit id has its request type in bodies (digits when answers carry integers);
    a body id next to a path id must name the same item. Not applicable without an explicit id."""
    key = spec.contract.key
    if key.explicit_id is None:
        return []
    id_tokens = split_pointer(key.explicit_id)
    digits = key.request_id_type == "string" and key.response_id_type == "integer"
    findings = []
    if batch:
        for index, item in enumerate(spec.batch.items_of(data) or []):
            value = pointer_get(item, id_tokens, MISSING)
            problem = None if value is MISSING else _id_problem(value, key.request_id_type, digits)
            if problem:
                where = spec.body_pointer((*spec.batch.items_tokens, index, *id_tokens), batch=True)
                findings.append(Finding("client.id_string", problem, where))
        return findings
    value = pointer_get(data, id_tokens, MISSING)
    if value is MISSING:
        return []
    problem = _id_problem(value, key.request_id_type, digits)
    if problem:
        return [Finding("client.id_string", problem, join_pointer(id_tokens))]
    if path_id is not None and not _same_id(value, path_id, digits):
        message = f"body id {value!r} differs from the item in the path ({path_id}); ids cannot retarget"
        return [Finding("client.id_string", message, join_pointer(id_tokens))]
    return []


def check_timestamps(
    spec: ClientSpec, schema: dict[str, Any] | None, data: Any, *, batch: bool
) -> list[Finding]:
    if schema is None:
        return []
    findings = []
    for path, value in iter_date_times(spec.resolve, schema, data):
        problem = date_time_problem(value)
        if problem:
            findings.append(Finding("client.timestamps", problem, spec.body_pointer(path, batch=batch)))
    return findings


def check_query_names(spec: ClientSpec, op: Operation, pairs: list[tuple[str, str]]) -> list[Finding]:
    """Unknown query parameters (e.g. `status[0]`) and documented ones given more than once."""
    known = spec.parameters(op, "query")
    findings = []
    counts = Counter(name for name, _ in pairs)
    for name in sorted(counts):
        if name not in known:
            bracket = _BRACKETED.fullmatch(name)
            if bracket and bracket.group(1) in known:
                base = bracket.group(1)
                message = f"{name!r} is not a parameter; send one comma-separated value: {base}=7,8"
            else:
                allowed = ", ".join(sorted(known)) or "none"
                message = f"unknown query parameter {name!r} for {op.method} {op.template}; known: {allowed}"
            findings.append(Finding("client.query_params", message, location=f"query:{name}"))
        elif counts[name] > 1:
            schema = spec.resolve(known[name].get("schema") or {})
            how = f"one comma-separated value: {name}=7,8" if schema.get("type") == "array" else "it once"
            findings.append(
                Finding(
                    "client.query_params",
                    f"{name!r} given {counts[name]} times; send {how}",
                    location=f"query:{name}",
                )
            )
    return findings


def check_auth(auth: AuthRules, header: str | None) -> list[Finding]:
    """client.auth: credentials in the spec's security scheme, present and well formed."""
    _, problem = credentials(auth, header)
    return [Finding("client.auth", problem, location=f"header:{auth.header.lower()}")] if problem else []


def check_spacing(
    rule: str, last: float | None, now: float, minimum: float, describe: Callable[[float], str]
) -> list[Finding]:
    """``rule`` is broken when a request comes sooner than ``minimum`` seconds after ``last``;
    ``describe(waited)`` says so."""
    if last is None or now - last >= minimum:
        return []
    return [Finding(rule, describe(max(0.0, now - last)), location="timing")]


def check_conflict_backoff(last_conflict: float | None, now: float, min_delay: float) -> list[Finding]:
    return check_spacing(
        "client.conflict_backoff",
        last_conflict,
        now,
        min_delay,
        lambda waited: (
            f"the same request was resent {waited:.3f} s after a 'still processing' answer; "
            f"wait at least {min_delay:g} s (with backoff) before retrying"
        ),
    )
