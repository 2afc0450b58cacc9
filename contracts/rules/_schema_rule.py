"""schema.responses: Schemathesis 4 generates positive and negative requests for every operation of the
spec; each answer must conform (documented status, content type, headers, body schema, no 5xx)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ._base import RuleContext, rule
from ._support import created_ids, property_run

__all__: list[str] = []

_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_DROPPED_HEADERS = {
    "authorization",
    "user-agent",
    "accept-encoding",
    "accept",
    "connection",
    "content-length",
}


def _send(ctx: RuleContext, case: Any) -> Any:
    kwargs = case.as_transport_kwargs(base_url=ctx.api.base_url)
    headers = {
        k: str(v) for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in _DROPPED_HEADERS
    }
    headers.pop("X-Schemathesis-TestCaseId", None)
    content: bytes | None = None
    if "json" in kwargs:
        content = json.dumps(kwargs["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        content = data if isinstance(data, bytes) else str(data).encode()
    url = kwargs["url"]
    params = kwargs.get("params")
    if params:
        url = str(httpx.URL(url, params=params))
    return ctx.api.request(kwargs["method"], url, content=content, headers=headers)


@rule(
    "schema.responses",
    "Schemathesis positive and negative requests for every operation get answers that match the spec: "
    "documented status, content type, headers and body schema, never a 5xx.",
    "spec: every operation's responses (sendcloud-orders-v3.yaml); Schemathesis 4 checks",
)
def schema_responses(ctx: RuleContext) -> None:
    schema = schemathesis.openapi.from_dict(ctx.spec.doc)
    schema.config.update(base_url=ctx.api.base_url, basic_auth=ctx.api.credentials)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise ctx.fail(f"Schemathesis cannot use an operation of the spec: {result.err()}")
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            def check(case: Any, label: str = operation.label, mode: GenerationMode = mode) -> None:
                reply = _send(ctx, case)
                if reply.status == 201:
                    created_ids(ctx, reply, strict=False)
                try:
                    case.validate_response(reply.raw, checks=_CHECKS)
                except AssertionError as exc:
                    summary = " ".join(str(exc).split())[:300]
                    raise ctx.fail(f"{label} ({mode.value} data): {summary}", reply) from None
                except BaseExceptionGroup as group:
                    summary = "; ".join(" ".join(str(e).split())[:150] for e in group.exceptions[:2])
                    raise ctx.fail(f"{label} ({mode.value} data): {summary}", reply) from None

            property_run(
                ctx,
                operation.as_strategy(generation_mode=mode),
                check,
                max_examples=ctx.schemathesis_examples,
            )
