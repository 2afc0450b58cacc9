"""Error rules: the documented error shape, locations naming the failing item and member, robustness
against oversized and malformed bodies, and authentication."""

from __future__ import annotations

import json
from typing import Any

from ..contract import pointer_get
from ..strategies import WHOLE_BATCH_FAULTS, InvalidBatch, invalid_batches, valid_orders
from ._base import RuleContext, rule
from ._http import Reply
from ._support import (
    accepted,
    after_processing,
    error_objects,
    expect_error,
    find_by_key,
    invalid_body,
    note_created,
    post_batch,
    property_run,
    rekey,
)

__all__: list[str] = []


def _send(ctx: RuleContext, bad: InvalidBatch) -> Any:
    if bad.raw is not None:
        return post_batch(ctx, raw=bad.raw)
    return post_batch(ctx, body=invalid_body(ctx, bad))


def _shape_problems(ctx: RuleContext, reply: Reply) -> str | None:
    """What is wrong with an error answer's shape, by the contract (None when it is right)."""
    rules = ctx.contract.errors
    if not reply.is_json or "json" not in reply.headers.get("content-type", ""):
        return f"the error answer is not JSON: {reply.describe(160)}"
    errors = rules.errors_of(reply.data)
    if not errors or not all(isinstance(e, dict) for e in errors):
        return f"no non-empty error list at {rules.errors_at!r}: {reply.describe(160)}"
    for error in errors:
        members = [("detail", rules.detail), ("code", rules.code), ("status", rules.status)]
        for name, pointer in members:
            if pointer is not None and not isinstance(pointer_get(error, pointer, None), str):
                return f"an error has no string {name} at {pointer}: {reply.describe(160)}"
        if rules.status is not None and pointer_get(error, rules.status, None) != str(reply.status):
            return f"error status {pointer_get(error, rules.status, None)!r} on an HTTP {reply.status} answer"
    return None


@rule(
    "error.shape",
    "Every rejected batch (item faults and whole-batch faults) answers its documented status with the "
    "documented error body: a non-empty error list whose entries carry code and detail (and status when "
    "documented); documented errors carry their documented code and detail.",
    "x-contract.errors (list, code, detail, status, documented); spec: the batch operation's 4xx answers",
    order=90,
)
def error_shape(ctx: RuleContext) -> None:
    operation_id = ctx.contract.batch_write.operation_id

    def check(bad: InvalidBatch) -> None:
        reply = _send(ctx, bad)
        (expected,) = bad.expected_errors[:1]
        if reply.status != expected.status:
            raise ctx.fail(
                f"{bad.description}: expected HTTP {expected.status}, got {reply.describe(160)}", reply
            )
        problems = ctx.validator.problems(operation_id, reply)
        if problems:
            raise ctx.fail(f"{bad.description}: error body does not match the spec: {problems[0]}", reply)
        problem = _shape_problems(ctx, reply)
        if problem:
            raise ctx.fail(f"{bad.description}: {problem}", reply)
        expect_error(ctx, reply, expected, what=bad.description, check_pointer=False)

    strategy = invalid_batches(ctx.owned, spec=ctx.spec, whole_batch=WHOLE_BATCH_FAULTS, max_size=10)
    property_run(ctx, strategy, check, max_examples=max(ctx.max_examples, 8))


@rule(
    "error.pointer",
    "The error of an invalid item is located at it: the location (error pointer, message prefix or index "
    "member) is the contract's template filled with the item's index and the faulty member's path; a "
    "too-large batch is located at the whole batch.",
    "x-contract.errors.location",
    order=100,
)
def error_pointer(ctx: RuleContext) -> None:
    def check(bad: InvalidBatch) -> None:
        reply = _send(ctx, bad)
        for expected in bad.expected_errors:
            expect_error(ctx, reply, expected, what=bad.description, check_text=False)

    strategy = invalid_batches(ctx.owned, spec=ctx.spec, whole_batch=["too_many"], max_size=10)
    property_run(ctx, strategy, check, max_examples=max(ctx.max_examples, 8))


