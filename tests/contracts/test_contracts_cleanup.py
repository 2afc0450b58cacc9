"""Cleanup on a broken server: what the run created is deleted when the server lets it, bounded in time
when it does not, and the report names what was left behind and why."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from contracts.server import running_server_in_thread
from orders_contract.cli import app

RUNNER = CliRunner()


class _Forward(BaseHTTPRequestHandler):
    """Forwards every request to the upstream reference server, except DELETE, which never answers."""

    upstream = ""
    stop = threading.Event()

    def _any(self) -> None:
        if self.command == "DELETE":
            self.stop.wait(20)  # bounded: ends with the fixture
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        reply = httpx.request(
            self.command, self.upstream + self.path, content=body, headers=headers, timeout=20
        )
        self.send_response(reply.status_code)
        for name, value in reply.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def delete_hangs() -> Iterator[tuple[str, Any]]:
    with running_server_in_thread() as server:
        stop = threading.Event()
        handler = type("Forward", (_Forward,), {"upstream": server.base_url, "stop": stop})
        proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        proxy.daemon_threads = True
        thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{proxy.server_port}/api/v3", server
        finally:
            stop.set()
            proxy.shutdown()
            proxy.server_close()


def test_a_server_that_hangs_on_delete_costs_one_timeout_and_the_report_says_what_is_left(
    delete_hangs: tuple[str, Any], tmp_path: Path
) -> None:
    url, server = delete_hangs
    report = tmp_path / "r.json"
    started = time.monotonic()
    result = RUNNER.invoke(
        app,
        ["run", "--base-url", url, "--username", server.username, "--password", server.password]
        + ["--owned", "7", "--rules", "batch.accepts_valid,batch.result_order,upsert.key"]
        + ["--request-timeout", "1", "--seed", "5", "--report-json", str(report)],
        catch_exceptions=False,
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output  # the rules passed: cleanup is not a rule
    data = json.loads(report.read_text())
    left = data["cleanup"]["left_behind"]
    assert left and all("got no answer" in item["reason"] for item in left)
    assert elapsed < 15  # one DELETE timeout per cleanup attempt, not one per item and rule
    lines = [line for line in result.output.splitlines() if line.startswith("cleanup:")]
    assert len(lines) == 1 and f"could not delete {len(left)} item(s)" in lines[0]


@pytest.mark.parametrize(
    ("faults", "code"),
    [(set(), 0), ({"no_auth"}, 1), ({"partial_commit", "foreign_owned_accepted"}, 1)],
    ids=["healthy", "no-auth", "stores-what-it-refuses"],
)
def test_a_run_leaves_nothing_behind(faults: set[str], code: int, tmp_path: Path) -> None:
    """Also when the server stores what it should refuse (the issue: auth.required left an order)."""
    with running_server_in_thread(faults=faults) as server:
        report = tmp_path / "r.json"
        result = RUNNER.invoke(
            app,
            [
                "run",
                "--base-url",
                server.api_url,
                "--username",
                server.username,
                "--password",
                server.password,
            ]
            + ["--owned", "7", "--rules", "batch.accepts_valid,batch.atomic,auth.required,ownership.enforced"]
            + ["--seed", "5", "--report-json", str(report)],
            catch_exceptions=False,
        )
        assert result.exit_code == code, result.output
        listed = httpx.get(
            server.api_url + "/orders", params={"page_size": "100"}, auth=(server.username, server.password)
        )
        assert listed.status_code == 200 and listed.json()["data"] == []
    assert json.loads(report.read_text())["cleanup"]["left_behind"] == []
