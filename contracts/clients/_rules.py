"""The client rules that are ours rather than the schema's: each returns a list of findings."""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from typing import Any, NamedTuple

from ._spec import ClientSpec, Operation
from ._timestamps import date_time_problem, iter_date_times

__all__ = [
    "Finding",
    "body_pointer",
    "check_auth",
    "check_batch_size",
    "check_body_presence",
    "check_conflict_backoff",
    "check_id_strings",
    "check_known_operation",
    "check_query_names",
    "check_timestamps",
    "is_json_content_type",
    "parse_basic_auth",
]

_BRACKETED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[(\d*)\]")
_DIGITS = re.compile(r"[0-9]+")


class Finding(NamedTuple):
    rule: str
    message: str
    pointer: str | None = None
    location: str = "body"


def _escape(token: int | str) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def body_pointer(spec: ClientSpec, path: tuple[int | str, ...] | list[Any], *, batch: bool) -> str:
    """Pointer in the x-contract syntax for a batch (`/data/attributes/[1]/order_items/0/quantity`,
    the whole batch is `/data/attributes/`); a plain RFC 6901 pointer for any other body."""
    parts = list(path)
    if not batch:
        return "".join(f"/{_escape(p)}" for p in parts)
    if not parts or not isinstance(parts[0], int):
        return spec.whole_batch_pointer
    rest = "".join(f"/{_escape(p)}" for p in parts[1:])
    return spec.pointer_template.format(index=parts[0], path=rest)


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
                f"send requests to {spec.base_path}/orders...",
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
    if not isinstance(data, list):
        return []
    if spec.min_items <= len(data) <= spec.max_items:
        return []
    if not data:
        message = "empty batch: send nothing instead of an empty list"
    else:
        message = f"batch of {len(data)} orders; at most {spec.max_items} per request (split it into chunks)"
    return [Finding("client.batch_size", message, spec.whole_batch_pointer)]


def _digits(value: str) -> str:
    """A digit string without leading zeros (compared as text: int() refuses > 4300 digits)."""
    return value.lstrip("0") or "0"


def _id_problem(value: Any) -> str | None:
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        return f'id must be a string of digits (e.g. "669"), got {type(value).__name__} {value!r}'
    if isinstance(value, int):
        return f'id must be sent as a string ("{value}"), not as the integer {value}'
    return f"id must be a string of digits, got {value!r}"


def check_id_strings(spec: ClientSpec, data: Any, path_id: str | None = None) -> list[Finding]:
    """Ids in bodies are strings of digits; a body id next to a path id must name the same order."""
    findings = []
    if isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, dict) and "id" in item:
                problem = _id_problem(item["id"])
                if problem:
                    findings.append(
                        Finding("client.id_string", problem, body_pointer(spec, (index, "id"), batch=True))
                    )
    elif isinstance(data, dict) and "id" in data:
        problem = _id_problem(data["id"])
        if problem:
            findings.append(Finding("client.id_string", problem, "/id"))
        elif path_id is not None and path_id.isdigit() and _digits(data["id"]) != _digits(path_id):
            message = (
                f"body id {data['id']!r} differs from the order in the path ({path_id}); ids cannot retarget"
            )
            findings.append(Finding("client.id_string", message, "/id"))
    return findings


def check_timestamps(spec: ClientSpec, schema: dict[str, Any] | None, data: Any) -> list[Finding]:
    if schema is None:
        return []
    batch = schema.get("type") == "array"
    findings = []
    for path, value in iter_date_times(spec.resolve, schema, data):
        problem = date_time_problem(value)
        if problem:
            findings.append(Finding("client.timestamps", problem, body_pointer(spec, path, batch=batch)))
    return findings


def check_query_names(spec: ClientSpec, op: Operation, pairs: list[tuple[str, str]]) -> list[Finding]:
    """Unknown query parameters (e.g. `integration[0]`) and documented ones given more than once."""
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


def parse_basic_auth(value: str | None) -> tuple[str | None, str | None]:
    """(user name, problem). The user name is None when it could not be read."""
    if not value:
        return (
            None,
            "no Authorization header; send HTTP Basic credentials (API key as user, secret as password)",
        )
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, f"Authorization scheme {scheme!r}; the spec uses HTTP Basic"
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None, "Basic credentials are not valid base64 of 'user:password'"
    user, colon, password = decoded.partition(":")
    if not colon:
        return None, "Basic credentials lack the ':' between user name and password"
    if not user or not password:
        return user or None, "Basic credentials have an empty user name or password"
    return user, None


def check_auth(header: str | None) -> list[Finding]:
    _, problem = parse_basic_auth(header)
    return [Finding("client.auth", problem, location="header:authorization")] if problem else []


def check_conflict_backoff(last_conflict: float | None, now: float, min_delay: float) -> list[Finding]:
    if last_conflict is None or now - last_conflict >= min_delay:
        return []
    waited = max(0.0, now - last_conflict)
    return [
        Finding(
            "client.conflict_backoff",
            f"the same request was resent {waited:.3f} s after a 'still processing' answer; "
            f"wait at least {min_delay:g} s (with backoff) before retrying",
            location="timing",
        )
    ]
