"""Concurrency rules: identical batches sent at once never make two items for one key; distinct batches
sent at once are all stored once processing is done."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from hypothesis import strategies as st

from ..strategies import ExpectedError, valid_orders
from ._base import RuleContext, RuleFailed, rule
from ._http import Reply, TargetError
from ._support import (
    accepted,
    expect_error,
    find_by_key,
    poll,
    post_batch,
    processed_ids,
    property_run,
    read_back,
    rekey,
)

__all__: list[str] = []

_SENDERS = 4
_DURABLE_SENDERS = 8


def _at_once(ctx: RuleContext, senders: int, send: Callable[[int], Reply]) -> list[Reply]:
    """Run ``send(i)`` for i in range(senders) on threads released together; every answer, in order."""
    barrier = threading.Barrier(senders, timeout=10)
    replies: list[Reply | Exception | None] = [None] * senders

    def run(i: int) -> None:
        try:
            barrier.wait()
            replies[i] = send(i)
        except Exception as exc:  # noqa: BLE001 - carried to the caller's thread, never printed here
            replies[i] = exc  # e.g. the run was interrupted and its HTTP client closed meanwhile

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(ctx.api.timeout + 15)
    errors = [r for r in replies if not isinstance(r, Reply)]
    if errors:
        raise TargetError(
            f"{len(errors)} of {senders} concurrent batches did not complete: {errors[0] or 'timeout'}"
        )
    return [r for r in replies if isinstance(r, Reply)]


@rule(
    "conflict.concurrent",
    "Identical batches sent concurrently each answer a success or the documented conflict error, at least "
    "one succeeds, and every key ends up as exactly one item.",
    "x-contract.conflict",
    order=120,
    applies=lambda c: None if c.conflict is not None else "x-contract has no conflict block",
)
def concurrent(ctx: RuleContext) -> None:
    spec = ctx.contract.conflict
    assert spec is not None
    conflict = ExpectedError(spec.status, spec.pointer, spec.code, spec.detail)

    def check(templates: list[dict[str, Any]]) -> None:
        batch = rekey(ctx, templates)
        answers = _at_once(ctx, _SENDERS, lambda _i: post_batch(ctx, batch))
        for reply in answers:
            if not accepted(ctx, reply):
                try:
                    expect_error(ctx, reply, conflict, what="a concurrent identical batch")
                except RuleFailed as failure:
                    raise ctx.fail(
                        f"neither a success nor the documented conflict: {failure.message}", reply
                    ) from None
        winners = [r for r in answers if accepted(ctx, r)]
        if not winners:
            raise ctx.fail(f"all {_SENDERS} concurrent identical batches were refused; none succeeded")
        for reply in winners:
            processed_ids(ctx, reply, len(batch))
        for order in batch:
            listing, found = poll(ctx, partial(find_by_key, ctx, order), lambda f: len(f[1]) > 1, timeout=0.3)
            if len(found) > 1:
                ids = sorted(str(o.get("id")) for o in found)
                raise ctx.fail(
                    f"{_SENDERS} concurrent identical batches left {len(found)} items {ids} for one key "
                    f"{list(ctx.contract.key.key_of(order))}",
                    listing,
                    note=f"the {_SENDERS} POSTs below were sent at the same time: run them in parallel "
                    "(append ' &' to each, then 'wait'), then list the key",
                )

    single = valid_orders(ctx.owned, spec=ctx.spec)
    property_run(
        ctx, st.lists(single, min_size=1, max_size=3), check, max_examples=max(2, ctx.max_examples // 2)
    )


@rule(
    "durability.concurrent",
    f"{_DURABLE_SENDERS} batches of distinct items (plus one item all of them share) sent at once: every "
    "item an answer acknowledged can be read back once processing is done, and each key is stored once.",
    "x-contract.processing (results or operation); the batch operation's success answer",
    order=125,
)
def durability(ctx: RuleContext) -> None:
    def check(templates: list[dict[str, Any]]) -> None:
        (shared,) = rekey(ctx, templates[:1])  # one key in every batch: stored once, whoever wins
        batches = [[*rekey(ctx, templates[1:]), shared] for _ in range(_DURABLE_SENDERS)]
        answers = _at_once(ctx, _DURABLE_SENDERS, lambda i: post_batch(ctx, batches[i]))
        crashed = [r for r in answers if r.status >= 500]
        if crashed:
            raise ctx.fail(f"a batch sent concurrently answered {crashed[0].describe(160)}", crashed[0])
        acknowledged = [(batches[i], r) for i, r in enumerate(answers) if accepted(ctx, r)]
        if not acknowledged:
            raise ctx.fail(f"none of {_DURABLE_SENDERS} concurrent batches was accepted", answers[0])
        for batch, reply in acknowledged:
            ids = processed_ids(ctx, reply, len(batch))
            if len(set(map(str, ids))) != len(ids):
                raise ctx.fail(f"one answer names the same stored id for two distinct items: {ids}", reply)
            for i, pk in enumerate(ids):
                got = read_back(ctx, pk)
                if got.status != 200:
                    raise ctx.fail(
                        f"item [{i}] acknowledged as {pk!r} cannot be read back: {got.describe(160)}", got
                    )
        for order in [shared, *(batch[0] for batch, _ in acknowledged)]:
            listing, found = find_by_key(ctx, order)
            if len(found) != 1:
                raise ctx.fail(
                    f"key {list(ctx.contract.key.key_of(order))}, sent in concurrent batches, is stored "
                    f"{len(found)} times",
                    listing,
                )

    single = valid_orders(ctx.owned, spec=ctx.spec)
    property_run(
        ctx, st.lists(single, min_size=2, max_size=3), check, max_examples=max(1, ctx.max_examples // 3)
    )
