"""`orders-contract run` / `conformance`: exit codes, reports, and broken targets (hanging, garbage)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from contracts.rules import Api, TargetError
from orders_contract.cli import app

RUNNER = CliRunner()


def _run(*args: str) -> Any:
    return RUNNER.invoke(app, ["run", *args], catch_exceptions=False)


def _target(url: str) -> list[str]:
    return ["--base-url", url, "--username", "demo", "--password", "demo-secret", "--owned", "7"]


def test_unreachable_server_exits_2_with_one_line(closed_port_url: str) -> None:
    result = _run(*_target(closed_port_url))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: nothing is listening at http://127.0.0.1:")
    assert "--base-url" in lines[0]


def test_usage_errors_exit_2(closed_port_url: str) -> None:
    unknown = _run(*_target(closed_port_url), "--rules", "batch.limit,no.such.rule")
    assert unknown.exit_code == 2 and "unknown rule id(s) no.such.rule" in unknown.output
    excluded = _run(*_target(closed_port_url), "--exclude", "no.such.rule")
    assert excluded.exit_code == 2 and "unknown rule id(s) no.such.rule" in excluded.output
    nothing = _run(*_target(closed_port_url), "--rules", "batch.limit", "--exclude", "batch.limit")
    assert nothing.exit_code == 2 and "leave no rule to run" in nothing.output
    bad_url = _run(*_target("ftp://example.org"))
    assert bad_url.exit_code == 2 and "--base-url must start with http" in bad_url.output
    missing = RUNNER.invoke(app, ["run", "--base-url", closed_port_url])
    assert missing.exit_code == 2


def test_a_server_that_never_answers_fails_preflight_in_seconds(hanging_server: str) -> None:
    started = time.monotonic()
    result = _run(*_target(hanging_server), "--request-timeout", "1")
    assert result.exit_code == 2
    assert time.monotonic() - started < 10
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("error: POST ") and "got no answer within 1.0s" in line
    assert "does not answer HTTP" in line


def test_a_target_that_stops_answering_ends_the_run_within_two_timeouts(
    hangs_after_preflight: str, tmp_path: Path
) -> None:
    """The issue's 177 s (rules x timeout): now two requests without an answer end the run."""
    report = tmp_path / "report.json"
    started = time.monotonic()
    result = _run(*_target(hangs_after_preflight), "--request-timeout", "1", "--report-json", str(report))
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert elapsed < 2 * 1 + 4  # two timeouts, plus spec loading and the bounded cleanup
    data = json.loads(report.read_text())
    assert data["stopped"].startswith("target stopped answering after ")
    assert data["not_run"] and len(data["rules"]) + len(data["not_run"]) == 23
    failed = [r for r in data["rules"] if r["status"] == "failed"]
    assert failed and all("no answer within 1.0s" in r["reproduction"] for r in failed)
    assert all(r["reproduction"].count("curl ") >= 1 for r in failed)
    assert "stopped: target stopped answering after" in result.output


