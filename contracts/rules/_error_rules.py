"""Error rules: documented error shape, pointers naming the failing order and field, authentication."""

from __future__ import annotations

from typing import Any

from ..strategies import WHOLE_BATCH_FAULTS, InvalidBatch, invalid_batches, valid_orders
from ._base import RuleContext, rule
from ._support import (
    after_processing,
    error_objects,
    expect_error,
    fault_at_key,
    find_by_key,
    get_pointer,
    post_batch,
    property_run,
    rekey,
)

__all__: list[str] = []


def _send(ctx: RuleContext, bad: InvalidBatch) -> Any:
    if bad.raw is not None:
        return post_batch(ctx, raw=bad.raw)
    keep = fault_at_key(ctx, bad)
    body = rekey(ctx, bad.batch, keep=keep) if isinstance(bad.batch, list) else rekey(ctx, [bad.batch])[0]
    return post_batch(ctx, body)


@rule(
    "error.shape",
    "Every rejected batch (field faults and whole-batch faults) answers its status with an ErrorResponse "
    "body: a non-empty errors array of objects with string status, code and detail; documented errors "
    "carry their documented code and detail.",
    "seed 001: 'On failure (HTTP 400), the response includes error details with source.pointer'; "
    "spec: ErrorResponse; x-contract.errors",
)
def error_shape(ctx: RuleContext) -> None:
    def check(bad: InvalidBatch) -> None:
        reply = _send(ctx, bad)
        (expected,) = bad.expected_errors[:1]
        if reply.status != expected.status:
            raise ctx.fail(
                f"{bad.description}: expected HTTP {expected.status}, got {reply.describe(160)}", reply
            )
        problems = ctx.validator.problems("upsertOrders", reply)
        if problems:
            raise ctx.fail(f"{bad.description}: error body does not match the spec: {problems[0]}", reply)
        for error in error_objects(ctx, reply):
            if error.get("status") != str(reply.status):
                raise ctx.fail(
                    f"{bad.description}: error status {error.get('status')!r} on an HTTP "
                    f"{reply.status} reply",
                    reply,
                )
        expect_error(ctx, reply, expected, what=bad.description, check_pointer=False)

    strategy = invalid_batches(
        ctx.integration_ids, spec=ctx.spec, whole_batch=WHOLE_BATCH_FAULTS, max_size=10
    )
    property_run(ctx, strategy, check, max_examples=max(ctx.max_examples, 8))


@rule(
    "error.pointer",
    "The error of an invalid order points at it: source.pointer is the x-contract template filled with "
    "the order's index and the faulty field's path; a too-large batch points at the whole batch.",
    "seed 001: 'source.pointer indicating which order in the array caused the issue (e.g., [1] for the "
    "second order, 0-indexed)'; x-contract.error_pointer",
)
def error_pointer(ctx: RuleContext) -> None:
    def check(bad: InvalidBatch) -> None:
        reply = _send(ctx, bad)
        for expected in bad.expected_errors:
            expect_error(ctx, reply, expected, what=bad.description, check_text=False)

    strategy = invalid_batches(ctx.integration_ids, spec=ctx.spec, whole_batch=["too_many"], max_size=10)
    property_run(ctx, strategy, check, max_examples=max(ctx.max_examples, 8))


_OPERATIONS = (
    ("upsertOrders", "POST", "/orders"),
    ("listOrders", "GET", "/orders"),
    ("getOrder", "GET", "/orders/1"),
    ("updateOrder", "PATCH", "/orders/1"),
    ("deleteOrder", "DELETE", "/orders/1"),
)


@rule(
    "auth.required",
    "Every operation without credentials, or with a wrong password, answers 401 with an ErrorResponse, "
    "and an unauthenticated batch stores nothing.",
    "seed 001: 'Basic Authentication using API key and secrets'; spec: security basicAuth, 401 Unauthorized",
)
def auth_required(ctx: RuleContext) -> None:
    user = ctx.api.credentials[0]

    def check(order: dict[str, Any]) -> None:
        (order,) = rekey(ctx, [order])
        for op_id, method, path in _OPERATIONS:
            body: Any = (
                [order] if op_id == "upsertOrders" else ({"order_number": "x"} if method == "PATCH" else None)
            )
            for label, auth in (
                ("without credentials", None),
                ("with a wrong password", (user, "wrong-" + user)),
            ):
                reply = ctx.api.request(method, path, json_body=body, auth=auth)
                if reply.status != 401:
                    raise ctx.fail(f"{method} {path} {label}: expected 401, got {reply.describe(160)}", reply)
                problems = ctx.validator.problems(op_id, reply)
                if problems:
                    raise ctx.fail(f"{method} {path} {label}: {problems[0]}", reply)
        after_processing(ctx, order)
        key = (
            get_pointer(order, ctx.contract.order_id_path),
            get_pointer(order, ctx.contract.integration_path),
        )
        _, found = find_by_key(ctx, str(key[0]), int(key[1]))
        if found:
            raise ctx.fail(f"an unauthenticated batch stored order {found[0].get('id')}")

    property_run(ctx, valid_orders(ctx.integration_ids, spec=ctx.spec), check, max_examples=1)
