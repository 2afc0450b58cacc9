"""The rule registry: every registered rule is in the run order (declared with the rule, not a hand-kept
list), and a rule that does not apply to a contract says why instead of passing."""

from __future__ import annotations

import pytest

from contracts.contract import load_contract
from contracts.rules import REGISTRY, RULES, registered_rules
from contracts.rules._base import rule


def test_every_registered_rule_is_in_the_run_order() -> None:
    assert {r.id for r in RULES} == set(REGISTRY)
    assert [r.id for r in RULES] == [r.id for r in registered_rules()]
    orders = [r.order for r in RULES]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)


def test_a_rule_registered_later_joins_the_run_order() -> None:
    @rule("zz.test_only", "test", "test", order=10_000)
    def _probe(ctx: object) -> None:
        return None

    try:
        assert registered_rules()[-1].id == "zz.test_only"
    finally:
        del REGISTRY["zz.test_only"]


def test_an_order_or_id_is_taken_once() -> None:
    with pytest.raises(ValueError, match="already taken"):
        rule("zz.clash", "test", "test", order=RULES[0].order)(lambda ctx: None)
    with pytest.raises(ValueError, match="registered twice"):
        rule(RULES[0].id, "test", "test", order=10_001)(lambda ctx: None)


@pytest.mark.parametrize(
    ("spec", "rule_id", "applies"),
    [
        ("sendcloud-orders-v3", "operation.completes", False),
        ("sendcloud-orders-v3", "batch.limit", True),
        ("karrio-batch-orders", "operation.completes", True),
        ("karrio-batch-orders", "batch.limit", False),
        ("karrio-batch-orders", "crud.lifecycle", False),
        ("karrio-batch-orders", "conflict.concurrent", False),
        ("karrio-batch-orders", "ownership.enforced", False),
        ("karrio-batch-orders", "durability.concurrent", True),
        ("karrio-batch-orders", "body.robust", True),
    ],
)
def test_not_applicable_is_decided_by_the_contract(spec: str, rule_id: str, applies: bool) -> None:
    reason = REGISTRY[rule_id].not_applicable(load_contract(spec))
    assert (reason is None) is applies
    if reason is not None:
        assert "x-contract" in reason
