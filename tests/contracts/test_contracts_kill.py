"""The suite against the reference server, per dialect: the clean server passes every rule that applies,
and every fault of the dialect's catalogue is killed by the rule that owns it (fault -> rule mapping:
contracts.runner.KILLED_BY; faults of a dialect: contracts.server.faults_for).

Sendcloud: every fault, always. Karrio: the faults only it has in ``make test``; all of them under the deep
profile (``make test-deep``)."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from contracts.contract import load_contract
from contracts.runner import KILLED_BY, RunConfig, RunReport, run_suite
from contracts.server import FAULTS, faults_for, running_server_in_thread

SENDCLOUD = "sendcloud-orders-v3.yaml"
KARRIO = "karrio-batch-orders.yaml"
DEEP = os.environ.get("ORDERS_CONTRACT_PROFILE") == "deep"
# In make test, the Karrio faults that no other dialect has (the shared ones are killed on Sendcloud).
KARRIO_SAMPLE = {
    "duplicates_under_concurrency",
    "error_index_off_by_one",
    "key_ignores_source",
    "loses_orders",
    "never_completes",
    "resources_name_nothing",
    "status_outside_enum",
    "updates_instead_of_reusing",
}
# A run may promise less than the contract's complete_within_seconds (60 s for Karrio); the fault tests use
# this cap so that never_completes is killed in seconds. The deep profile also waits the contract's bound.
CAPPED = 2.0


def _run(server: Any, rules: tuple[str, ...] = (), **extra: Any) -> RunReport:
    options: dict[str, Any] = {
        "rules": rules,
        "seed": 20261122,
        "profile": "ci",
        "shrink_budget_s": 1.0,
        "poll_timeout_s": 1.0,
        "deadline_s": 120.0,
    }
    options.update(extra)
    return run_suite(RunConfig.against(server, **options))


def _cases() -> list[Any]:
    cases = []
    for spec in (SENDCLOUD, KARRIO):
        for fault in sorted(faults_for(load_contract(spec))):
            deep_only = spec == KARRIO and fault not in KARRIO_SAMPLE
            marks = (
                [pytest.mark.skipif(not DEEP, reason="deep profile only (make test-deep)")]
                if deep_only
                else []
            )
            cases.append(pytest.param(spec, fault, marks=marks, id=f"{spec.split('-')[0]}-{fault}"))
    return cases


def test_mapping_covers_the_whole_catalogue() -> None:
    assert set(KILLED_BY) == set(FAULTS)
    for spec in (SENDCLOUD, KARRIO):
        assert faults_for(load_contract(spec)), spec


@pytest.mark.parametrize(
    ("spec", "not_applicable"),
    [
        (SENDCLOUD, {"operation.completes"}),  # the only asynchronous-processing rule
        (KARRIO, None),  # checked below: the synchronous and Sendcloud-feature rules
    ],
)
def test_clean_reference_server_passes_every_rule(spec: str, not_applicable: set[str] | None) -> None:
    with running_server_in_thread(spec_path=spec) as server:
        report = _run(server)
    failed = {r.id: r.message for r in report.results if r.status not in ("passed", "not_applicable")}
    assert not failed
    skipped = {r.id for r in report.results if r.status == "not_applicable"}
    if not_applicable is not None:
        assert skipped == not_applicable
    else:
        passed = {r.id for r in report.results if r.status == "passed"}
        assert {"operation.completes", "durability.concurrent", "body.robust", "batch.empty"} <= passed
        assert "batch.limit" in skipped  # no max_items is documented
    assert all(r.message for r in report.results if r.status == "not_applicable")
    assert report.exit_code == 0


@pytest.mark.parametrize(("spec", "fault"), _cases())
def test_fault_is_killed_by_its_rule(spec: str, fault: str) -> None:
    rule = KILLED_BY[fault]
    with running_server_in_thread(spec_path=spec, faults={fault}) as server:
        report = _run(server, rules=(rule,), operation_timeout_s=CAPPED)
    (result,) = report.results
    assert result.status == "failed", f"{fault} survived {rule}"
    assert result.reproduction.count("curl ") >= 1
    assert result.message in result.reproduction
    if fault == "status_outside_enum":  # said at once, not after waiting for a terminal status
        assert "took status 'done'" in result.message
    if fault == "never_completes":
        assert "is still 'queued'" in result.message
        assert "capped by the operation timeout" in result.message


@pytest.mark.skipif(not DEEP, reason="waits the contract's 60 s bound: deep profile only (make test-deep)")
def test_never_completes_is_killed_within_the_contracts_own_bound() -> None:
    with running_server_in_thread(spec_path=KARRIO, faults={"never_completes"}) as server:
        report = _run(server, rules=("operation.completes",))
    (result,) = report.results
    assert result.status == "failed"
    assert "is still 'queued' after 60s" in result.message
    assert "capped" not in result.message


def test_slow_but_correct_operations_pass_within_the_contracts_bound() -> None:
    """Operations that take 2.5 s pass operation.completes (the contract allows 60 s); a run that promises
    at most 1 s fails them and says the wait was capped."""
    with running_server_in_thread(spec_path=KARRIO, processing_delay=2.5) as server:
        slow = _run(server, rules=("operation.completes",), max_examples=1)
        capped = _run(server, rules=("operation.completes",), max_examples=1, operation_timeout_s=1.0)
    assert slow.results[0].status == "passed", slow.results[0].message
    assert capped.results[0].status == "failed"
    assert "capped by the operation timeout" in capped.results[0].message


def test_suite_cleans_up_and_tolerates_asynchronous_processing() -> None:
    """With reads lagging 0.3 s behind the 201, the read-back rules still pass (bounded polling), and
    afterwards the account holds no order the suite created."""
    rules = ("batch.accepts_valid", "upsert.key", "crud.lifecycle", "list.filters", "list.pagination")
    with running_server_in_thread(processing_delay=0.3) as server:
        report = _run(server, rules=rules, poll_timeout_s=5.0)
        failed = {r.id: r.message for r in report.results if r.status != "passed"}
        assert not failed
        listing = httpx.get(
            f"{server.api_url}/orders", params={"page_size": "200"}, auth=server.auth, timeout=5
        )
    assert listing.status_code == 200
    assert listing.json()["data"] == []


@pytest.mark.parametrize("rule", ["ownership.enforced", "batch.duplicate_keys"])
def test_nothing_stored_checks_wait_for_asynchronous_processing(rule: str) -> None:
    """A server that commits the valid part of a rejected batch and shows it 0.3 s later is caught: the
    check waits until a later order is processed (it looked only once, at once, before)."""
    with running_server_in_thread(faults={"partial_commit"}, processing_delay=0.3) as server:
        report = _run(server, rules=(rule,), poll_timeout_s=5.0)
    (result,) = report.results
    assert result.status == "failed", f"partial commit with delayed reads survived {rule}"
    assert "stored" in result.message


def test_conflict_rule_accepts_the_documented_conflict() -> None:
    """With --batch-latency the reference server answers concurrent identical batches with the
    documented 400 conflict; that is conformant."""
    with running_server_in_thread(batch_latency=0.3) as server:
        report = _run(server, rules=("conflict.concurrent",))
    (result,) = report.results
    assert result.status == "passed", result.message
