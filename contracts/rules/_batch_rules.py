"""Batch rules: valid batches accepted and readable, the size limit, an empty list, atomicity, result
order and duplicate keys inside one batch."""

from __future__ import annotations

import copy
from typing import Any

from ..contract import Contract, pointer_get
from ..strategies import (
    InvalidBatch,
    build_batch,
    documented_error,
    expected_error,
    id_member,
    invalid_batches,
    mark_member,
    valid_batches,
    valid_orders,
)
from ._base import RuleContext, rule
from ._support import (
    accepted,
    after_processing,
    expect_error,
    fault_at_key,
    find_by_key,
    get_mark,
    post_batch,
    processed_ids,
    property_run,
    read_back,
    read_one,
    rekey,
    rekey_many,
    set_mark,
    stored,
)

__all__: list[str] = []

Order = dict[str, Any]


def _no_limit(contract: Contract) -> str | None:
    if contract.batch.max_items is None:
        return "x-contract.batch.max_items is absent: the API documents no batch-size limit"
    return None


def _not_atomic(contract: Contract) -> str | None:
    return None if contract.batch.atomic else "x-contract.batch.atomic is false"


@rule(
    "batch.accepts_valid",
    "Valid batches of min_items..max_items items are accepted with a documented success, every item gets "
    "a stored id (in the answer, or in the finished operation), and the items become readable.",
    "x-contract.batch (items, min_items, max_items), x-contract.processing; spec: the batch_write operation",
    order=10,
)
def accepts_valid(ctx: RuleContext) -> None:
    operation_id = ctx.contract.batch_write.operation_id

    def check(batch: list[Order]) -> None:
        batch = rekey(ctx, batch)
        reply = post_batch(ctx, batch)
        if not accepted(ctx, reply):
            raise ctx.fail(
                f"valid batch of {len(batch)} items: expected a success, got {reply.describe(200)}", reply
            )
        problems = ctx.validator.problems(operation_id, reply)
        if problems:
            raise ctx.fail(f"{reply.status} answer does not match the spec: {problems[0]}", reply)
        ids = processed_ids(ctx, reply, len(batch))
        if not ctx.contract.has("read_one"):
            return
        for i in sorted({0, len(batch) - 1}):
            got = read_back(ctx, ids[i])
            if got.status != 200:
                raise ctx.fail(
                    f"item [{i}] accepted as id {ids[i]!r} but reading it answers {got.describe(120)}", got
                )

    property_run(ctx, valid_batches(ctx.owned, spec=ctx.spec, max_size=_cap(ctx)), check)


def _cap(ctx: RuleContext) -> int | None:
    """Largest batch the property rules send when the contract has no limit (keep runs short)."""
    return None if ctx.contract.batch.max_items is not None else 20


@rule(
    "batch.limit",
    "A batch of exactly max_items items is accepted; max_items + 1 is rejected with the documented error "
    "and stores nothing.",
    "x-contract.batch.max_items, errors.documented.too_many",
    order=20,
    applies=_no_limit,
)
def batch_limit(ctx: RuleContext) -> None:
    contract = ctx.contract
    limit = contract.batch.max_items
    assert limit is not None

    def check(order: Order) -> None:
        full = rekey(ctx, build_batch(contract, [order], ctx.owned[:1], [f"x-{i}" for i in range(limit)]))
        reply = post_batch(ctx, full)
        if not accepted(ctx, reply):
            raise ctx.fail(
                f"a batch of exactly {limit} items: expected a success, got {reply.describe(200)}", reply
            )
        over = rekey(ctx, build_batch(contract, [order], ctx.owned[:1], [f"x-{i}" for i in range(limit + 1)]))
        reply = post_batch(ctx, over)
        expected = expected_error(
            contract,
            documented_error(contract, "too_many"),
            max=limit,
            min=contract.batch.min_items,
            count=len(over),
        )
        expect_error(ctx, reply, expected, what=f"a batch of {len(over)} items")
        after_processing(ctx, order)
        for item in (over[0], over[-1]):
            _, found = find_by_key(ctx, item)
            if found:
                raise ctx.fail(f"the rejected batch of {len(over)} items stored {found[0].get('id')!r}")

    property_run(ctx, valid_orders(ctx.owned, spec=ctx.spec), check, max_examples=1)


@rule(
    "batch.empty",
    "An empty list is refused with the documented error (a 4xx), never accepted.",
    "x-contract.batch.min_items; errors.documented (too_few / empty_batch)",
    order=25,
    applies=lambda c: (
        None if c.batch.min_items >= 1 else "x-contract.batch.min_items is 0: empty lists are allowed"
    ),
)
def batch_empty(ctx: RuleContext) -> None:
    contract = ctx.contract
    documented = documented_error(contract, "empty")
    expected = expected_error(
        contract, documented, min=contract.batch.min_items, max=contract.batch.max_items, count=0
    )
    reply = post_batch(ctx, [])
    if documented is None:
        if not 400 <= reply.status < 500:
            raise ctx.fail(f"an empty list: expected a 4xx, got {reply.describe(160)}", reply)
        return
    expect_error(ctx, reply, expected, what="an empty list", check_pointer=contract.errors.style == "pointer")


