"""Shared steps of rules, all through the contract: re-keying items, posting a batch, waiting until it is
processed (synchronous results or an asynchronous operation), reading back, listing by key, cleanup."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from ..contract import MISSING, pointer_get
from ..strategies import InvalidBatch, id_member, mark_member, set_pointer
from ._base import RuleContext
from ._error_support import error_objects, expect_error
from ._http import Reply
from ._running import StopRun, poll, property_run

__all__ = [
    "StopRun",
    "accepted",
    "after_processing",
    "dumps",
    "error_objects",
    "expect_error",
    "fault_at_key",
    "find_by_key",
    "get_mark",
    "get_pointer",
    "invalid_body",
    "list_items",
    "note_created",
    "page_size_param",
    "poll",
    "post_batch",
    "processed_ids",
    "property_run",
    "read_one",
    "read_back",
    "rekey",
    "rekey_many",
    "remember_stored",
    "set_mark",
    "stored",
    "wait_operation",
]

T = TypeVar("T")
Order = dict[str, Any]


def get_pointer(doc: Any, pointer: str) -> Any:
    """The value at ``pointer`` (KeyError when nothing is there)."""
    return pointer_get(doc, pointer)


def set_mark(ctx: RuleContext, item: Order, text: str) -> None:
    """Write ``text`` into the item's mark member (content that is not part of the key)."""
    set_pointer(item, mark_member(ctx.spec), text)


def get_mark(ctx: RuleContext, item: Any) -> Any:
    return pointer_get(item, mark_member(ctx.spec), None)


def rekey(ctx: RuleContext, batch: Sequence[Order], *, keep: Collection[int] = ()) -> list[Order]:
    """A copy of ``batch`` whose item ``i`` gets the never-used id ``<fresh prefix>-<i>``.

    Items listed in ``keep`` (an injected fault at the id) and items whose id is missing or not a
    non-empty string are left as they are, so a fault is never "repaired".
    """
    return rekey_many(ctx, batch, keep=keep)[0]


def rekey_many(ctx: RuleContext, *batches: Sequence[Order], keep: Collection[int] = ()) -> list[list[Order]]:
    """``rekey`` for several aligned batches: item ``i`` of each gets the same new id."""
    prefix = ctx.fresh_prefix()
    path = id_member(ctx.contract)
    result = []
    for batch in batches:
        out = []
        for i, order in enumerate(batch):
            order = copy.deepcopy(order)
            value = pointer_get(order, path, None) if isinstance(order, dict) else None
            if i not in keep and isinstance(value, str) and value != "":
                set_pointer(order, path, f"{prefix}-{i}")
            out.append(order)
        result.append(out)
    return result


def fault_at_key(ctx: RuleContext, bad: InvalidBatch) -> set[int]:
    """Indexes whose id member carries ``bad``'s fault (to pass as ``keep`` to ``rekey``)."""
    target = bad.target
    if bad.index is None or target is None:
        return set()
    path = id_member(ctx.contract)
    return {bad.index} if target.pointer == path or target.pointer.startswith(path + "/") else set()


def invalid_body(ctx: RuleContext, bad: InvalidBatch) -> Any:
    """``bad``'s request body with fresh ids where it has a list of items (its fault kept)."""
    if bad.items is None:
        return bad.batch
    return ctx.contract.batch.wrap(rekey(ctx, bad.items, keep=fault_at_key(ctx, bad)))


