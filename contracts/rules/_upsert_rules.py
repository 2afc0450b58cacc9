"""Key rules: what a known key does (update or reuse), explicit ids, the key's other members, ownership,
immutable members and id types."""

from __future__ import annotations

import copy
from typing import Any

from ..contract import Contract, pointer_get
from ..strategies import (
    documented_error,
    expected_error,
    id_member,
    other_key_members,
    owned_member,
    set_pointer,
    valid_orders,
)
from ._base import RuleContext, rule
from ._support import (
    after_processing,
    expect_error,
    find_by_key,
    get_mark,
    post_batch,
    processed_ids,
    property_run,
    read_back,
    rekey,
    set_mark,
    stored,
)
from ._unowned import unowned_value

__all__: list[str] = []

Order = dict[str, Any]


def _create(ctx: RuleContext, order: Order) -> Any:
    return processed_ids(ctx, post_batch(ctx, [order]), 1)[0]


def _orders(ctx: RuleContext) -> Any:
    return valid_orders(ctx.owned, spec=ctx.spec)


def _second_member(contract: Contract) -> str | None:
    """The key member besides the item's own id that the rule ``key.scope`` varies."""
    return next(iter(other_key_members(contract)), None)


@rule(
    "upsert.key",
    "Re-sending an item with a known key writes to that very item (same id, one item per key): with "
    "existing: update the new values read back; with existing: reuse the stored item stays unchanged.",
    "x-contract.key.members, x-contract.key.existing",
    order=60,
)
def upsert_key(ctx: RuleContext) -> None:
    reuse = ctx.contract.key.existing == "reuse"

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        set_mark(ctx, order, "v1")
        first = _create(ctx, order)
        before = read_back(ctx, first)
        changed = copy.deepcopy(order)
        set_mark(ctx, changed, "v2")
        second = _create(ctx, changed)
        if second != first:
            raise ctx.fail(f"the same key answered a new id {second!r} (first was {first!r}): no upsert")
        if reuse:
            after_processing(ctx, order)
            got = read_back(ctx, first)
            if got.data != before.data:
                raise ctx.fail(
                    f"existing: reuse, but re-sending key {list(ctx.contract.key.key_of(order))} changed "
                    f"the stored item {first!r}: mark {get_mark(ctx, stored(ctx, before))!r} -> "
                    f"{get_mark(ctx, stored(ctx, got))!r}",
                    got,
                )
        else:
            got = read_back(ctx, first, lambda item: get_mark(ctx, item) == "v2")
            if get_mark(ctx, stored(ctx, got)) != "v2":
                raise ctx.fail(f"after the update, reading {first!r} shows {got.describe(160)}", got)
        listing, found = find_by_key(ctx, order)
        if len(found) != 1:
            raise ctx.fail(
                f"{len(found)} items listed for one key {list(ctx.contract.key.key_of(order))}", listing
            )

    property_run(ctx, _orders(ctx), check)


@rule(
    "upsert.by_id",
    "An item carrying the explicit id of a stored item (in the request id type) updates that very item.",
    "x-contract.key.explicit_id, x-contract.key.id_types.request",
    order=70,
    applies=lambda c: None if c.key.explicit_id else "x-contract.key.explicit_id is absent",
)
def upsert_by_id(ctx: RuleContext) -> None:
    explicit = ctx.contract.key.explicit_id
    assert explicit is not None

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        pk = _create(ctx, order)
        changed = copy.deepcopy(order)
        set_pointer(changed, explicit, _request_id(ctx.contract, pk))
        set_mark(ctx, changed, "by-id")
        got_id = _create(ctx, changed)
        if str(got_id) != str(pk):
            raise ctx.fail(f"updating by id {pk!r} answered id {got_id!r}")
        got = read_back(ctx, pk, lambda item: get_mark(ctx, item) == "by-id")
        if get_mark(ctx, stored(ctx, got)) != "by-id":
            raise ctx.fail(f"after the update by id, reading {pk!r} shows {got.describe(160)}", got)

    property_run(ctx, _orders(ctx), check)


def _request_id(contract: Contract, pk: Any) -> Any:
    return str(pk) if contract.key.request_id_type == "string" else int(pk)


def _scope_applies(contract: Contract) -> str | None:
    return None if _second_member(contract) else "x-contract.key.members has a single member"


@rule(
    "key.scope",
    "Every key member counts: the same id with another value of the key's second member is another item, "
    "and writing it leaves the first alone.",
    "x-contract.key.members (and defaults)",
    order=80,
    applies=_scope_applies,
)
def key_scope(ctx: RuleContext) -> None:
    member = _second_member(ctx.contract)
    assert member is not None
    owned = member == owned_member(ctx.contract)
    if owned and len(set(ctx.owned)) < 2:
        raise ctx.skip(f"needs two owned values of {member} (give --owned twice)")

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        first_value, second_value = _two_values(ctx, member, order, owned)
        set_pointer(order, member, first_value)
        set_mark(ctx, order, "first")
        pk_a = _create(ctx, order)
        other = copy.deepcopy(order)
        set_pointer(other, member, second_value)
        set_mark(ctx, other, "other")
        pk_b = _create(ctx, other)
        if pk_a == pk_b:
            raise ctx.fail(
                f"{id_member(ctx.contract)} {pointer_get(order, id_member(ctx.contract))!r} with {member} "
                f"{first_value!r} and {second_value!r} answered the same id {pk_a!r}: "
                f"{member} is not part of the key"
            )
        got = read_back(ctx, pk_a)
        if get_mark(ctx, stored(ctx, got)) != "first":
            raise ctx.fail(
                f"writing {member}={second_value!r} changed the item with {first_value!r}: "
                f"{got.describe(160)}",
                got,
            )

    property_run(ctx, _orders(ctx), check)


