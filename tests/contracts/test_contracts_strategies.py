"""The spec-derived strategies: valid data is valid, faults break exactly what they claim, every
constrained path of the order schema can be targeted."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from contracts.strategies import (
    WHOLE_BATCH_FAULTS,
    ConstrainedPath,
    InvalidBatch,
    SpecDocument,
    batch_sizes,
    constrained_paths,
    fault_targets,
    invalid_batches,
    path_of,
    valid_batches,
    valid_orders,
)

IDS = [7, 739283]
# Health checks stay ON here (except too_slow for 100-order batches): filter-heavy strategies would fail.
CHECKED = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _draw_one(strategy: st.SearchStrategy[Any]) -> Any:
    out: list[Any] = []

    @settings(
        max_examples=1,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def inner(value: Any) -> None:
        out.append(value)

    inner()
    return out[0]


def _errors(spec: SpecDocument, batch: Any) -> list[Any]:
    return list(Draft202012Validator(spec.batch_schema).iter_errors(batch))


def test_valid_batches_are_valid_with_distinct_keys(spec: SpecDocument) -> None:
    sizes: list[int] = []
    integrations: set[int] = set()

    @CHECKED
    @given(valid_batches(IDS, spec=spec))
    def check(batch: list[dict[str, Any]]) -> None:
        sizes.append(len(batch))
        assert 1 <= len(batch) <= spec.contract.batch.max_items
        assert not _errors(spec, batch)
        keys = [(o["order_id"], o["order_details"]["integration"]["id"]) for o in batch]
        assert len(set(keys)) == len(keys)
        assert all("id" not in o for o in batch)
        integrations.update(k[1] for k in keys)

    check()
    top = spec.contract.batch.max_items
    assert max(sizes) >= top - 1, sizes
    assert sum(size in (1, 2, top - 1, top) for size in sizes) >= len(sizes) // 4, sizes  # edges are frequent
    assert integrations == set(IDS)


def test_batch_sizes_hit_the_edges(spec: SpecDocument) -> None:
    sizes: list[int] = []

    @settings(max_examples=100, database=None, deadline=None)
    @given(batch_sizes(spec.contract))
    def check(size: int) -> None:
        sizes.append(size)

    check()
    top = spec.contract.batch.max_items
    assert {1, 2, top - 1, top} <= set(sizes)
    full = _draw_one(valid_batches(IDS, spec=spec, min_size=top))
    assert len(full) == top and not _errors(spec, full)


def test_valid_orders_look_real(spec: SpecDocument) -> None:
    @CHECKED
    @given(valid_orders([7], spec=spec, order_id_prefix="shop-"))
    def check(order: dict[str, Any]) -> None:
        assert not _errors(spec, [order])
        assert order["order_id"].startswith("shop-")
        assert order["payment_details"]["total_price"]["currency"] in {
            "EUR",
            "GBP",
            "USD",
            "CHF",
            "SEK",
            "PLN",
            "DKK",
        }
        assert order["order_details"]["order_created_at"][:2] in {"20"}

    check()


def test_constrained_paths_cover_the_schema(spec: SpecDocument) -> None:
    paths = fault_targets(spec)
    kinds = {p.kind for p in paths}
    assert {"required", "type", "enum", "pattern", "minLength", "minimum", "exclusiveMinimum"} <= kinds
    pointers = {str(p) for p in paths}
    for expected in (
        "/order_id [required]",
        "/id [type]",
        "/id [pattern]",
        "/order_details/integration/id [type]",
        "/payment_details/total_price/currency [enum]",
    ):
        assert expected in pointers, expected
    quantity = {p for p in pointers if p.startswith("/order_details/order_items/0/quantity ")}
    lower_bounds = {f"/order_details/order_items/0/quantity [{k}]" for k in ("minimum", "exclusiveMinimum")}
    assert quantity & lower_bounds, quantity
    assert paths == constrained_paths(spec.order_schema)


def test_every_constrained_path_can_be_targeted(spec: SpecDocument) -> None:
    """For each path: the base batch is valid, the faulty one is not, and the schema blames that path."""
    validator = Draft202012Validator(spec.batch_schema)
    for target in fault_targets(spec):
        bad: InvalidBatch = _draw_one(invalid_batches([7], spec=spec, targets=[target], max_size=3))
        assert bad.target == target
        assert not list(validator.iter_errors(bad.valid_batch)), target
        errors = list(validator.iter_errors(bad.batch))
        where = ["/" + "/".join(str(p) for p in e.absolute_path) for e in errors]
        blamed = f"/{bad.index}{target.pointer}"
        assert any(blamed.startswith(w) for w in where), (target, where)
        (pointer,) = [e.pointer for e in bad.expected_errors]
        assert pointer == spec.contract.errors.locate(bad.index or 0, path_of(target))


def test_invalid_batches_unpack_as_batch_and_expected(spec: SpecDocument) -> None:
    bad = _draw_one(invalid_batches(IDS, spec=spec, targets=[ConstrainedPath(("order_number",), "required")]))
    batch, expected = bad
    assert "order_number" not in batch[bad.index]
    assert expected[0].pointer == f"/data/attributes/[{bad.index}]/order_number"
    assert expected[0].status == 400


@pytest.mark.parametrize("name", WHOLE_BATCH_FAULTS)
def test_whole_batch_faults(spec: SpecDocument, name: str) -> None:
    bad = _draw_one(invalid_batches([7], spec=spec, targets=[], whole_batch=[name]))
    (expected,) = bad.expected_errors
    assert expected.status == 400
    if name == "too_many":
        assert len(bad.batch) == spec.contract.batch.max_items + 1
        assert expected.pointer == spec.contract.errors.whole_batch
        assert expected.detail == f"Orders list should have at most 100 items, not {len(bad.batch)}"
        assert not _errors(spec, bad.batch[:100])
    elif name == "not_a_list":
        assert isinstance(bad.batch, dict) and expected.code == "non_field_errors"
    elif name == "empty":
        assert bad.batch == []
        assert expected.detail == "Orders list should have at least 1 item, not 0"
    else:
        with pytest.raises(ValueError):
            __import__("json").loads(bad.content())


def test_unknown_whole_batch_fault_is_refused(spec: SpecDocument) -> None:
    with pytest.raises(ValueError, match="unknown whole-batch faults"):
        invalid_batches([7], spec=spec, whole_batch=["nope"])


@pytest.mark.parametrize("kind", ["type", "minLength", "required"])
def test_rekeying_never_repairs_a_fault_at_the_order_id(spec: SpecDocument, kind: str) -> None:
    """Rules give every sent order a fresh order id; an injected order-id fault must survive that."""
    from contracts.rules._support import fault_at_key, rekey
    from contracts.runner import RunConfig, SuiteSession

    session = SuiteSession(RunConfig("http://127.0.0.1:9/api/v3", "user", "secret", (7,)))
    try:
        bad = _draw_one(invalid_batches([7], spec=spec, targets=[ConstrainedPath(("order_id",), kind)]))
        sent = rekey(session.ctx, bad.batch, keep=fault_at_key(session.ctx, bad))
    finally:
        session.close()
    index = bad.index
    assert sent[index].get("order_id") == bad.batch[index].get("order_id")
    assert any(list(e.absolute_path)[:1] == [index] for e in _errors(spec, sent))
    others = [o["order_id"] for i, o in enumerate(sent) if i != index]
    assert all(str(v).startswith(session.ctx.run_prefix) for v in others)


def test_wrapped_list_without_a_limit_and_with_key_defaults() -> None:
    """A spec whose items sit under a member, with no max_items and a defaulted key member."""
    from contracts.strategies import load_spec, mark_member

    karrio = load_spec("karrio-batch-orders")
    contract = karrio.contract
    assert contract.batch.wrapped and contract.batch.max_items is None and contract.ownership is None
    validator = Draft202012Validator(karrio.batch_schema)
    batch = _draw_one(valid_batches([], spec=karrio, min_size=3, max_size=5))
    assert 3 <= len(batch) <= 5
    assert not list(validator.iter_errors(contract.batch.wrap(batch)))
    keys = {contract.key.key_of(item) for item in batch}
    assert len(keys) == len(batch) and all(key[1] is not None for key in keys)  # source defaults to "API"
    assert mark_member(karrio) not in contract.key.members
    bad = _draw_one(invalid_batches([], spec=karrio, whole_batch=list(WHOLE_BATCH_FAULTS), max_size=4))
    assert contract.batch.items_of(bad.batch) is not None or bad.raw is not None or bad.items is None
    assert all(e.status == 400 for e in bad.expected_errors)
    empty = _draw_one(invalid_batches([], spec=karrio, targets=[], whole_batch=["empty"]))
    assert empty.batch == contract.batch.wrap([])
    (expected,) = empty.expected_errors
    assert expected.code is not None and expected.detail is not None
    field = _draw_one(invalid_batches([], spec=karrio, max_size=4))
    (located,) = field.expected_errors
    assert located.index == field.index and located.pointer == contract.errors.locate(
        field.index or 0, path_of(field.target)
    )  # type: ignore[arg-type]