def _oversized(ctx: RuleContext, template: dict[str, Any]) -> tuple[str, bytes]:
    """A body far larger than any documented limit: the item limit times ten, or 4 MiB of items."""
    limit = ctx.contract.batch.max_items
    (item,) = rekey(ctx, [template])
    size = len(json.dumps(item))
    count = limit * 10 if limit is not None else max(2, (4 * 1024 * 1024) // max(1, size))
    return f"{count} copies of one item", json.dumps(ctx.contract.batch.wrap([item] * count)).encode()


_MALFORMED: tuple[tuple[str, bytes], ...] = (
    ("truncated JSON", b'[{"a": 1'),
    ("not JSON at all", b"\x00\xff garbage \xfe"),
    ("a JSON string", b'"just a string"'),
    ("a JSON number", b"42"),
    ("null", b"null"),
    ("deeply nested arrays", b"[" * 5000 + b"]" * 5000),
    ("invalid UTF-8 inside a string", b'{"items": ["\xc3\x28"]}'),
)


@rule(
    "body.robust",
    "An oversized or malformed body gets a 4xx in the documented error shape: never a 5xx, never HTML, "
    "never a dropped connection.",
    "x-contract.errors (the documented error shape); errors.documented (too_large, malformed_json)",
    order=135,
)
def body_robust(ctx: RuleContext) -> None:
    def check(template: dict[str, Any]) -> None:
        cases = [_oversized(ctx, template), *_MALFORMED]
        for n, (what, raw) in enumerate(cases):
            reply = post_batch(ctx, raw=raw)
            if n == 0 and ctx.contract.batch.max_items is None and accepted(ctx, reply):
                continue  # no documented limit: taking a large batch is allowed
            if not 400 <= reply.status < 500:
                raise ctx.fail(f"{what} ({len(raw)} bytes): expected a 4xx, got {reply.describe(160)}", reply)
            problem = _shape_problems(ctx, reply)
            if problem:
                raise ctx.fail(f"{what}: {problem}", reply)
        wrong_type = post_batch(
            ctx, raw=b"order_id=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        if not 400 <= wrong_type.status < 500 or _shape_problems(ctx, wrong_type):
            raise ctx.fail(
                f"a form-encoded body: expected a 4xx error answer, got {wrong_type.describe(160)}",
                wrong_type,
            )

    property_run(ctx, valid_orders(ctx.owned, spec=ctx.spec), check, max_examples=1)


def _probe_paths(ctx: RuleContext) -> list[tuple[str, str, str]]:
    """(operationId, method, path) of every bound operation, path parameters filled with a placeholder."""
    found = []
    for operation in ctx.contract.operations.values():
        path = operation.url_path(**dict.fromkeys(operation.path_parameters, "1"))
        found.append((operation.operation_id, operation.method, path))
    return found


@rule(
    "auth.required",
    "Every bound operation without credentials, or with wrong ones, answers 401 in the documented error "
    "shape, and an unauthenticated batch stores nothing.",
    "x-contract.auth; spec: securitySchemes, 401 answers",
    order=130,
)
def auth_required(ctx: RuleContext) -> None:
    def check(order: dict[str, Any]) -> None:
        (order,) = rekey(ctx, [order])
        batch_id = ctx.contract.batch_write.operation_id
        for op_id, method, path in _probe_paths(ctx):
            body: Any = ctx.contract.batch.wrap([order]) if op_id == batch_id else None
            if method in ("PATCH", "PUT") and body is None:
                body = {}
            for label, auth in (
                ("without credentials", None),
                ("with wrong credentials", ctx.api.wrong_credentials()),
            ):
                reply = ctx.api.request(method, path, json_body=body, auth=auth)
                if op_id == batch_id:
                    note_created(ctx, reply)  # a server without auth stores it: cleanup deletes it
                if reply.status != 401:
                    raise ctx.fail(f"{method} {path} {label}: expected 401, got {reply.describe(160)}", reply)
                problems = ctx.validator.problems(op_id, reply)
                if problems:
                    raise ctx.fail(f"{method} {path} {label}: {problems[0]}", reply)
                error_objects(ctx, reply)
        after_processing(ctx, order)
        _, found = find_by_key(ctx, order)
        if found:
            raise ctx.fail(f"an unauthenticated batch stored {found[0].get('id')!r}")

    property_run(ctx, valid_orders(ctx.owned, spec=ctx.spec), check, max_examples=1)
