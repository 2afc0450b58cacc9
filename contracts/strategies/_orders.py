"""Valid items and batches derived from the spec's batch item schema and its ``Contract``.

``owned`` values are what the caller owns at ``contract.ownership.member`` (e.g. the stores or
warehouses of an account); a contract without ownership needs none. Batches are lists of items;
``contract.batch.wrap`` makes the request body.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ..contract import Contract, pointer_set, split_pointer
from ._schema import normalize, schema_types
from ._spec import SpecDocument, load_spec
from ._values import value_strategy

__all__ = [
    "UNBOUNDED_BATCH",
    "batch_sizes",
    "build_batch",
    "id_member",
    "mark_member",
    "order_strategy",
    "other_key_members",
    "owned_member",
    "set_pointer",
    "valid_batches",
    "valid_orders",
]

Order = dict[str, Any]
_TOKEN = st.text(alphabet="0123456789abcdef", min_size=8, max_size=8)
UNBOUNDED_BATCH = 50  # largest generated batch when the contract documents no max_items


def set_pointer(doc: Any, pointer: str, value: Any) -> None:
    """Set ``value`` at RFC 6901 ``pointer`` inside ``doc``, creating objects on the way (a null or
    missing parent becomes an object)."""
    node = doc
    for token in split_pointer(pointer)[:-1]:
        if isinstance(node, dict) and not isinstance(node.get(token), dict | list):
            node[token] = {}
        node = node[int(token)] if isinstance(node, list) else node[token]
    pointer_set(doc, pointer, value)


def id_member(contract: Contract) -> str:
    """The key member the suite writes fresh values into: the item's own identifier, i.e. the first key
    member that is not the ownership member and has no default (else the first that is not owned)."""
    owner = owned_member(contract)
    members = contract.key.members
    not_owned = [member for member in members if member != owner]
    no_default = [member for member in not_owned if member not in contract.key.defaults]
    return (no_default or not_owned or list(members))[0]


def other_key_members(contract: Contract) -> tuple[str, ...]:
    """The key members besides ``id_member``, in the contract's order."""
    first = id_member(contract)
    return tuple(member for member in contract.key.members if member != first)


def owned_member(contract: Contract) -> str | None:
    return contract.ownership.member if contract.ownership is not None else None


def mark_member(spec: SpecDocument) -> str:
    """A pointer inside one item where any short string can be written: it changes the item's content
    without touching its key (a required free-text property, else a member of a free-form object)."""
    cached = spec.strategy_cache.get("mark_member")
    if isinstance(cached, str):
        return cached
    contract = spec.contract
    taken = {*contract.key.members, *contract.key.immutable, contract.key.explicit_id, owned_member(contract)}
    node = normalize(spec.order_schema)
    props: dict[str, Any] = node.get("properties") or {}
    required = set(node.get("required") or ())

    def free_text(sub: Any) -> bool:
        sub = normalize(sub)
        blocked = ("enum", "const", "pattern", "format")
        return schema_types(sub)[:1] == ["string"] and not any(k in sub for k in blocked)

    def free_object(sub: Any) -> bool:
        sub = normalize(sub)
        kinds = schema_types(sub)
        return (
            "object" in kinds and not sub.get("properties") and sub.get("additionalProperties") is not False
        )

    ordered = sorted(props, key=lambda name: (name not in required, name))
    found = next((f"/{n}" for n in ordered if f"/{n}" not in taken and free_text(props[n])), None)
    if found is None:
        holder = next((n for n in ordered if f"/{n}" not in taken and free_object(props[n])), None)
        if holder is None:
            raise ValueError("the batch item schema has no free-text member to mark items with")
        found = f"/{holder}/oc_mark"
    spec.strategy_cache["mark_member"] = found
    return found


def _spec(spec: SpecDocument | None) -> SpecDocument:
    return spec if spec is not None else load_spec()


