"""Batch rules: valid batches accepted, the size limit, atomicity, and result order."""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

from ..strategies import (
    ExpectedError,
    InvalidBatch,
    build_batch,
    invalid_batches,
    set_pointer,
    valid_batches,
    valid_orders,
)
from ._base import RuleContext, rule
from ._support import (
    after_processing,
    created_ids,
    expect_error,
    fault_at_key,
    find_by_key,
    get_pointer,
    poll,
    post_batch,
    property_run,
    rekey,
    rekey_many,
)

__all__: list[str] = []

Order = dict[str, Any]


def _key(ctx: RuleContext, order: Order) -> tuple[str, int]:
    return str(get_pointer(order, ctx.contract.order_id_path)), int(
        get_pointer(order, ctx.contract.integration_path)
    )


def _get(ctx: RuleContext, pk: int) -> Any:
    return ctx.api.request("GET", f"/orders/{pk}")


@rule(
    "batch.accepts_valid",
    "Valid batches of 1..max_items orders over the given integrations answer 201 with one result per "
    "order, matching the spec, and the orders become readable.",
    "seed 001: 'Process multiple orders in a single request (up to 100 orders maximum)'; "
    "spec: upsertOrders 201 OrderUpsertResponse; x-contract.batch",
)
def accepts_valid(ctx: RuleContext) -> None:
    def check(batch: list[Order]) -> None:
        batch = rekey(ctx, batch)
        reply = post_batch(ctx, batch)
        if reply.status != 201:
            raise ctx.fail(
                f"valid batch of {len(batch)} orders: expected 201, got {reply.describe(200)}", reply
            )
        problems = ctx.validator.problems("upsertOrders", reply)
        if problems:
            raise ctx.fail(f"201 reply does not match the spec: {problems[0]}", reply)
        ids = created_ids(ctx, reply)
        if len(ids) != len(batch):
            raise ctx.fail(f"{len(batch)} orders sent, {len(ids)} results in the 201 reply", reply)
        for i in sorted({0, len(batch) - 1}):
            got = poll(ctx, partial(_get, ctx, ids[i]), lambda r: r.status == 200)
            if got.status != 200:
                raise ctx.fail(f"order [{i}] accepted as id {ids[i]} but GET answers {got.describe(120)}")

    property_run(ctx, valid_batches(ctx.integration_ids, spec=ctx.spec), check)


@rule(
    "batch.limit",
    "A batch of exactly max_items orders is accepted; max_items + 1 is rejected with the documented error "
    "and stores nothing; an empty batch is rejected.",
    "seed 001: 'Maximum batch size: 100 orders per request'; x-contract.batch.max_items, errors.too_many",
)
def batch_limit(ctx: RuleContext) -> None:
    contract = ctx.contract
    integration = ctx.integration_ids[0]

    def check(order: Order) -> None:
        full = rekey(
            ctx, build_batch(contract, [order], [integration], [f"x-{i}" for i in range(contract.max_items)])
        )
        reply = post_batch(ctx, full)
        if reply.status != 201:
            raise ctx.fail(
                f"a batch of exactly {contract.max_items} orders: expected 201, got {reply.describe(200)}",
                reply,
            )
        over = rekey(
            ctx,
            build_batch(contract, [order], [integration], [f"x-{i}" for i in range(contract.max_items + 1)]),
        )
        reply = post_batch(ctx, over)
        too_many = contract.errors.get("too_many", {})
        detail = too_many.get("detail")
        expected = ExpectedError(
            int(too_many.get("status", 400)),
            too_many.get("pointer", contract.whole_batch_pointer),
            too_many.get("code"),
            detail.format(max=contract.max_items, count=len(over)) if detail else None,
        )
        expect_error(ctx, reply, expected, what=f"a batch of {len(over)} orders")
        after_processing(ctx, order)
        for order_over in (over[0], over[-1]):
            _, found = find_by_key(ctx, *_key(ctx, order_over))
            if found:
                raise ctx.fail(f"the rejected batch of {len(over)} stored order {found[0].get('id')}")
        empty = post_batch(ctx, [])
        if contract.min_items > 0 and empty.status != 400:
            raise ctx.fail(f"an empty batch: expected 400, got {empty.describe(160)}", empty)

    property_run(ctx, valid_orders([integration], spec=ctx.spec), check, max_examples=1)


