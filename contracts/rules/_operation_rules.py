"""Asynchronous processing: an accepted batch's operation moves through documented statuses only, ends
within the promised time, and every resource of it names a stored item that reads back.

Time: the wait for a terminal status is the contract's ``complete_within_seconds`` in every profile, so a
slow but correct server passes; a status outside the spec's ``statuses`` fails at once, without waiting. A
run may promise less (``RunConfig.operation_timeout_s``): the wait is then capped and the failure says so.
"""

from __future__ import annotations

from typing import Any

from ..contract import Contract, pointer_get
from ..strategies import valid_batches
from ._base import RuleContext, rule
from ._support import (
    accepted,
    post_batch,
    processed_ids,
    property_run,
    read_back,
    rekey,
    stored,
    wait_operation,
)

__all__: list[str] = []

Order = dict[str, Any]


def _asynchronous(contract: Contract) -> str | None:
    return None if contract.processing.asynchronous else "x-contract.processing.mode is synchronous"


@rule(
    "operation.completes",
    "An accepted batch's operation only takes documented statuses, reaches a terminal one within "
    "complete_within_seconds, succeeds for a valid batch, and each resource (in request order) names a "
    "stored item with that item's key, readable and matching the spec.",
    "x-contract.processing.operation (statuses, terminal, succeeded, complete_within_seconds, resources)",
    order=15,
    applies=_asynchronous,
)
def operation_completes(ctx: RuleContext) -> None:
    operation = ctx.contract.processing.operation
    assert operation is not None
    read_id = ctx.contract.operation("read_one").operation_id if ctx.contract.has("read_one") else None
    status_id = ctx.contract.operation("operation_status").operation_id

    def check(batch: list[Order]) -> None:
        batch = rekey(ctx, batch)
        reply = post_batch(ctx, batch)
        if not accepted(ctx, reply):
            raise ctx.fail(
                f"a valid batch of {len(batch)} items was not accepted: {reply.describe(200)}", reply
            )
        final, _ = wait_operation(ctx, reply)  # fails at once on a status outside the spec's statuses
        problems = ctx.validator.problems(status_id, final)
        if problems:
            raise ctx.fail(f"the finished operation does not match the spec: {problems[0]}", final)
        resources = pointer_get(final.data, operation.resources, None)
        if isinstance(resources, list) and operation.resource_status:
            for i, resource in enumerate(resources):
                state = pointer_get(resource, operation.resource_status, None)
                if state not in operation.statuses:
                    raise ctx.fail(
                        f"resource [{i}] has status {state!r}, not one of {list(operation.statuses)}", final
                    )
        ids = processed_ids(ctx, reply, len(batch))
        if not read_id:
            return
        for i in sorted({0, len(batch) // 2, len(batch) - 1}):
            got = read_back(ctx, ids[i])
            if got.status != 200:
                raise ctx.fail(
                    f"resource [{i}] names {ids[i]!r}, which cannot be read: {got.describe(160)}", got
                )
            problems = ctx.validator.problems(read_id, got)
            if problems:
                raise ctx.fail(f"item {ids[i]!r} does not match the spec: {problems[0]}", got)
            key, want = ctx.contract.key.key_of(stored(ctx, got)), ctx.contract.key.key_of(batch[i])
            if [str(v) for v in key] != [str(v) for v in want]:
                raise ctx.fail(
                    f"resource [{i}] names {ids[i]!r}, which holds key {list(key)}, not {list(want)}", got
                )

    property_run(ctx, valid_batches(ctx.owned, spec=ctx.spec, max_size=12), check)
