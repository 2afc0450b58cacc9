"""The suite against the reference server: the clean server passes every rule, and every catalogued
fault is killed by the rule that owns it (fault -> rule mapping: contracts.runner.KILLED_BY)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.runner import KILLED_BY, RunConfig, RunReport, run_suite
from contracts.server import FAULTS, running_server_in_thread


def _run(server: Any, rules: tuple[str, ...] = (), **extra: Any) -> RunReport:
    config = RunConfig(
        base_url=server.api_url,
        username=server.username,
        password=server.password,
        integration_ids=server.integrations,
        foreign_integration_id=server.other_integrations[0],
        rules=rules,
        seed=20261122,
        profile="ci",
        shrink_budget_s=1.0,
        poll_timeout_s=1.0,
        deadline_s=120.0,
        **extra,
    )
    return run_suite(config)


def test_mapping_covers_the_whole_catalogue() -> None:
    assert set(KILLED_BY) == set(FAULTS)


def test_clean_reference_server_passes_every_rule() -> None:
    with running_server_in_thread() as server:
        report = _run(server)
    failed = {r.id: r.message for r in report.results if r.status != "passed"}
    assert not failed
    assert len(report.results) == 18
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