def post_batch(
    ctx: RuleContext,
    items: Sequence[Any] | None = None,
    *,
    body: Any = MISSING,
    raw: bytes | None = None,
    auth: tuple[str, str] | None | bool = True,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Send a batch to the contract's batch operation: ``items`` (wrapped as the contract says), or a
    whole ``body``, or ``raw`` bytes. Ids of a synchronous success are remembered for cleanup."""
    operation = ctx.contract.batch_write
    if raw is None and body is MISSING:
        body = ctx.contract.batch.wrap(list(items or []))
    listed = ctx.contract.batch.items_of(body) if raw is None else None
    sent = [i for i in listed or [] if isinstance(i, dict)]
    token = object()
    with ctx._lock:
        ctx.in_flight[token] = sent  # until the answer names what was stored (an interrupt may come first)
    reply = ctx.api.request(
        operation.method,
        operation.url_path(),
        json_body=None if body is MISSING else body,
        content=raw,
        auth=auth,
        headers=headers,
    )
    note_created(ctx, reply)
    with ctx._lock:
        del ctx.in_flight[token]
        if not accepted(ctx, reply):
            ctx.refused.append(sent)  # swept when the rule fails: a broken server may store them anyway
        elif ctx.contract.processing.asynchronous:
            ctx.in_flight[reply.exchange] = sent  # stored later: known once the operation is read
    return reply


def note_created(ctx: RuleContext, reply: Reply) -> None:
    """Remember for cleanup the ids a synchronous success of the batch operation names."""
    if accepted(ctx, reply) and not ctx.contract.processing.asynchronous:
        _remember(ctx, _result_ids(ctx, reply)[0])


def accepted(ctx: RuleContext, reply: Reply) -> bool:
    """Whether ``reply`` is a documented success of the batch operation."""
    return 200 <= reply.status < 300 and str(reply.status) in ctx.contract.batch_write.node.get(
        "responses", {}
    )


def remember_stored(ctx: RuleContext, items: Sequence[Any]) -> None:
    """Remember for cleanup stored items a rule found (by the resource's id member)."""
    _remember(ctx, [_id_value(pointer_get(o, ctx.contract.resource.id, None)) for o in items])


def _remember(ctx: RuleContext, ids: Sequence[Any]) -> None:
    with ctx._lock:
        ctx.created.update(i for i in ids if i is not None)


def _id_value(value: Any) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value != ""):
        return value
    return None


def _result_ids(ctx: RuleContext, reply: Reply) -> tuple[list[Any], Any]:
    results = pointer_get(reply.data, ctx.contract.processing.results or "", None) if reply.is_json else None
    if not isinstance(results, list):
        return [], results
    found = [_id_value(pointer_get(r, ctx.contract.processing.result_id, None)) for r in results]
    return found, results


def wait_operation(ctx: RuleContext, reply: Reply) -> tuple[Reply, list[str]]:
    """Poll the asynchronous operation ``reply`` started until its status is terminal (bounded by the
    contract's ``complete_within_seconds``, capped by ``ctx.operation_timeout`` and the run deadline).

    A status outside the spec's ``statuses`` fails the rule at once (no waiting for the bound).
    Returns the last status answer and every status seen (the first from ``reply`` itself)."""
    operation = ctx.contract.processing.operation
    assert operation is not None
    op_id = _id_value(pointer_get(reply.data, operation.id, None)) if reply.is_json else None
    if op_id is None:
        raise ctx.fail(
            f"accepted batch answer has no operation id at {operation.id}: {reply.describe(200)}", reply
        )
    status_op = ctx.contract.operation("operation_status")
    path = status_op.url_path(**dict.fromkeys(status_op.path_parameters, op_id))
    seen = [str(pointer_get(reply.data, operation.status, ""))]
    bound = operation.complete_within_seconds
    if ctx.operation_timeout is not None:
        bound = min(bound, ctx.operation_timeout)

    def fetch() -> Reply:
        got = ctx.api.request("GET", path)
        if got.status == 200 and got.is_json:
            seen.append(str(pointer_get(got.data, operation.status, "")))
        return got

    def done(got: Reply) -> bool:
        return got.status == 200 and (seen[-1] in operation.terminal or seen[-1] not in operation.statuses)

    last = reply if seen[0] not in operation.statuses else poll(ctx, fetch, done, timeout=bound)
    strange = [s for s in seen if s not in operation.statuses]
    if strange:
        raise ctx.fail(
            f"operation {op_id} took status {strange[0]!r}, not one of {list(operation.statuses)} "
            "(x-contract.processing.operation.statuses)",
            last,
        )
    if last.status != 200:
        raise ctx.fail(f"GET {path} (the operation of an accepted batch) answered {last.describe(160)}", last)
    if seen[-1] not in operation.terminal:
        raise ctx.fail(
            f"operation {op_id} is still {seen[-1]!r} after {bound:g}s (terminal: "
            f"{', '.join(operation.terminal)}; x-contract.processing.operation.complete_within_seconds "
            f"is {operation.complete_within_seconds:g}"
            f"{'' if bound >= operation.complete_within_seconds else '; capped by the operation timeout'})",
            last,
        )
    return last, seen


def processed_ids(ctx: RuleContext, reply: Reply, count: int | None = None) -> list[Any]:
    """The stored ids of an accepted batch, one per item in request order (waiting for an asynchronous
    operation to end); fails the rule when the answer does not name a stored item for every item."""
    if not accepted(ctx, reply):
        raise ctx.fail(f"a valid batch was not accepted: {reply.describe(200)}", reply)
    operation = ctx.contract.processing.operation
    if operation is None:
        ids, results = _result_ids(ctx, reply)
        where = ctx.contract.processing.results or "the answer"
        if not isinstance(results, list) or any(i is None for i in ids):
            raise ctx.fail(
                f"{reply.status} answer does not carry an id for every item at {where}: "
                f"{reply.describe(200)}",
                reply,
            )
        _remember(ctx, ids)
    else:
        final, _ = wait_operation(ctx, reply)
        with ctx._lock:
            ctx.in_flight.pop(reply.exchange, None)
        status = str(pointer_get(final.data, operation.status, ""))
        resources = pointer_get(final.data, operation.resources, None)
        if not isinstance(resources, list):
            raise ctx.fail(f"the finished operation has no list at {operation.resources}", final)
        ids = [_id_value(pointer_get(r, ctx.contract.processing.result_id, None)) for r in resources]
        _remember(ctx, ids)
        if status not in operation.succeeded:
            raise ctx.fail(f"the operation of a valid batch ended {status!r}: {final.describe(240)}", final)
        if any(i is None for i in ids):
            raise ctx.fail(
                f"operation ended {status!r} but a resource names no stored item: {final.describe(240)}",
                final,
            )
        reply = final
    if count is not None and len(ids) != count:
        raise ctx.fail(f"{count} items sent, {len(ids)} results for them", reply)
    return ids


def read_one(ctx: RuleContext, pk: Any) -> Reply:
    operation = ctx.contract.operation("read_one")
    return ctx.api.request("GET", operation.url_path(**dict.fromkeys(operation.path_parameters, pk)))


def stored(ctx: RuleContext, reply: Reply) -> Any:
    """The stored item inside a read-one answer (None when there is none)."""
    return pointer_get(reply.data, ctx.contract.resource.item, None) if reply.is_json else None


def read_back(ctx: RuleContext, pk: Any, done: Callable[[Any], bool] | None = None) -> Reply:
    """Read item ``pk``, polling (bounded) until it answers 200 and ``done(stored item)`` holds."""
    return poll(
        ctx,
        lambda: read_one(ctx, pk),
        lambda r: r.status == 200 and (done is None or done(stored(ctx, r))),
    )


def page_size_param(ctx: RuleContext) -> str | None:
    """The list operation's page-size query parameter, when it has one of the usual names."""
    node = ctx.contract.operation("list").node
    names = set()
    for parameter in node.get("parameters", []):
        resolved = ctx.spec.deref(parameter)
        if isinstance(resolved, dict) and resolved.get("in") == "query":
            names.add(str(resolved.get("name")))
    return next((n for n in ("page_size", "limit", "per_page", "size") if n in names), None)


def list_items(
    ctx: RuleContext, params: dict[str, str], *, url: str | None = None
) -> tuple[Reply, list[Any]]:
    """One page of the list operation (or ``url``, a next link) and its items; fails on a non-200."""
    if not ctx.contract.has("list") or ctx.contract.listing is None:
        raise ctx.not_applicable("x-contract binds no list operation")
    size = page_size_param(ctx)
    query = {**params, **({size: "100"} if size and size not in params and url is None else {})}
    reply = ctx.api.request("GET", url or ctx.contract.operation("list").url_path(), params=query or None)
    found = pointer_get(reply.data, ctx.contract.listing.results, None) if reply.is_json else None
    if reply.status != 200 or not isinstance(found, list):
        raise ctx.fail(f"listing with {params} did not answer 200 with a list: {reply.describe(160)}", reply)
    return reply, found


def _same_key(ctx: RuleContext, a: Any, b: Any) -> bool:
    return [str(v) for v in ctx.contract.key.key_of(a)] == [str(v) for v in ctx.contract.key.key_of(b)]


def _plain(text: str) -> bool:
    return text != "" and "," not in text and text == text.strip()


def find_by_key(ctx: RuleContext, item: Order) -> tuple[Reply, list[Any]]:
    """Stored items with ``item``'s key (listed with the key filters, then re-checked here)."""
    listing = ctx.contract.listing
    if listing is None:
        raise ctx.not_applicable("x-contract has no list block to find items by key")
    members = set(ctx.contract.key.members)
    key = dict(zip(ctx.contract.key.members, ctx.contract.key.key_of(item), strict=True))
    # A value with a comma or surrounding blanks may be split or trimmed by the server (a list filter of
    # comma-separated values): left out of the query; the matches are re-checked by key below.
    params = {
        p: text
        for p, m in listing.filters.items()
        if m in members and key[m] is not None and _plain(text := str(key[m]))
    }
    reply, found = list_items(ctx, params)
    matches = [o for o in found if isinstance(o, dict) and _same_key(ctx, o, item)]
    remember_stored(ctx, matches)  # keys are this run's: whatever holds them is cleaned up
    return reply, matches


def after_processing(ctx: RuleContext, template: Order) -> None:
    """Barrier before checking that a rejected batch stored nothing ("accepted now, readable later").

    A checked-at-once "nothing stored" passes on a server that commits part of a rejected batch and shows
    it a moment later; so send one fresh valid copy of ``template``, wait until it is processed and reads
    back: whatever the server did before it is visible by then."""
    (probe,) = rekey(ctx, [template])
    reply = post_batch(ctx, [probe])
    if not accepted(ctx, reply):
        return
    try:
        ids = processed_ids(ctx, reply, 1)
    except AssertionError:
        return
    if ids and ctx.contract.has("read_one"):
        read_back(ctx, ids[0])


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
