"""The suite against the reference server: the clean server passes every rule, and every catalogued
fault is killed by the rule that owns it (fault -> rule mapping: contracts.runner.KILLED_BY)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contracts.runner import KILLED_BY, RunConfig, RunReport, run_suite
from contracts.server import FAULTS, running_server_in_thread


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


def test_mapping_covers_the_whole_catalogue() -> None:
    assert set(KILLED_BY) == set(FAULTS)


def test_clean_reference_server_passes_every_rule() -> None:
    with running_server_in_thread() as server:
        report = _run(server)
    failed = {r.id: r.message for r in report.results if r.status not in ("passed", "not_applicable")}
    assert not failed
    not_applicable = {r.id for r in report.results if r.status == "not_applicable"}
    assert not_applicable == {"operation.completes"}  # the only asynchronous-processing rule
    assert all(r.message for r in report.results if r.status == "not_applicable")
    assert report.exit_code == 0


@pytest.mark.parametrize("fault", sorted(KILLED_BY))
def test_fault_is_killed_by_its_rule(fault: str) -> None:
    rule = KILLED_BY[fault]
    with running_server_in_thread(faults={fault}) as server:
        report = _run(server, rules=(rule,))
    (result,) = report.results
    assert result.status == "failed", f"{fault} survived {rule}"
    assert result.reproduction.count("curl ") >= 1
    assert result.message in result.reproduction


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
