"""The pytest plugin (inactive without its option; one test per rule with it) and the curl
reproductions (run them with bash: the server answers what the rule reported)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from contracts.runner import RunConfig, run_suite
from contracts.server import running_server_in_thread

pytest_plugins = ["pytester"]


def test_plugin_is_inert_without_its_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_of_the_suite_is_imported():
            assert "contracts.rules" not in sys.modules
            assert "contracts.runner" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "orders-contract::" not in result.stdout.str()


def test_plugin_runs_rules_as_tests(pytester: pytest.Pytester, reference: Any) -> None:
    pytester.makepyfile(test_other="def test_other():\n    assert True\n")
    result = pytester.runpytest_inprocess(
        "-q",
        "-p",
        "no:cacheprovider",
        "-rs",
        f"--orders-contract-url={reference.api_url}",
        f"--orders-contract-username={reference.username}",
        f"--orders-contract-password={reference.password}",
        "--orders-contract-owned=7",
        "--orders-contract-rules=batch.limit,upsert.key,ownership.enforced",
        "--orders-contract-profile=ci",
    )
    result.assert_outcomes(passed=4)  # three rules (ownership with a value no account owns) + the test


def test_plugin_reports_a_failing_rule_with_its_reproduction(pytester: pytest.Pytester) -> None:
    with running_server_in_thread(faults={"results_reversed"}) as server:
        result = pytester.runpytest_inprocess(
            "-q",
            "-p",
            "no:cacheprovider",
            f"--orders-contract-url={server.api_url}",
            f"--orders-contract-username={server.username}",
            f"--orders-contract-password={server.password}",
            "--orders-contract-integration-id=7",  # the old option name still works (hidden)
            "--orders-contract-rules=batch.result_order",
        )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*batch.result_order*", "*result [[]0[]] has*", "*curl -sS -i -X POST*"])


def test_plugin_needs_credentials(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--orders-contract-url=http://127.0.0.1:9/api/v3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--orders-contract-username*"])


@pytest.mark.parametrize(
    ("fault", "rule", "evidence"),
    [
        ("pointer_index_off_by_one", "error.pointer", '"pointer":"/data/attributes/[1]'),
        ("no_batch_limit", "batch.limit", "HTTP/1.1 201"),
    ],
)
def test_reproduction_replays_the_failure(fault: str, rule: str, evidence: str) -> None:
    with running_server_in_thread(faults={fault}) as server:
        config = RunConfig(
            server.api_url,
            server.username,
            server.password,
            (7,),
            rules=(rule,),
            seed=11,
            profile="ci",
            shrink_budget_s=1.0,
        )
        (result,) = run_suite(config).results
        assert result.status == "failed"
        script = result.reproduction
        assert script.count("curl ") <= 4 and len(script) < 6000, script
        replay = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=30, check=False
        )
    assert replay.returncode == 0, replay.stderr
    assert evidence in replay.stdout