def test_garbage_after_preflight_fails_every_rule_clearly(
    garbage_after_preflight: str, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    result = _run(
        *_target(garbage_after_preflight),
        "--request-timeout",
        "2",
        "--deadline",
        "60",
        "--report-json",
        str(report),
    )
    assert result.exit_code == 1
    rules = json.loads(report.read_text())["rules"]
    assert not [r["id"] for r in rules if r["status"] == "passed"]
    assert not [r for r in rules if r["message"].startswith("rule crashed")]
    assert all(r["reproduction"] for r in rules if r["status"] == "failed")
    skipped = {r["id"]: r["message"] for r in rules if r["status"] == "skipped"}
    assert set(skipped) == {"key.scope"}  # ownership.enforced runs with a value no account can own
    not_applicable = {r["id"]: r["message"] for r in rules if r["status"] == "not_applicable"}
    assert set(not_applicable) == {"operation.completes"}
    assert "synchronous" in not_applicable["operation.completes"]


def test_an_answer_that_trickles_in_is_cut_at_the_request_timeout(trickling_server: str) -> None:
    """httpx's timeout bounds each read only; a body arriving a byte every 0.1 s used to hold a request
    for as long as the target liked (here 10 s)."""
    api = Api(trickling_server, "user", "password", timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(TargetError, match="no answer within 1.0s"):
            api.request("GET", "/orders")
    finally:
        api.close()
    assert time.monotonic() - started < 4


def test_absolute_urls_are_followed_on_the_target_origin_only(closed_port_url: str) -> None:
    """A Link the target sends may name any host: the Basic credentials must not go there."""
    api = Api(closed_port_url, "user", "password", timeout=1.0)
    try:
        with pytest.raises(TargetError, match="another origin than the target"):
            api.request("GET", "http://127.0.0.2:9/api/v3/orders?cursor=x")
        with pytest.raises(TargetError, match="another origin than the target"):
            api.request("GET", closed_port_url.replace("http://", "https://") + "/orders")
        with pytest.raises(TargetError, match="cannot connect"):  # same origin: sent (nothing listens)
            api.request("GET", closed_port_url + "/orders?cursor=x")
    finally:
        api.close()


def test_reports_against_the_reference_server(reference: Any, tmp_path: Path) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "junit.xml"
    result = _run(
        "--base-url",
        reference.api_url,
        "--username",
        reference.username,
        "--password",
        reference.password,
        "--integration-id",  # the old, hidden name of --owned still works
        "7",
        "--owned",
        "739283",
        "--rules",
        "batch.limit,upsert.key,ownership.enforced,operation.completes",
        "--seed",
        "7",
        "--report-json",
        str(report),
        "--junit-xml",
        str(junit),
    )
    assert result.exit_code == 0, result.output
    assert "batch.limit" in result.output and "passed" in result.output
    data = json.loads(report.read_text())
    assert data["target"] == reference.api_url and data["seed"] == 7
    assert [(r["id"], r["status"]) for r in data["rules"]] == [  # suite order, not the order asked
        ("operation.completes", "not_applicable"),
        ("batch.limit", "passed"),
        ("upsert.key", "passed"),
        ("ownership.enforced", "passed"),  # with a value no account can own: no --foreign needed
    ]
    assert set(data["rules"][1]) == {"id", "status", "duration_s", "message", "reproduction"}
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "4" and suite.get("skipped") == "1"
    assert [c.get("name") for c in suite.iter("testcase")] == [
        "operation.completes",
        "batch.limit",
        "upsert.key",
        "ownership.enforced",
    ]
    skips = [c.find("skipped") for c in suite.iter("testcase")]
    assert [s.get("type") if s is not None else None for s in skips] == ["not_applicable", None, None, None]
    assert "not applicable" in result.output


def test_report_folders_are_created_and_an_unwritable_report_is_one_line(
    reference: Any, tmp_path: Path
) -> None:
    target = ["--base-url", reference.api_url, "--username", reference.username]
    target += [
        "--password",
        reference.password,
        "--owned",
        "7",
        "--rules",
        "id.types",
        "--seed",
        "7",
    ]
    report, junit = tmp_path / "reports" / "ci" / "r.json", tmp_path / "reports" / "junit" / "j.xml"
    result = _run(*target, "--report-json", str(report), "--junit-xml", str(junit))
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["rules"][0]["id"] == "id.types"
    assert ET.parse(junit).getroot().find("testsuite") is not None
    blocked = _run(*target, "--report-json", str(tmp_path / "reports"))  # a folder, not a file
    assert blocked.exit_code == 2
    assert blocked.output.strip().splitlines()[-1].startswith("error: cannot write the report:")


def test_conformance_with_a_fault_prints_a_failure_and_exits_1(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = RUNNER.invoke(
        app,
        [
            "conformance",
            "--rules",
            "batch.result_order",
            "--fault",
            "results_reversed",
            "--seed",
            "3",
            "--junit-xml",
            str(junit),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert "batch.result_order" in result.output and "reproduction" in result.output
    assert "curl -sS -i -X POST" in result.output
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None and "result [0]" in (failure.get("message") or "")


def test_conformance_refuses_unknown_fault() -> None:
    result = RUNNER.invoke(app, ["conformance", "--fault", "nope"])
    assert result.exit_code == 2 and "unknown fault(s) nope" in result.output


def test_list_rules_names_every_rule_with_its_source() -> None:
    from contracts.rules import RULES

    result = RUNNER.invoke(app, ["list-rules"], catch_exceptions=False, terminal_width=200)
    assert result.exit_code == 0
    assert len(RULES) == 23 and len({r.id for r in RULES}) == 23
    assert "result [i]" in result.output  # rich markup must not eat the brackets
    for rule in RULES:
        assert rule.id in result.output
        assert rule.description and rule.source
