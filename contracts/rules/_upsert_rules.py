"""Upsert rules: upsert key, explicit ids, integration scope and ownership, immutable order_id, id types."""

from __future__ import annotations

import copy
from typing import Any

from ..strategies import ExpectedError, set_pointer, valid_orders
from ._base import RuleContext, rule
from ._support import (
    after_processing,
    created_ids,
    expect_error,
    find_by_key,
    get_pointer,
    poll,
    post_batch,
    property_run,
    rekey,
)

__all__: list[str] = []

Order = dict[str, Any]


def _create(ctx: RuleContext, order: Order) -> int:
    reply = post_batch(ctx, [order])
    if reply.status != 201:
        raise ctx.fail(f"creating a valid order answered {reply.describe(160)}", reply)
    return created_ids(ctx, reply)[0]


def _read(ctx: RuleContext, pk: int, want: Any = None, field: str = "order_number") -> Any:
    """GET one order, polling until ``field`` equals ``want`` (when given) or the poll bound ends."""

    def done(reply: Any) -> bool:
        if reply.status != 200 or not isinstance(reply.data, dict):
            return False
        return want is None or reply.data.get("data", {}).get(field) == want

    return poll(ctx, lambda: ctx.api.request("GET", f"/orders/{pk}"), done)


def _orders(ctx: RuleContext) -> Any:
    return valid_orders(ctx.integration_ids, spec=ctx.spec)


@rule(
    "upsert.key",
    "Re-sending an order with the same (order_id, integration id) updates that order: same id, the new "
    "values read back, and one order per key.",
    "seed 000/001: 'matched by the combination of order_id + integration.id'; x-contract.upsert.key",
)
def upsert_key(ctx: RuleContext) -> None:
    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        first = _create(ctx, order)
        changed = copy.deepcopy(order)
        changed["order_number"] = f"{order['order_number']}-v2"
        reply = post_batch(ctx, [changed])
        if reply.status != 201:
            raise ctx.fail(f"re-sending an existing key answered {reply.describe(160)}", reply)
        second = created_ids(ctx, reply)[0]
        if second != first:
            raise ctx.fail(
                f"the same upsert key answered a new id {second} (first was {first}): no upsert", reply
            )
        got = _read(ctx, first, changed["order_number"])
        if got.status != 200 or got.data.get("data", {}).get("order_number") != changed["order_number"]:
            raise ctx.fail(f"after the update, GET /orders/{first} shows {got.describe(160)}", got)
        key = (
            str(get_pointer(order, ctx.contract.order_id_path)),
            int(get_pointer(order, ctx.contract.integration_path)),
        )
        listing, found = find_by_key(ctx, *key)
        if len(found) != 1:
            raise ctx.fail(f"{len(found)} orders listed for one upsert key {key}", listing)

    property_run(ctx, _orders(ctx), check)


@rule(
    "upsert.by_id",
    "An item carrying the Sendcloud id (as a string) updates that very order.",
    "seed 001: 'You can include the Sendcloud id field to explicitly update a specific order'; "
    "x-contract.upsert.explicit_id",
)
def upsert_by_id(ctx: RuleContext) -> None:
    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        pk = _create(ctx, order)
        changed = copy.deepcopy(order)
        set_pointer(changed, ctx.contract.explicit_id, str(pk))
        changed["order_number"] = f"{order['order_number']}-by-id"
        reply = post_batch(ctx, [changed])
        if reply.status != 201:
            raise ctx.fail(f"updating order {pk} by its id answered {reply.describe(160)}", reply)
        got_id = created_ids(ctx, reply)[0]
        if got_id != pk:
            raise ctx.fail(f"updating by id {pk} answered id {got_id}", reply)
        got = _read(ctx, pk, changed["order_number"])
        if got.data.get("data", {}).get("order_number") != changed["order_number"]:
            raise ctx.fail(f"after the update by id, GET /orders/{pk} shows {got.describe(160)}", got)

    property_run(ctx, _orders(ctx), check)


@rule(
    "upsert.integration_scope",
    "The same order_id under two integrations is two orders; updating one leaves the other alone.",
    "seed 001: 'Orders from different integrations can be included in the same batch'; x-contract.upsert.key",
)
def integration_scope(ctx: RuleContext) -> None:
    if len(set(ctx.integration_ids)) < 2:
        raise ctx.skip("needs two integration ids of the account (give --integration-id twice)")
    first_int, second_int = sorted(set(ctx.integration_ids))[:2]

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        set_pointer(order, ctx.contract.integration_path, first_int)
        pk_a = _create(ctx, order)
        other = copy.deepcopy(order)
        set_pointer(other, ctx.contract.integration_path, second_int)
        other["order_number"] = f"{order['order_number']}-other"
        pk_b = _create(ctx, other)
        if pk_a == pk_b:
            raise ctx.fail(
                f"order_id {order['order_id']!r} in integrations {first_int} and {second_int} "
                f"answered the same id {pk_a}: the integration is not part of the upsert key"
            )
        got = _read(ctx, pk_a)
        data = got.data.get("data", {}) if isinstance(got.data, dict) else {}
        if got.status != 200 or data.get("order_number") != order["order_number"]:
            raise ctx.fail(
                f"writing integration {second_int} changed the order of integration {first_int}: "
                f"{got.describe(160)}",
                got,
            )

    property_run(ctx, _orders(ctx), check)


