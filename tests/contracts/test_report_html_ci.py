"""docs/ci-example.yml stays true: it parses, every `orders-contract` command it runs exists with every
option it passes, the suite steps write JUnit + HTML, publish them before failing, and fail only on
exit code 1 (rule failures) or >= 2 (misconfiguration)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from orders_contract.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ci-example.yml"


def _workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    return data


def _scripts(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job.get("steps", []) if "run" in step]


def _invocations() -> list[tuple[list[str], set[str]]]:
    """``(command words, options)`` of every orders-contract call in the workflow's run scripts."""
    found = []
    for job in _workflow()["jobs"].values():
        for script in _scripts(job):
            joined = script.replace("\\\n", " ")
            for line in joined.splitlines():
                if "orders-contract " not in line:
                    continue
                after = line.split("orders-contract ", 1)[1].split("#", 1)[0]
                words = after.split()
                command = [w for w in words[:2] if re.fullmatch(r"[a-z]+(-[a-z]+)*", w)]
                command = command[:2] if command[:1] == ["clients"] else command[:1]
                found.append((command, {w.split("=")[0] for w in words if w.startswith("--")}))
    return found


def test_every_command_and_option_of_the_example_exists() -> None:
    runner = CliRunner()
    calls = _invocations()
    assert {" ".join(c) for c, _ in calls} >= {"lint", "run", "serve", "clients report"}
    for command, options in calls:
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
        assert result.exit_code == 0, (command, result.output)
        for option in options:
            assert option in result.output, f"orders-contract {' '.join(command)} has no {option}"


def test_suite_jobs_publish_junit_and_html_then_fail_only_on_rule_failures() -> None:
    jobs = _workflow()["jobs"]
    for name in ("server-service", "server-process", "client"):
        steps = jobs[name]["steps"]
        runs = [s.get("run", "") for s in steps]
        suite = next(i for i, r in enumerate(runs) if "--report-html" in r)
        assert "--junit-xml" in runs[suite] and "set +e" in runs[suite]
        assert 'if [ "$code" -ge 2 ]; then exit "$code"; fi' in runs[suite]
        uses = [s.get("uses", "") for s in steps]
        junit = next(i for i, u in enumerate(uses) if "junit-report" in u)
        artifact = next(i for i, u in enumerate(uses) if "upload-artifact" in u)
        fail = next(i for i, s in enumerate(steps) if "== '1'" in str(s.get("if", "")))
        assert suite < junit < fail and suite < artifact < fail
        assert "cancelled()" in steps[junit]["if"] and "cancelled()" in steps[artifact]["if"]
        assert steps[fail]["run"].strip().endswith("exit 1")


def test_drift_runs_on_spec_changes() -> None:
    jobs = _workflow()["jobs"]
    filters = jobs["changes"]["steps"][1]["with"]["filters"]
    assert "spec/**" in filters and "codegen/**" in filters
    assert "needs.changes.outputs.spec == 'true'" in jobs["drift"]["if"]
    assert any("make check-generated" in r for r in _scripts(jobs["drift"]))