def order_strategy(
    spec: SpecDocument, owned: Sequence[Any], *, force: tuple[str, ...] = ()
) -> st.SearchStrategy[Order]:
    """One valid item (no explicit id); the owned member, if the contract has one, drawn from ``owned``."""
    contract = spec.contract
    member = owned_member(contract)
    if member is not None and not owned:
        raise ValueError(f"at least one owned value (for {member}) is needed to build items")
    key = ("order", tuple(owned) if member else (), tuple(force))
    cached = spec.strategy_cache.get(key)
    if cached is None:
        overrides = {member: st.sampled_from(list(owned))} if member else {}
        omit = frozenset({contract.key.explicit_id} if contract.key.explicit_id else ())
        cached = value_strategy(spec.order_schema, force=force, overrides=overrides, omit=omit)
        spec.strategy_cache[key] = cached
    result: st.SearchStrategy[Order] = cached
    return result


def valid_orders(
    owned: Sequence[Any], *, spec: SpecDocument | None = None, order_id_prefix: str = ""
) -> st.SearchStrategy[Order]:
    """Valid single items; the id member starts with ``order_id_prefix`` and is random after it."""
    doc = _spec(spec)
    path = id_member(doc.contract)

    def finish(pair: tuple[Order, str]) -> Order:
        order, token = pair
        set_pointer(order, path, f"{order_id_prefix}{token}")
        return order

    return st.tuples(order_strategy(doc, owned), _TOKEN).map(finish)


def batch_sizes(
    contract: Contract, min_size: int | None = None, max_size: int | None = None
) -> st.SearchStrategy[int]:
    """Batch sizes within the contract's limits, at the edges (1, 2, max-1, max) two times in three.

    Without a documented ``max_items`` the largest size is ``UNBOUNDED_BATCH`` (or ``max_size``)."""
    top = contract.batch.max_items if contract.batch.max_items is not None else UNBOUNDED_BATCH
    if contract.batch.max_items is None and max_size is not None:
        top = max_size
    lo = max(contract.batch.min_items, 1, min_size if min_size is not None else 1)
    hi = min(top, max_size if max_size is not None else top)
    hi = max(lo, hi)
    edges = sorted({n for n in (lo, lo + 1, hi - 1, hi) if lo <= n <= hi})
    anywhere = st.integers(lo, hi)
    at_edge = st.sampled_from(edges)
    return st.integers(0, 2).flatmap(lambda mode: anywhere if mode == 2 else at_edge)


def build_batch(
    contract: Contract, templates: Sequence[Order], owned: Sequence[Any], order_ids: Sequence[str]
) -> list[Order]:
    """A batch of ``len(order_ids)`` items cycling through ``templates`` with the given ids (and owned
    values cycling through ``owned`` when the contract has an ownership member)."""
    member = owned_member(contract)
    batch = []
    for i, order_id in enumerate(order_ids):
        order = copy.deepcopy(templates[i % len(templates)])
        set_pointer(order, id_member(contract), order_id)
        if member is not None and owned:
            set_pointer(order, member, owned[i % len(owned)])
        batch.append(order)
    return batch


def valid_batches(
    owned: Sequence[Any],
    *,
    spec: SpecDocument | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
    order_id_prefix: str = "",
) -> st.SearchStrategy[list[Order]]:
    """Valid batches (lists of items; sizes from the contract, edges often) with distinct keys.

    Up to four items are drawn in full; larger batches reuse them with fresh ids and owned values drawn
    per item, which keeps 100-item batches cheap to generate and to shrink.
    """
    doc = _spec(spec)
    contract = doc.contract
    ids = list(owned)
    single = order_strategy(doc, ids)
    owners = st.lists(st.sampled_from(ids), min_size=1, max_size=4) if ids else st.just([])

    @st.composite
    def batches(draw: st.DrawFn) -> list[Order]:
        size = draw(batch_sizes(contract, min_size, max_size))
        templates = draw(st.lists(single, min_size=1, max_size=min(size, 4)))
        values = draw(owners)
        token = draw(_TOKEN)
        keys = [f"{order_id_prefix}{token}-{i}" for i in range(size)]
        return build_batch(contract, templates, values, keys)

    return batches()
