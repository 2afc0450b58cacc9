"""Valid orders and batches derived from the spec's ``OrderUpsert`` schema and ``x-contract`` block."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from ._spec import Contract, SpecDocument, load_spec
from ._values import value_strategy

__all__ = ["batch_sizes", "build_batch", "order_strategy", "set_pointer", "valid_batches", "valid_orders"]

Order = dict[str, Any]
_TOKEN = st.text(alphabet="0123456789abcdef", min_size=8, max_size=8)


def set_pointer(doc: Any, pointer: str, value: Any) -> None:
    """Set ``value`` at RFC 6901 ``pointer`` inside ``doc``, creating objects on the way."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = doc
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def _spec(spec: SpecDocument | None) -> SpecDocument:
    return spec if spec is not None else load_spec()


def order_strategy(
    spec: SpecDocument, integration_ids: Sequence[int], *, force: tuple[str, ...] = ()
) -> st.SearchStrategy[Order]:
    """One valid order (no explicit ``id``), integration drawn from ``integration_ids``."""
    if not integration_ids:
        raise ValueError("at least one integration id is needed to build orders")
    key = ("order", tuple(integration_ids), tuple(force))
    cached = spec.strategy_cache.get(key)
    if cached is None:
        contract = spec.contract
        overrides = {contract.integration_path: st.sampled_from(list(integration_ids))}
        cached = value_strategy(
            spec.order_schema, force=force, overrides=overrides, omit=frozenset({contract.explicit_id})
        )
        spec.strategy_cache[key] = cached
    result: st.SearchStrategy[Order] = cached
    return result


def valid_orders(
    integration_ids: Sequence[int], *, spec: SpecDocument | None = None, order_id_prefix: str = ""
) -> st.SearchStrategy[Order]:
    """Valid single orders; ``order_id`` starts with ``order_id_prefix`` and is random after it."""
    doc = _spec(spec)
    path = doc.contract.order_id_path

    def finish(pair: tuple[Order, str]) -> Order:
        order, token = pair
        set_pointer(order, path, f"{order_id_prefix}{token}")
        return order

    return st.tuples(order_strategy(doc, integration_ids), _TOKEN).map(finish)


def batch_sizes(
    contract: Contract, min_size: int | None = None, max_size: int | None = None
) -> st.SearchStrategy[int]:
    """Batch sizes within the contract's limits, at the edges (1, 2, max-1, max) two times in three."""
    lo = max(contract.min_items, min_size if min_size is not None else contract.min_items)
    hi = min(contract.max_items, max_size if max_size is not None else contract.max_items)
    edges = sorted({n for n in (lo, lo + 1, hi - 1, hi) if lo <= n <= hi})
    anywhere = st.integers(lo, hi)
    at_edge = st.sampled_from(edges)
    return st.integers(0, 2).flatmap(lambda mode: anywhere if mode == 2 else at_edge)


def build_batch(
    contract: Contract, templates: Sequence[Order], integrations: Sequence[int], order_ids: Sequence[str]
) -> list[Order]:
    """A batch of ``len(order_ids)`` orders cycling through ``templates`` with the given keys."""
    batch = []
    for i, order_id in enumerate(order_ids):
        order = copy.deepcopy(templates[i % len(templates)])
        set_pointer(order, contract.order_id_path, order_id)
        set_pointer(order, contract.integration_path, integrations[i % len(integrations)])
        batch.append(order)
    return batch


def valid_batches(
    integration_ids: Sequence[int],
    *,
    spec: SpecDocument | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
    order_id_prefix: str = "",
) -> st.SearchStrategy[list[Order]]:
    """Valid batches (sizes from the contract, edges often) with distinct upsert keys.

    Up to four orders are drawn in full; larger batches reuse them with fresh ``order_id``s and
    integrations drawn per order, which keeps 100-order batches cheap to generate and to shrink.
    """
    doc = _spec(spec)
    contract = doc.contract
    ids = list(integration_ids)
    single = order_strategy(doc, ids)

    @st.composite
    def batches(draw: st.DrawFn) -> list[Order]:
        size = draw(batch_sizes(contract, min_size, max_size))
        templates = draw(st.lists(single, min_size=1, max_size=min(size, 4)))
        integrations = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=min(size, 4)))
        token = draw(_TOKEN)
        keys = [f"{order_id_prefix}{token}-{i}" for i in range(size)]
        return build_batch(contract, templates, integrations, keys)

    return batches()
