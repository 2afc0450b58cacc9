"""Concurrency rule: identical batches sent at once never create two orders for one upsert key."""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from hypothesis import strategies as st

from ..strategies import ExpectedError, valid_orders
from ._base import RuleContext, RuleFailed, rule
from ._http import Reply, TargetError
from ._support import expect_error, find_by_key, get_pointer, poll, post_batch, property_run, rekey

__all__: list[str] = []

_SENDERS = 4


@rule(
    "conflict.concurrent",
    "Identical batches sent concurrently each answer 201 or the documented conflict error, at least one "
    "succeeds, and every upsert key ends up as exactly one order.",
    "seed 001: 'If the same order_id is being processed by another request, you'll receive a conflict "
    "error'; x-contract.conflict",
)
def concurrent(ctx: RuleContext) -> None:
    spec = ctx.contract.conflict
    conflict = ExpectedError(
        int(spec.get("status", 400)), spec.get("pointer"), spec.get("code"), spec.get("detail")
    )

    def check(templates: list[dict[str, Any]]) -> None:
        batch = rekey(ctx, templates)
        barrier = threading.Barrier(_SENDERS, timeout=10)
        replies: list[Reply | Exception] = []
        lock = threading.Lock()

        def send() -> None:
            try:
                barrier.wait()
                result: Reply | Exception = post_batch(ctx, batch)
            except (TargetError, threading.BrokenBarrierError) as exc:
                result = exc
            with lock:
                replies.append(result)

        threads = [threading.Thread(target=send, daemon=True) for _ in range(_SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(ctx.api.timeout + 15)
        errors = [r for r in replies if isinstance(r, Exception)]
        if errors or len(replies) < _SENDERS:
            raise TargetError(f"concurrent batches did not all complete: {errors[:1] or 'timeout'}")
        answers = [r for r in replies if isinstance(r, Reply)]
        for reply in answers:
            if reply.status != 201:
                try:
                    expect_error(ctx, reply, conflict, what="a concurrent identical batch")
                except RuleFailed as failure:
                    raise ctx.fail(
                        f"neither 201 nor the documented conflict: {failure.message}", reply
                    ) from None
        if not any(r.status == 201 for r in answers):
            raise ctx.fail(f"all {_SENDERS} concurrent identical batches were refused; none succeeded")
        for order in batch:
            key = (
                str(get_pointer(order, ctx.contract.order_id_path)),
                int(get_pointer(order, ctx.contract.integration_path)),
            )
            listing, found = poll(ctx, partial(find_by_key, ctx, *key), lambda f: len(f[1]) > 1, timeout=0.3)
            if len(found) > 1:
                ids = sorted(int(o["id"]) for o in found)
                raise ctx.fail(
                    f"{_SENDERS} concurrent identical batches left {len(found)} orders {ids} for one "
                    f"upsert key {key}",
                    listing,
                    note=f"the {_SENDERS} POSTs below were sent at the same time: run them in parallel "
                    "(append ' &' to each, then 'wait'), then list the key",
                )

    single = valid_orders(ctx.integration_ids, spec=ctx.spec)
    property_run(
        ctx, st.lists(single, min_size=1, max_size=3), check, max_examples=max(2, ctx.max_examples // 2)
    )