@rule(
    "batch.atomic",
    "A batch with one invalid item is rejected as a whole, with the failing item located: items it would "
    "create do not exist and items it would write read back exactly as before.",
    "x-contract.batch.atomic, errors.location",
    order=30,
    applies=_not_atomic,
)
def batch_atomic(ctx: RuleContext) -> None:
    def check(bad: InvalidBatch) -> None:
        valid, broken = rekey_many(ctx, bad.valid_batch, bad.items or [], keep=fault_at_key(ctx, bad))
        index = bad.index if bad.index is not None else 0
        before_idx = [i for i in range(len(valid)) if i != index and i % 2 == 0][:5]
        existing: dict[int, tuple[Any, Any]] = {}
        if before_idx:
            reply = post_batch(ctx, [valid[i] for i in before_idx])
            ids = processed_ids(ctx, reply, len(before_idx))
            for i, pk in zip(before_idx, ids, strict=False):
                got = read_back(ctx, pk)
                existing[i] = (pk, got.data)
                set_mark(ctx, broken[i], f"changed-{i}")
        reply = post_batch(ctx, broken)
        if reply.status < 400:
            raise ctx.fail(
                f"batch with an invalid item ({bad.description}) answered {reply.describe(160)}", reply
            )
        for expected in bad.expected_errors:
            expect_error(ctx, reply, expected, what=bad.description, check_text=False)
        new_idx = [i for i in range(len(valid)) if i != index and i not in existing][:5]
        if new_idx or existing:
            after_processing(ctx, valid[(new_idx or list(existing))[0]])
        for i in new_idx:
            _, found = find_by_key(ctx, valid[i])
            if found:
                raise ctx.fail(
                    f"rejected batch ({bad.description}) still stored item [{i}] as {found[0].get('id')!r}"
                )
        for i, (pk, before) in existing.items():
            after = read_one(ctx, pk)
            if after.data != before:
                raise ctx.fail(
                    f"rejected batch ({bad.description}) changed item [{i}] (id {pk!r}): its mark is now "
                    f"{get_mark(ctx, stored(ctx, after))!r}",
                    after,
                )

    property_run(ctx, invalid_batches(ctx.owned, spec=ctx.spec, max_size=20), check)


@rule(
    "batch.result_order",
    "The per-item results answer the request items in order: result [i] is request item [i] (same id member; "
    "the known stored id for an item that already exists).",
    "x-contract.batch.result_order: request",
    order=40,
    applies=lambda c: (
        None if c.batch.result_order == "request" else "x-contract.batch.result_order is unordered"
    ),
)
def result_order(ctx: RuleContext) -> None:
    member = id_member(ctx.contract)

    def check(batch: list[Order]) -> None:
        batch = rekey(ctx, batch)
        known_idx = list(range(0, len(batch), 3))
        known = dict(
            zip(known_idx, processed_ids(ctx, post_batch(ctx, [batch[i] for i in known_idx])), strict=False)
        )
        for i, order in enumerate(batch):
            set_mark(ctx, order, f"n-{i}")
        reply = post_batch(ctx, batch)
        ids = processed_ids(ctx, reply, len(batch))
        results = _results(ctx, reply)
        for i, order in enumerate(batch):
            result = results[i] if i < len(results) else None
            for pointer in (member, mark_member(ctx.spec)):
                shown, want = pointer_get(result, pointer, None), pointer_get(order, pointer, None)
                if shown is not None and shown != want:
                    raise ctx.fail(
                        f"result [{i}] has {pointer} {shown!r}, request item {i} has {want!r}", reply
                    )
            if i in known and ids[i] != known[i]:
                raise ctx.fail(
                    f"result [{i}] has id {ids[i]!r}, but request item {i} is stored as {known[i]!r}", reply
                )
        for i in sorted({0, len(batch) // 2, len(batch) - 1}):
            got = read_back(ctx, ids[i])
            held, sent = pointer_get(stored(ctx, got), member, None), pointer_get(batch[i], member, None)
            if held != sent:
                raise ctx.fail(
                    f"result [{i}] names {ids[i]!r}, which holds {held!r}, not request item {i} ({sent!r})",
                    got,
                )

    property_run(ctx, valid_batches(ctx.owned, spec=ctx.spec, min_size=2, max_size=30), check)


def _results(ctx: RuleContext, reply: Any) -> list[Any]:
    results = pointer_get(reply.data, ctx.contract.processing.results or "", None)
    return results if isinstance(results, list) else []


@rule(
    "batch.duplicate_keys",
    "Two items of one batch with the same key are refused with the documented error at the later item, "
    "naming the first index; nothing of the batch is stored.",
    "x-contract.batch.duplicate_keys: reject, errors.documented.duplicate_key",
    order=50,
    applies=lambda c: (
        None
        if c.batch.duplicate_keys == "reject"
        else f"x-contract.batch.duplicate_keys is {c.batch.duplicate_keys!r}, not 'reject'"
    ),
)
def duplicate_keys(ctx: RuleContext) -> None:
    contract = ctx.contract
    documented = documented_error(contract, "duplicate_key")

    def check(batch: list[Order]) -> None:
        batch = rekey(ctx, batch)
        first, later = 0, len(batch)
        twin = copy.deepcopy(batch[first])
        set_mark(ctx, twin, "twin")
        batch.append(twin)
        key = list(contract.key.key_of(batch[first]))
        expected = expected_error(contract, documented, index=later, key=key, first=first)
        reply = post_batch(ctx, batch)
        expect_error(ctx, reply, expected, what=f"items [{first}] and [{later}] share one key")
        after_processing(ctx, batch[first])
        _, found = find_by_key(ctx, batch[first])
        if found:
            raise ctx.fail(f"the refused batch stored {found[0].get('id')!r} for the duplicated key")

    limit = max(1, (contract.batch.max_items or 6) - 1)
    property_run(ctx, valid_batches(ctx.owned, spec=ctx.spec, max_size=min(limit, 5)), check)
