"""schema.responses: Schemathesis 4 generates positive and negative requests for every operation of the
spec; each answer must conform (documented status, content type, headers, body schema, no 5xx)."""

from __future__ import annotations

import contextlib
import copy
import json
import time
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from ..contract import pointer_get
from ..strategies import owned_member, set_pointer
from ._base import RuleContext, RuleFailed, rule
from ._support import StopRun, note_created, property_run

__all__: list[str] = []

_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    ensure_resource_availability,
    response_headers_conformance,
    response_schema_conformance,
]
# Along links: a deleted order must be gone, a created one must be readable.
_STATEFUL_CHECKS = [*_CHECKS, use_after_free, ensure_resource_availability]
_DROPPED_HEADERS = {
    "authorization",
    "user-agent",
    "accept-encoding",
    "accept",
    "connection",
    "content-length",
}


def _fit_to_account(ctx: RuleContext, body: Any) -> Any:
    """Give schema-valid batch items an owned value and drop explicit ids, so positive data can succeed
    (random owned values and random ids are always refused)."""
    contract = ctx.contract
    items = contract.batch.items_of(body)
    if items is None:
        return body
    member = owned_member(contract)
    fitted = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            item = copy.deepcopy(item)
            if contract.key.explicit_id:
                parent, _, last = contract.key.explicit_id.rpartition("/")
                holder = pointer_get(item, parent, None)
                if isinstance(holder, dict):
                    holder.pop(last, None)
            if member is not None and ctx.owned and pointer_get(item, member, None) is not None:
                with contextlib.suppress(KeyError, IndexError, TypeError):
                    set_pointer(item, member, ctx.owned[i % len(ctx.owned)])
        fitted.append(item)
    if not contract.batch.wrapped:
        return fitted
    wrapped = copy.deepcopy(body)
    set_pointer(wrapped, contract.batch.items, fitted)
    return wrapped


def _send(ctx: RuleContext, case: Any, *, positive: bool = True) -> Any:
    kwargs = case.as_transport_kwargs(base_url=ctx.api.base_url)
    headers = {
        k: str(v) for k, v in (kwargs.get("headers") or {}).items() if k.lower() not in _DROPPED_HEADERS
    }
    headers.pop("X-Schemathesis-TestCaseId", None)
    content: bytes | None = None
    batch = ctx.contract.batch_write
    is_batch = kwargs["method"] == batch.method and case.operation.path == batch.path
    if positive and is_batch:
        for tenant in ctx.contract.auth.headers:  # a random tenant value is refused by design
            headers.pop(tenant.name, None)
    if "json" in kwargs:
        body = _fit_to_account(ctx, kwargs["json"]) if positive and is_batch else kwargs["json"]
        content = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        content = data if isinstance(data, bytes) else str(data).encode()
    url = kwargs["url"]
    params = kwargs.get("params")
    if params:
        url = str(httpx.URL(url, params=params))
    reply = ctx.api.request(kwargs["method"], url, content=content, headers=headers)
    if is_batch:
        note_created(ctx, reply)
    return reply


def _validate(ctx: RuleContext, case: Any, reply: Any, label: str, recorder: Any = None) -> None:
    try:
        if recorder is None:
            case.validate_response(reply.raw, checks=_CHECKS)
        else:
            checks = _STATEFUL_CHECKS
            if ctx.contract.processing.asynchronous:  # a fresh item may not be readable yet
                checks = [c for c in checks if c is not ensure_resource_availability]
            case.validate_response(reply.raw, checks=checks, recorder=recorder)
    except AssertionError as exc:
        summary = " ".join(str(exc).split())[:300]
        raise ctx.fail(f"{label}: {summary}", reply) from None
    except BaseExceptionGroup as group:
        summary = "; ".join(" ".join(str(e).split())[:150] for e in group.exceptions[:2])
        raise ctx.fail(f"{label}: {summary}", reply) from None


def _stateful(ctx: RuleContext, schema: Any) -> None:
    """Scenarios along the spec's links (create -> get/update/delete), bounded in examples and time."""
    started = time.monotonic()
    failures: list[RuleFailed] = []
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def call(self, case: Any, **kwargs: Any) -> Any:
            if failures or ctx.time_left(started) <= 0:
                raise StopRun
            mark = ctx.api.mark()
            reply = _send(ctx, case)
            self._last = (reply, mark)
            return Response.from_any(reply.raw)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            reply, mark = self._last
            try:
                _validate(
                    ctx, case, reply, f"stateful {case.operation.label}", getattr(self, "recorder", None)
                )
            except RuleFailed as failure:
                failure.exchanges = ctx.api.since(mark)
                failures.append(failure)
                raise

    options = settings(
        max_examples=ctx.schemathesis_examples,
        stateful_step_count=5,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    try:
        run_state_machine_as_test(Machine, settings=options)
    except StopRun:
        pass
    except Exception:
        if not failures:
            raise
    if failures:
        raise failures[0]


@rule(
    "schema.responses",
    "Schemathesis positive and negative requests for every operation, then short scenarios along the "
    "spec's links, get answers that match the spec: documented status, content type, headers, body "
    "schema, never a 5xx.",
    "spec: every operation's responses; Schemathesis 4 checks",
    order=190,
)
def schema_responses(ctx: RuleContext) -> None:
    schema = schemathesis.openapi.from_dict(ctx.spec.doc)
    schema.config.update(base_url=ctx.api.base_url)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise ctx.fail(f"Schemathesis cannot use an operation of the spec: {result.err()}")
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            def check(case: Any, label: str = operation.label, mode: GenerationMode = mode) -> None:
                reply = _send(ctx, case, positive=mode is GenerationMode.POSITIVE)
                _validate(ctx, case, reply, f"{label} ({mode.value} data)")

            property_run(
                ctx,
                operation.as_strategy(generation_mode=mode),
                check,
                max_examples=ctx.schemathesis_examples,
            )
    _stateful(ctx, schema)