@rule(
    "batch.atomic",
    "A batch with one invalid order is rejected as a whole: orders it would create do not exist and "
    "orders it would update read back exactly as before.",
    "seed 001: 'All-or-nothing transaction ... zero orders are created or updated'; x-contract.batch.atomic",
)
def batch_atomic(ctx: RuleContext) -> None:
    if not ctx.contract.atomic:
        raise ctx.skip("x-contract.batch.atomic is false")

    def check(bad: InvalidBatch) -> None:
        valid, broken = rekey_many(ctx, bad.valid_batch, bad.batch, keep=fault_at_key(ctx, bad))
        index = bad.index if bad.index is not None else 0
        before_idx = [i for i in range(len(valid)) if i != index and i % 2 == 0][:5]
        existing: dict[int, Any] = {}
        if before_idx:
            reply = post_batch(ctx, [valid[i] for i in before_idx])
            if reply.status != 201:
                raise ctx.fail(f"setup: a valid batch answered {reply.describe(160)}", reply)
            ids = created_ids(ctx, reply)
            for i, pk in zip(before_idx, ids, strict=False):
                got = poll(ctx, partial(_get, ctx, pk), lambda r: r.status == 200)
                existing[i] = got.data
                set_pointer(broken[i], "/order_number", f"changed-{i}")
        reply = post_batch(ctx, broken)
        if reply.status == 201 or reply.status < 400:
            raise ctx.fail(
                f"batch with an invalid order ({bad.description}) answered {reply.describe(160)}", reply
            )
        new_idx = [i for i in range(len(valid)) if i != index and i not in existing][:5]
        if new_idx or existing:
            after_processing(ctx, valid[(new_idx or list(existing))[0]])
        for i in new_idx:
            _, found = find_by_key(ctx, *_key(ctx, valid[i]))
            if found:
                raise ctx.fail(
                    f"rejected batch ({bad.description}) still stored order [{i}] as id {found[0].get('id')}"
                )
        for i, before in existing.items():
            if not isinstance(before, dict) or "data" not in before:
                continue
            pk = int(before["data"]["id"])
            after = _get(ctx, pk)
            if after.data != before:
                raise ctx.fail(
                    f"rejected batch ({bad.description}) changed order [{i}] (id {pk}): "
                    f"order_number is now {_order_number(after.data)!r}",
                    after,
                )

    strategy = invalid_batches(ctx.integration_ids, spec=ctx.spec, max_size=20)
    property_run(ctx, strategy, check)


def _order_number(data: Any) -> Any:
    return data.get("data", {}).get("order_number") if isinstance(data, dict) else None


@rule(
    "batch.result_order",
    "The 201 data array answers the request items in order: data[i] is request item i (same order_id "
    "and order_number; the known id for an update).",
    "x-contract.batch.result_order: request; seed 001: source.pointer '[1] for the second order'",
)
def result_order(ctx: RuleContext) -> None:
    def check(batch: list[Order]) -> None:
        batch = rekey(ctx, batch)
        known_idx = list(range(0, len(batch), 3))
        reply = post_batch(ctx, [batch[i] for i in known_idx])
        if reply.status != 201:
            raise ctx.fail(f"setup: a valid batch answered {reply.describe(160)}", reply)
        known = dict(zip(known_idx, created_ids(ctx, reply), strict=False))
        for i, order in enumerate(batch):
            set_pointer(order, "/order_number", f"n-{i}")
        reply = post_batch(ctx, batch)
        if reply.status != 201:
            raise ctx.fail(f"valid batch answered {reply.describe(160)}", reply)
        ids = created_ids(ctx, reply)
        data = reply.data["data"]
        for i, (order, result) in enumerate(zip(batch, data, strict=False)):
            want = get_pointer(order, ctx.contract.order_id_path)
            if result.get("order_id") != want or result.get("order_number") != order["order_number"]:
                raise ctx.fail(
                    f"data[{i}] is {result.get('order_id')!r}/{result.get('order_number')!r}, "
                    f"request item {i} is {want!r}/{order['order_number']!r}",
                    reply,
                )
            if i in known and ids[i] != known[i]:
                raise ctx.fail(
                    f"data[{i}].id is {ids[i]}, but request item {i} updates order {known[i]}", reply
                )

    property_run(ctx, valid_batches(ctx.integration_ids, spec=ctx.spec, min_size=2, max_size=30), check)


@rule(
    "batch.duplicate_keys",
    "Two items of one batch with the same upsert key are refused with the documented error at the later "
    "item's order_id, naming the first index; nothing of the batch is stored.",
    "x-contract.batch.duplicate_keys: reject, errors.duplicate_key (our decision, spec example DuplicateKey)",
)
def duplicate_keys(ctx: RuleContext) -> None:
    contract = ctx.contract
    if contract.duplicate_keys != "reject":
        raise ctx.skip(f"x-contract.batch.duplicate_keys is {contract.duplicate_keys!r}, not 'reject'")
    spec = contract.errors.get("duplicate_key", {})

    def check(batch: list[Order]) -> None:
        batch = rekey(ctx, batch)
        first, later = 0, len(batch)
        twin = copy.deepcopy(batch[first])
        twin["order_number"] = f"{batch[first]['order_number']}-twin"
        batch.append(twin)
        order_id, integration = _key(ctx, batch[first])
        detail = spec.get("detail")
        expected = ExpectedError(
            int(spec.get("status", 400)),
            contract.pointer(later, spec.get("pointer_path", contract.order_id_path)),
            spec.get("code"),
            detail.format(order_id=order_id, integration_id=integration, first=first) if detail else None,
        )
        reply = post_batch(ctx, batch)
        expect_error(ctx, reply, expected, what=f"items [{first}] and [{later}] share one upsert key")
        after_processing(ctx, batch[first])
        _, found = find_by_key(ctx, order_id, integration)
        if found:
            raise ctx.fail(f"the refused batch stored order {found[0].get('id')} for the duplicated key")

    limit = max(1, contract.max_items - 1)
    property_run(ctx, valid_batches(ctx.integration_ids, spec=ctx.spec, max_size=min(limit, 5)), check)
