"""Karrio end to end through the CLI: `serve --spec karrio-batch-orders --check-clients --workers 2` (the
real reference server with its background worker; what one worker process saw of an operation is judged in
the other through the shared check store), the generated `karrio_batches` client, `clients report --spec`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from cli_support import cli, free_port, started
from karrio_batches import KarrioBatchesClient
from karrio_support import BATCH, OPERATIONS, SPEC, batch, karrio_order

SPEC_FILE = "spec/karrio-batch-orders.yaml"
TOKEN = {"Authorization": "Token demo-secret"}  # the demo account of the reference server


class Served:
    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder

    def report(self, *extra: str) -> tuple[int, str, dict[str, object]]:
        out = self.folder / "report.json"
        result = cli("clients", "report", "--server", self.url, "--json", str(out), *extra)
        data = json.loads(out.read_text()) if result.returncode != 2 else {}
        return result.returncode, result.stdout + result.stderr, data


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("karrio-cli")
    port = free_port()
    args = ["serve", "--spec", SPEC, "--check-clients", "--port", str(port), "--workers", "2"]
    args += ["--db", str(folder / "karrio.sqlite3"), "--processing-delay", "0.3"]
    args += ["--report-dir", str(folder / "reports")]
    url = f"http://127.0.0.1:{port}"
    with started(args, folder, url + "/health"):
        yield Served(url, folder)


def test_the_generated_client_waits_properly_and_has_no_violations(served: Served) -> None:
    with KarrioBatchesClient(served.url, api_key="demo-secret") as client:
        done = client.create_order_batch_and_wait(
            {"orders": [karrio_order(0), karrio_order(1)]}, poll_interval=0.3, timeout=30
        )
        assert done.status == "completed" and len(done.resources) == 2
    code, out, data = served.report("--spec", SPEC_FILE)
    assert code == 0, out
    assert "No violations" in out and "not applicable: client.conflict_backoff" in out
    assert data["count"] == 0 and data["spec"] == {
        "dialect": SPEC,
        "spec": "karrio-batch-orders.yaml",
        "sha256": data["spec"]["sha256"],  # type: ignore[index]
    }


def test_a_busy_poller_a_resubmitter_and_basic_auth_are_reported(served: Served) -> None:
    httpx.delete(served.url + "/_contract/violations")
    data = batch(karrio_order(7))
    with httpx.Client(base_url=served.url, timeout=10) as http:
        sent = {**TOKEN, "Content-Type": "application/json"}
        operation = http.post(BATCH, content=data, headers=sent).json()["id"]
        http.post(BATCH, content=data, headers=sent)  # again, before the first one is done
        for _ in range(3):
            http.get(f"{OPERATIONS}/{operation}", headers=TOKEN)
        http.get("/v1/orders", headers={"Authorization": "Basic ZGVtbzpkZW1vLXNlY3JldA=="})
    junit = served.folder / "busy.xml"
    code, out, report = served.report("--spec", SPEC, "--junit-xml", str(junit))
    assert code == 1, out
    by_rule = report["by_rule"]
    assert isinstance(by_rule, dict) and set(by_rule) == {
        "client.resubmit_running",
        "client.poll_interval",
        "client.auth",
    }
    assert by_rule["client.poll_interval"] >= 1 and by_rule["client.resubmit_running"] == 1
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    skipped = {c.get("name") for c in cases if c.find("skipped") is not None}
    assert skipped == {"client.conflict_backoff"}


def test_a_report_for_another_spec_is_refused(served: Served) -> None:
    code, out, _ = served.report("--spec", "sendcloud-orders-v3")
    assert code == 2 and "judge by karrio-batch-orders.yaml, not sendcloud-orders-v3.yaml" in out
    code, out, _ = served.report("--spec", "no-such-spec.yaml")
    assert code == 2 and out.startswith("error: ") and "Traceback" not in out


def test_a_conflict_cannot_be_scripted_for_a_spec_without_one(tmp_path: Path) -> None:
    args = ["serve", "--spec", SPEC, "--script", "conflict:1", "--port", str(free_port())]
    result = cli(*args, "--db", str(tmp_path / "k.sqlite3"))
    assert result.returncode == 2 and "no conflict answer" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--spec", "no-such-spec.yaml"], "cannot read spec no-such-spec.yaml"),
        (["--spec", SPEC, "--min-poll-interval", "nan"], "--min-poll-interval must be between"),
        (["--spec", SPEC, "--script", "conflict:1"], "no conflict answer"),
    ],
)
def test_the_proxy_refuses_bad_options_in_one_line(extra: list[str], expected: str) -> None:
    result = cli("proxy", "--upstream", "http://127.0.0.1:9", "--port", str(free_port()), *extra)
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
