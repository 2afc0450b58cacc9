"""CLI parity with what Schemathesis users expect: environment variables and a config file (flags win),
--exclude, --max-failures / -x, --version, JSON listings, conformance with the run options and
--keep-server, help without `<bool>`, one progress display and one table within 80 columns, and a
start-up that imports only what the command needs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from contracts.rules import RULES
from orders_contract.cli import COMMANDS, app

RUNNER = CliRunner()


def _interactive_signals() -> None:
    """In the child: SIGINT/SIGTERM as in an interactive shell. A CI job started in the background
    (`cmd &` in a script) ignores SIGINT, which the run rightly keeps ignoring; the test wants a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _invoke(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return RUNNER.invoke(app, args, env=env, catch_exceptions=False)
    finally:
        os.chdir(previous)


def test_credentials_from_the_environment(reference: Any, tmp_path: Path) -> None:
    env = {"ORDERS_CONTRACT_USERNAME": reference.username, "ORDERS_CONTRACT_PASSWORD": reference.password}
    env["ORDERS_CONTRACT_BASE_URL"] = reference.api_url
    result = _invoke(["run", "--owned", "7", "--rules", "id.types", "--seed", "2"], env=env, cwd=tmp_path)
    assert result.exit_code == 0, result.output


def test_config_file_then_environment_then_flags(reference: Any, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.orders-contract]\n"
        f'base-url = "{reference.api_url}"\nusername = "{reference.username}"\n'
        'password = "wrong"\nowned = [7]\nrules = "batch.limit"\n'
        "[tool.orders-contract.run]\nseed = 4\n",
        encoding="utf-8",
    )
    refused = _invoke(["run"], cwd=tmp_path)  # the file's wrong password reaches preflight
    assert refused.exit_code == 2 and "answered 401" in refused.output
    env = {"ORDERS_CONTRACT_PASSWORD": reference.password}  # the environment beats the file
    report = tmp_path / "r.json"
    result = _invoke(["run", "--rules", "id.types", "--report-json", str(report)], env=env, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert [r["id"] for r in data["rules"]] == ["id.types"] and data["seed"] == 4  # the flag beat the file


def test_exclude_and_max_failures(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    rules = "batch.result_order,auth.required,batch.limit,error.shape"
    result = _invoke(
        ["conformance", "--fault", "results_reversed", "--fault", "no_auth", "--rules", rules]
        + ["--exclude", "error.shape", "-x", "--seed", "3", "--report-json", str(report)]
        + ["--junit-xml", str(tmp_path / "j.xml")]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(report.read_text())
    assert [(r["id"], r["status"]) for r in data["rules"]] == [
        ("batch.limit", "passed"),
        ("batch.result_order", "failed"),
    ]
    assert data["stopped"] == "stopped after 1 failed rule(s) (--max-failures 1)"
    assert data["not_run"] == ["auth.required"]  # error.shape was excluded
    assert "not run (1): auth.required" in result.output
    junit = (tmp_path / "j.xml").read_text()
    assert 'name="auth.required"' in junit and 'type="not_run"' in junit


def test_version_and_json_listings() -> None:
    version = _invoke(["--version"])
    assert version.exit_code == 0 and version.output.startswith("orders-contract ")
    listed = _invoke(["list-rules", "--json"])
    rows = json.loads(listed.output)
    assert [r["id"] for r in rows] == [r.id for r in RULES]
    assert all(r["source"] and not r["source"].lower().startswith("seed") for r in rows)
    karrio = json.loads(_invoke(["list-rules", "--json", "--spec", "karrio-batch-orders"]).output)
    assert {r["id"] for r in karrio if r["not_applicable"]} >= {"ownership.enforced"}
    lint = _invoke(["lint", "--json", "spec/karrio-batch-orders.yaml"], cwd=Path(__file__).parents[2])
    assert lint.exit_code == 0 and json.loads(lint.output)["findings"] == []


def _helps() -> list[tuple[str, str]]:
    out = [("", _invoke(["--help"]).output)]
    for name in COMMANDS:
        out.append((name, _invoke([name, "--help"]).output))
    out.append(("clients report", _invoke(["clients", "report", "--help"]).output))
    return out


def test_help_shows_no_bool_and_the_root_listing_matches_the_commands() -> None:
    for name, text in _helps():
        assert "<bool>" not in text, name
    from typer.main import get_group

    group = get_group(app)
    for name, (_, summary) in COMMANDS.items():
        command = group.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        real = command.short_help or command.help or ""
        assert " ".join(summary.split()) == " ".join(real.split()), name


def test_one_progress_display_and_one_table_within_80_columns(reference: Any) -> None:
    args = ["run", "--base-url", reference.api_url, "--username", reference.username]
    result = _invoke(
        [*args, "--password", reference.password, "--owned", "7", "--owned", "739283"]
        + ["--rules", "batch.limit,upsert.key,durability.concurrent,operation.completes"]
        + ["--seed", "9"],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    for rule in ("batch.limit", "upsert.key", "durability.concurrent", "operation.completes"):
        assert result.output.count(rule) == 1, rule  # the table only; progress is one mark per rule
    assert lines[0] == "-... [4/4]"  # one mark per rule in run order, then the count
    assert lines[-1].startswith("3 passed, 0 failed, 1 not applicable in ")


def test_help_imports_no_engine() -> None:
    probe = (
        "import sys\nfrom orders_contract.cli import main\nsys.argv = ['orders-contract'] + sys.argv[1:]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('hypothesis', 'schemathesis', 'openapi_core', 'starlette', 'pydantic') "
        "if m in sys.modules]\nprint('HEAVY', heavy)\n"
    )
    for args in (["--help"], ["generate", "--help"], ["run", "--help"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60, check=True
        )
        assert done.stdout.strip().splitlines()[-1] == "HEAVY []", (args, done.stdout[-300:])


def test_conformance_keeps_the_server_for_the_reproductions() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from orders_contract.cli import main; main()", "conformance"]
        + ["--rules", "batch.limit", "--seed", "1", "--profile", "ci", "--keep-server"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_interactive_signals,
    )
    try:
        assert process.stdout is not None
        url, seen = "", []
        deadline = time.monotonic() + 90
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            if line.startswith("server kept running on "):
                url = line.split()[4].rstrip(";")
            if not line and process.poll() is not None:
                break
        assert url, "".join(seen)
        reply = httpx.get(url + "/orders", auth=("demo", "demo-secret"), timeout=10)
        assert reply.status_code == 200  # a reproduction printed above can still be replayed
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0  # the run's verdict, not the signal's
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


@pytest.mark.parametrize("flag", ["--max-examples", "--deadline", "--request-timeout", "--exclude", "-x"])
def test_conformance_takes_the_run_options(flag: str) -> None:
    assert flag in _invoke(["conformance", "--help"]).output
