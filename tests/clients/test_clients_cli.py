"""The CLI end to end: `serve --check-clients` (2 workers, scripted conflict), `clients report`, reports
written on shutdown, and the generated client producing zero violations through it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from clients_support import basic, order
from sendcloud_orders import OrdersClient

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from orders_contract.cli import main; main()"]


def _env() -> dict[str, str]:
    paths = [str(REPO), str(REPO / "generated"), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=_env(), cwd=REPO
    )


class Served:
    def __init__(self, url: str, proc: subprocess.Popen[str], folder: Path) -> None:
        self.url, self.proc, self.folder = url, proc, folder


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("cli")
    port = _free_port()
    args = [
        "serve",
        "--check-clients",
        "--port",
        str(port),
        "--workers",
        "2",
        "--db",
        str(folder / "ref.sqlite3"),
    ]
    args += ["--script", "conflict:1", "--report-dir", str(folder / "reports")]
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [*CLI, *args], stdout=log, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=folder
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (folder / "server.log").read_text()
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve --check-clients did not start"
            time.sleep(0.05)
        yield Served(url, proc, folder)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.close()


def test_generated_client_through_serve_check_clients_has_no_violations(served: Served) -> None:
    calls: list[str] = []
    http = httpx.Client(timeout=30, event_hooks={"request": [lambda r: calls.append(r.method)]})
    with OrdersClient(served.url + "/api/v3", username="demo", password="demo-secret", http_client=http) as c:
        created = c.upsert_orders([order(0), order(1)]).data  # first answer: the scripted conflict
        assert len(calls) == 2
        c.update_order(created[0].id, {"order_number": "CLI-1"})
        assert c.get_order(created[0].id).data.order_number == "CLI-1"
        assert c.list_orders(integration=[7], page_size=5).data
        c.delete_order(created[1].id)
    report = cli("clients", "report", "--server", served.url, "--json", str(served.folder / "clean.json"))
    assert report.returncode == 0, report.stdout + report.stderr
    assert "No violations" in report.stdout
    data = json.loads((served.folder / "clean.json").read_text())
    assert data["count"] == 0 and data["checked_requests"] == 6


def test_report_lists_violations_and_exits_1(served: Served) -> None:
    httpx.post(served.url + "/api/v3/orders/5", headers={"Authorization": basic()}, timeout=10)
    httpx.get(served.url + "/api/v3/orders?integration[0]=7", headers={"Authorization": basic()}, timeout=10)
    junit = served.folder / "report.xml"
    report = cli("clients", "report", "--server", served.url, "--junit-xml", str(junit))
    assert report.returncode == 1, report.stdout + report.stderr
    assert "client.known_operation" in report.stdout and "client.query_params" in report.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2"


def test_report_on_an_unreachable_server_exits_2() -> None:
    report = cli("clients", "report", "--server", f"http://127.0.0.1:{_free_port()}")
    assert report.returncode == 2 and "cannot reach" in report.stderr


def test_bad_script_flag_is_one_clear_line(tmp_path: Path) -> None:
    result = cli(
        "serve", "--script", "teapot:2", "--db", str(tmp_path / "x.sqlite3"), "--port", str(_free_port())
    )
    assert result.returncode == 2
    assert "unknown answer 'teapot'" in result.stderr and "Traceback" not in result.stderr


def test_reports_are_written_when_the_server_stops(served: Served) -> None:
    served.proc.send_signal(signal.SIGTERM)
    served.proc.wait(20)
    out = (served.folder / "server.log").read_text()
    assert "violation(s)" in out, out
    data = json.loads((served.folder / "reports" / "client-violations.json").read_text())
    assert data["by_rule"] == {"client.known_operation": 1, "client.query_params": 1}
    assert (served.folder / "reports" / "client-violations.junit.xml").exists()


def test_proxy_command_forwards_and_reports(tmp_path: Path) -> None:
    from contracts.server import running_server_in_thread

    port = _free_port()
    with running_server_in_thread() as upstream:
        args = [
            "proxy",
            "--upstream",
            upstream.base_url,
            "--port",
            str(port),
            "--store",
            str(tmp_path / "p.sqlite3"),
        ]
        log = (tmp_path / "proxy.log").open("w")
        proc = subprocess.Popen([*CLI, *args], stdout=log, stderr=subprocess.STDOUT, text=True, env=_env())
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, (tmp_path / "proxy.log").read_text()
                try:
                    httpx.get(url + "/_contract/violations", timeout=1)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "proxy did not start"
                    time.sleep(0.05)
            answer = httpx.get(url + "/api/v3/orders/abc", headers={"Authorization": basic()}, timeout=10)
            direct = httpx.get(
                upstream.api_url + "/orders/abc", headers={"Authorization": basic()}, timeout=10
            )
            assert (answer.status_code, answer.content) == (direct.status_code, direct.content)
            junit = tmp_path / "proxy.xml"
            report = cli("clients", "report", "--server", url, "--junit-xml", str(junit))
            assert report.returncode == 1 and "client.id_string" in report.stdout
            names = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
            assert len(names) == 12 and "server.response_schema" in names  # the proxy checks answers too
            cases = ET.parse(junit).getroot().iter("testcase")
            skipped = {c.get("name") for c in cases if c.find("skipped") is not None}
            assert skipped == {"client.poll_interval", "client.resubmit_running"}  # a synchronous spec
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
            log.close()


def test_proxy_refuses_a_non_http_upstream() -> None:
    result = cli("proxy", "--upstream", "ftp://example.test")
    assert result.returncode == 2 and "must be an http:// or https:// URL" in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_single_worker_serve_writes_reports_when_stopped(tmp_path: Path, stop: signal.Signals) -> None:
    port = _free_port()
    args = ["serve", "--check-clients", "--port", str(port), "--db", str(tmp_path / "ref.sqlite3")]
    args += ["--report-dir", str(tmp_path / "reports")]
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [*CLI, *args], stdout=log, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        httpx.delete(
            f"http://127.0.0.1:{port}/api/v3/orders/abc", headers={"Authorization": basic()}, timeout=10
        )
    finally:
        proc.send_signal(stop)
        try:
            code = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        log.close()
    out = (tmp_path / "serve.log").read_text()
    assert code == 0 and "1 violation(s) in 1 checked request(s)" in out, out
    data = json.loads((tmp_path / "reports" / "client-violations.json").read_text())
    assert data["by_rule"] == {"client.id_string": 1}
