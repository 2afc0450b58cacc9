"""The CLI end to end: `serve --check-clients` (2 workers, scripted conflict), `clients report`, reports
written on shutdown, and the generated client producing zero violations through it."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from cli_support import cli, free_port, started
from clients_support import basic, order
from sendcloud_orders import OrdersClient


class Served:
    def __init__(self, url: str, proc: subprocess.Popen[str], folder: Path) -> None:
        self.url, self.proc, self.folder = url, proc, folder


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("cli")
    port = free_port()
    args = ["serve", "--check-clients", "--port", str(port), "--workers", "2"]
    args += ["--db", str(folder / "ref.sqlite3")]
    args += ["--script", "conflict:1", "--report-dir", str(folder / "reports")]
    url = f"http://127.0.0.1:{port}"
    with started(args, folder, url + "/health") as proc:
        yield Served(url, proc, folder)


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
    report = cli("clients", "report", "--server", f"http://127.0.0.1:{free_port()}")
    assert report.returncode == 2 and "cannot reach" in report.stderr


def test_bad_script_flag_is_one_clear_line(tmp_path: Path) -> None:
    result = cli(
        "serve", "--script", "teapot:2", "--db", str(tmp_path / "x.sqlite3"), "--port", str(free_port())
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

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_server_in_thread() as upstream:
        args = ["proxy", "--upstream", upstream.base_url, "--port", str(port)]
        args += ["--store", str(tmp_path / "p.sqlite3")]
        with started(args, tmp_path, url + "/_contract/violations", log_name="proxy.log"):
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


def test_proxy_refuses_a_non_http_upstream() -> None:
    result = cli("proxy", "--upstream", "ftp://example.test")
    assert result.returncode == 2 and "must be an http:// or https:// URL" in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_single_worker_serve_writes_reports_when_stopped(tmp_path: Path, stop: signal.Signals) -> None:
    port = free_port()
    args = ["serve", "--check-clients", "--port", str(port), "--db", str(tmp_path / "ref.sqlite3")]
    args += ["--report-dir", str(tmp_path / "reports")]
    url = f"http://127.0.0.1:{port}"
    with started(args, tmp_path, url + "/health", log_name="serve.log", stop=stop) as proc:
        httpx.delete(url + "/api/v3/orders/abc", headers={"Authorization": basic()}, timeout=10)
    code = proc.returncode
    out = (tmp_path / "serve.log").read_text()
    assert code == 0 and "1 violation(s) in 1 checked request(s)" in out, out
    data = json.loads((tmp_path / "reports" / "client-violations.json").read_text())
    assert data["by_rule"] == {"client.id_string": 1}
