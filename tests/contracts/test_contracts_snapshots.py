"""CLI output snapshots of the error paths (in the style of openapi-python-client's snapshots of broken
specs): each message stays one line naming the cause and the fix, and exits 2.

The expected output is in tests/snapshots/cli/<case>.txt, with ports, seeds and times replaced by
placeholders; `UPDATE_SNAPSHOTS=1 pytest tests/contracts/test_contracts_snapshots.py` rewrites them."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tiny_servers import TinyServer
from typer.testing import CliRunner

from orders_contract.cli import app

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "cli"
RUNNER = CliRunner()
CREDENTIALS = ["--username", "demo", "--password", "demo-secret", "--owned", "7"]


def _normalise(text: str, folder: Path | None = None) -> str:
    if folder is not None:
        text = text.replace(str(folder), "TMP")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"\b\d+\.\d+s\b", "N.Ns", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def _check(case: str, args: list[str], code: int = 2, cwd: Path | None = None) -> str:
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = RUNNER.invoke(app, args, catch_exceptions=False)
    finally:
        os.chdir(previous)
    output = _normalise(result.output, cwd)
    path = SNAPSHOTS / f"{case}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(output, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 once and review it"
    assert output == path.read_text(encoding="utf-8"), f"{case}: output changed\n{output}"
    assert result.exit_code == code, output
    return output


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{output}"
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


Case = Callable[[Any], list[str]]
RUN_CASES: dict[str, Case] = {
    "run-nothing-listening": lambda f: ["run", "--base-url", f["closed"], *CREDENTIALS],
    "run-base-url-without-base-path": lambda f: ["run", "--base-url", f["ref"].base_url, *CREDENTIALS],
    "run-base-url-with-operation-path": lambda f: [
        "run",
        "--base-url",
        f["ref"].api_url + "/orders",
        *CREDENTIALS,
    ],
    "run-wrong-password": lambda f: (
        ["run", "--base-url", f["ref"].api_url]
        + ["--username", "demo", "--password", "WRONG", "--owned", "7"]
    ),
    "run-answer-not-json": lambda f: ["run", "--base-url", f["garbage"], *CREDENTIALS],
    "run-never-answers": lambda f: ["run", "--base-url", f["hang"], *CREDENTIALS, "--request-timeout", "0.5"],
    "run-missing-credentials": lambda f: ["run", "--base-url", f["closed"]],
    "run-unknown-rule": lambda f: ["run", "--base-url", f["closed"], *CREDENTIALS, "--rules", "batch.nope"],
    "run-bad-header": lambda f: ["run", "--base-url", f["closed"], *CREDENTIALS, "-H", "no colon"],
    "run-unknown-profile": lambda f: ["run", "--base-url", f["closed"], *CREDENTIALS, "--profile", "fast"],
    "run-bad-base-url": lambda f: ["run", "--base-url", "localhost:8000", *CREDENTIALS],
    "run-unknown-spec": lambda f: ["run", "--base-url", f["closed"], *CREDENTIALS, "--spec", "nope"],
    "conformance-unknown-fault": lambda f: ["conformance", "--fault", "nope"],
    "list-rules-unknown-spec": lambda f: ["list-rules", "--spec", "nope"],
    "serve-busy-port": lambda f: ["serve", "--port", str(f["busy"]), "--db", ":memory:"],
}


@pytest.fixture(scope="module")
def targets(reference: Any, busy_port: int) -> Iterator[dict[str, Any]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v3"
    with TinyServer("garbage") as garbage, TinyServer("hang") as hang:
        yield {
            "ref": reference,
            "closed": closed,
            "garbage": garbage.url,
            "hang": hang.url,
            "busy": busy_port,
        }


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_error_paths_are_one_line(case: str, targets: dict[str, Any]) -> None:
    _one_line(_check(case, RUN_CASES[case](targets)))


CONFIG_CASES = {
    "config-unknown-key": ("orders-contract.toml", 'base-url = "http://127.0.0.1:9/api/v3"\nbase_ur = "x"\n'),
    "config-not-toml": ("orders-contract.toml", "base-url = \n"),
    "config-pyproject-run-table-unknown": (
        "pyproject.toml",
        '[tool.orders-contract.run]\nseed = 3\nfault = ["x"]\n',
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_a_broken_config_file_is_one_line(case: str, tmp_path: Path) -> None:
    name, text = CONFIG_CASES[case]
    (tmp_path / name).write_text(text, encoding="utf-8")
    line = _one_line(_check(case, ["run", "--username", "demo", "--password", "x"], cwd=tmp_path))
    assert name in line