def _two_values(ctx: RuleContext, member: str, order: Order, owned: bool) -> tuple[Any, Any]:
    if owned:
        first, second = sorted(set(ctx.owned), key=str)[:2]
        return first, second
    current = pointer_get(order, member, None)
    if current is None:
        current = ctx.contract.key.defaults.get(member, "A")
    return current, f"{current}-other" if isinstance(current, str) else current + 1


def _ownership_applies(contract: Contract) -> str | None:
    return None if contract.ownership else "x-contract has no ownership member"


@rule(
    "ownership.enforced",
    "An item naming a value of the ownership member the caller does not own is rejected with the documented "
    "error at that item, and nothing of the batch is stored.",
    "x-contract.ownership, key.scope",
    order=140,
    applies=_ownership_applies,
)
def ownership(ctx: RuleContext) -> None:
    rules = ctx.contract.ownership
    assert rules is not None
    if ctx.foreign:
        foreign, origin = ctx.foreign[0], "owned by another account (--foreign)"
    else:
        foreign = unowned_value(ctx.spec.member_schema(rules.member), ctx.owned, ctx.seed)
        origin = "no account can own, derived from its schema; --foreign VALUE checks one another owns"
        if foreign is None:
            raise ctx.skip(f"its schema leaves no value of {rules.member} to derive: give --foreign VALUE")

    def check(pair: tuple[Order, Order]) -> None:
        own, theirs = rekey(ctx, list(pair))
        set_pointer(theirs, rules.member, foreign)
        reply = post_batch(ctx, [own, theirs])
        expected = expected_error(ctx.contract, rules.error, index=1, value=foreign)
        expect_error(ctx, reply, expected, what=f"an item with {rules.member} {foreign!r} ({origin})")
        after_processing(ctx, own)
        _, found = find_by_key(ctx, own)
        if found:
            raise ctx.fail(f"the rejected batch stored its valid item {list(ctx.contract.key.key_of(own))}")

    property_run(ctx, _orders(ctx).flatmap(lambda o: _orders(ctx).map(lambda p: (o, p))), check)


def _immutable_applies(contract: Contract) -> str | None:
    if not contract.key.explicit_id or not contract.key.immutable:
        return "x-contract.key has no explicit_id with immutable members"
    return None


@rule(
    "order_id.immutable",
    "Targeting a stored item by explicit id with a different immutable member is rejected with the "
    "documented error, and the item keeps its value.",
    "x-contract.key.immutable, errors.documented.immutable_changed",
    order=150,
    applies=_immutable_applies,
)
def order_id_immutable(ctx: RuleContext) -> None:
    contract = ctx.contract
    explicit, path = contract.key.explicit_id, contract.key.immutable[0]
    assert explicit is not None
    documented = documented_error(contract, "immutable")

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        pk = _create(ctx, order)
        original = pointer_get(order, path)
        moved = copy.deepcopy(order)
        set_pointer(moved, explicit, _request_id(contract, pk))
        renamed = f"{original}-renamed"
        set_pointer(moved, path, renamed)
        reply = post_batch(ctx, [moved])
        expected = expected_error(contract, documented, index=0)
        expect_error(ctx, reply, expected, what=f"changing {path} of item {pk!r}")
        if documented is not None:
            allowed = {
                documented.render(stored=original, value=renamed),
                documented.render(stored=renamed, value=original),
            }
            details = {
                pointer_get(e, contract.errors.detail, None) for e in contract.errors.errors_of(reply.data)
            }
            if not allowed & details:
                raise ctx.fail(
                    f"no error has the documented detail {sorted(allowed)[0]!r}: {reply.describe(200)}", reply
                )
        got = read_back(ctx, pk)
        if pointer_get(stored(ctx, got), path, None) != original:
            raise ctx.fail(
                f"item {pk!r} {path} changed although the update was rejected: {got.describe(160)}", got
            )

    property_run(ctx, _orders(ctx), check)


@rule(
    "id.types",
    "Stored ids have the response id type in answers; an explicit id of the wrong type in a request item "
    "is rejected at that item's id.",
    "x-contract.key.id_types",
    order=110,
)
def id_types(ctx: RuleContext) -> None:
    contract = ctx.contract
    wanted = int if contract.key.response_id_type == "integer" else str

    def check(order: Order) -> None:
        (order,) = rekey(ctx, [order])
        pk = _create(ctx, order)
        if not isinstance(pk, wanted) or isinstance(pk, bool):
            raise ctx.fail(
                f"the stored id is {pk!r} ({type(pk).__name__}), expected {contract.key.response_id_type}"
            )
        if contract.key.explicit_id and contract.key.request_id_type == "string":
            wrong = copy.deepcopy(order)
            set_pointer(wrong, contract.key.explicit_id, int(pk) if str(pk).isdigit() else 12345)
            bad = post_batch(ctx, [wrong])
            path = tuple(contract.key.explicit_id.split("/")[1:])
            expected = expected_error(contract, None, index=0, path=path)
            expect_error(ctx, bad, expected, what=f"an integer id ({pk!r}) in a request item")

    property_run(ctx, _orders(ctx), check)
