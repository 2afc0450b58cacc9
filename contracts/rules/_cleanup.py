"""Cleanup: delete what a run created, bounded in time, and remember what could not be deleted and why.

Items are known by the ids a batch answer or operation named (``ctx.created``), by key for batches whose
answer never came or that a failed rule's target refused (``ctx.in_flight``, ``ctx.refused``: looked up
with the list operation), and end in ``ctx.undeleted`` with the reason when they cannot be deleted."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ._base import RuleContext, RuleNotApplicable
from ._http import Api, NoAnswer, TargetError
from ._support import find_by_key

__all__ = ["cleanup"]


def cleanup(
    ctx: RuleContext,
    budget: float = 10.0,
    *,
    api: Api | None = None,
    final: bool = False,
    sweep: bool = False,
) -> int:
    """Delete the items this run created, when the contract binds a delete operation (bounded in time);
    how many were deleted.

    What cannot be deleted goes to ``ctx.undeleted`` with the reason. After a DELETE got no answer (or
    while the target is not answering) later cleanups only collect; the ``final`` one (at the end of the
    run, through ``api`` if given) tries everything left once more. ``sweep`` (after a failed rule) also
    looks up by key the items of batches the target refused, in case it stored them anyway."""
    api = api or ctx.api
    with ctx._lock:
        refused, ctx.refused = ctx.refused, []
        if sweep or final:
            for n, batch in enumerate(refused):
                ctx.in_flight[("refused", n, id(batch))] = batch
    stopping = api.stop is not None and api.stop.is_set()
    if (final or sweep) and not (stopping and not final):
        _sweep_in_flight(ctx, api, min(10.0, budget / 2))
    with ctx._lock:
        ids = list(ctx.created)
        ctx.created.clear()
        if final:
            ids += [i for i in ctx.undeleted if i not in ids]
            ctx.undeleted.clear()
    ids.sort(key=str)
    if not ctx.contract.has("delete"):
        _left(ctx, ids, "x-contract binds no delete operation")
        return 0
    if not final and (ctx.delete_broken or api.no_answer_streak or stopping):
        _left(ctx, ids, ctx.delete_broken or ("interrupted" if stopping else "the target was not answering"))
        return 0
    operation = ctx.contract.operation("delete")
    end = time.monotonic() + min(budget, max(0.0, api.remaining()))
    done, n = 0, 0
    try:
        for n, pk in enumerate(ids):  # noqa: B007 - n names what is left when the loop is left early
            if time.monotonic() > end:
                _left(ctx, ids[n:], "cleanup ran out of time")
                break
            path = operation.url_path(**dict.fromkeys(operation.path_parameters, pk))
            limit = min(2.0, api.timeout, end - time.monotonic())
            try:
                reply = api.request(operation.method, path, timeout=limit)
            except TargetError as exc:
                what = "got no answer" if isinstance(exc, NoAnswer) else "failed"
                ctx.delete_broken = f"{operation.method} {what}"
                _left(ctx, ids[n:], ctx.delete_broken)
                break
            if reply.status in (200, 202, 204):
                done += 1
                ctx.deleted += 1
            elif reply.status not in (404, 410):  # already gone is fine
                _left(ctx, [pk], f"{operation.method} answered {reply.describe(80)}")
    except BaseException:  # interrupted: what was not tried yet is left for the final cleanup
        _left(ctx, ids[n:], "interrupted")
        raise
    return done


def _sweep_in_flight(ctx: RuleContext, api: Api, budget: float) -> None:
    """Find by key the items of batches whose answer never came (interrupted, no answer) or whose
    operation was not read, so the cleanup deletes them too (bounded; needs a list operation)."""
    with ctx._lock:
        items = [item for batch in ctx.in_flight.values() for item in batch]
        ctx.in_flight.clear()
    if not items or not ctx.contract.has("list") or ctx.contract.listing is None:
        return
    end = time.monotonic() + budget
    run_api, ctx.api = ctx.api, api
    try:
        for item in items:
            if time.monotonic() > end:
                break
            try:
                find_by_key(ctx, item)  # remembers what it finds
            except (AssertionError, TargetError, RuleNotApplicable):
                break
    finally:
        ctx.api = run_api


def _left(ctx: RuleContext, ids: Sequence[Any], reason: str) -> None:
    with ctx._lock:
        for pk in ids:
            ctx.undeleted.setdefault(pk, reason)