@rule(
    "integration.ownership",
    "An order for an integration of another account is rejected with the documented error at its "
    "integration id, and nothing of the batch is stored.",
    "seed 001: 'You can only create/update orders for integrations that belong to your account'; "
    "x-contract.upsert.scope, errors.unknown_integration",
)
def ownership(ctx: RuleContext) -> None:
    foreign = ctx.foreign_integration_id
    if foreign is None:
        raise ctx.skip("needs an integration id of another account (--foreign-integration-id)")
    spec = ctx.contract.errors.get("unknown_integration", {})
    path = spec.get("pointer_path", ctx.contract.integration_path)

    def check(pair: tuple[Order, Order]) -> None:
        own, theirs = rekey(ctx, list(pair))
        set_pointer(theirs, ctx.contract.integration_path, foreign)
        reply = post_batch(ctx, [own, theirs])
        detail = spec.get("detail")
        expected = ExpectedError(
            int(spec.get("status", 400)),
            ctx.contract.pointer(1, path),
            spec.get("code"),
            detail.format(id=foreign) if detail else None,
        )
        expect_error(ctx, reply, expected, what=f"an order for foreign integration {foreign}")
        after_processing(ctx, own)
        key = (str(own["order_id"]), int(get_pointer(own, ctx.contract.integration_path)))
        _, found = find_by_key(ctx, *key)
        if found:
            raise ctx.fail(f"the rejected batch stored its valid order {key}")

    property_run(ctx, _orders(ctx).flatmap(lambda o: _orders(ctx).map(lambda p: (o, p))), check)


@rule(
    "order_id.immutable",
    "Targeting an order by id with a different order_id is rejected with the documented error, and the "
    "order keeps its order_id.",
    "seed 001: 'certain fields like order_id cannot be changed'; x-contract.upsert.immutable, "
    "errors.order_id_changed",
)
def order_id_immutable(ctx: RuleContext) -> None:
    spec = ctx.contract.errors.get("order_id_changed", {})
    path = spec.get("pointer_path", ctx.contract.order_id_path)

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        pk = _create(ctx, order)
        original = str(get_pointer(order, ctx.contract.order_id_path))
        moved = copy.deepcopy(order)
        set_pointer(moved, ctx.contract.explicit_id, str(pk))
        renamed = f"{original}-renamed"
        set_pointer(moved, ctx.contract.order_id_path, renamed)
        reply = post_batch(ctx, [moved])
        expect_error(
            ctx,
            reply,
            ExpectedError(int(spec.get("status", 400)), ctx.contract.pointer(0, path), spec.get("code")),
            what=f"changing order_id of order {pk}",
        )
        detail = spec.get("detail")
        if detail:
            allowed = {detail.format(order_id=original), detail.format(order_id=renamed)}
            details = {e.get("detail") for e in reply.data.get("errors", []) if isinstance(e, dict)}
            if not allowed & details:
                raise ctx.fail(
                    f"no error has the documented detail {sorted(allowed)[0]!r}: {reply.describe(200)}", reply
                )
        got = _read(ctx, pk)
        if got.data.get("data", {}).get("order_id") != original:
            raise ctx.fail(
                f"order {pk} order_id changed although the update was rejected: {got.describe(160)}", got
            )

    property_run(ctx, _orders(ctx), check)


@rule(
    "id.types",
    "Ids are integers in the 201 reply and strings in requests: an integer id in a request item is "
    "rejected at that item's id.",
    "seed 001: 'When returned in responses, id is an integer, but when sending it in requests, it must "
    "be a string'; x-contract.ids",
)
def id_types(ctx: RuleContext) -> None:
    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        reply = post_batch(ctx, [order])
        if reply.status != 201:
            raise ctx.fail(f"a valid order answered {reply.describe(160)}", reply)
        data = reply.data.get("data") if isinstance(reply.data, dict) else None
        raw_id = data[0].get("id") if isinstance(data, list) and data and isinstance(data[0], dict) else None
        if ctx.contract.response_id_type == "integer" and (
            not isinstance(raw_id, int) or isinstance(raw_id, bool)
        ):
            raise ctx.fail(
                f"201 data[0].id is {raw_id!r} ({type(raw_id).__name__}), expected an integer", reply
            )
        pk = created_ids(ctx, reply)[0]
        if ctx.contract.request_id_type == "string":
            wrong = copy.deepcopy(order)
            set_pointer(wrong, ctx.contract.explicit_id, pk)
            bad = post_batch(ctx, [wrong])
            expect_error(
                ctx,
                bad,
                ExpectedError(400, ctx.contract.pointer(0, ctx.contract.explicit_id)),
                what=f"an integer id ({pk}) in a request item",
            )

    property_run(ctx, _orders(ctx), check)
