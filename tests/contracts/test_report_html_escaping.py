"""Spec strings and server answers are hostile input: ``<script>``, quotes, ``</textarea>`` and unicode fed
through rule messages, descriptions, sources, evidence and a real server's answers must show as text in
Chromium, and nothing of them may run (``window.__pwned`` stays undefined)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from report_html_support import Browser, chromium

from contracts.rules import Exchange
from contracts.runner import RuleResult, RunConfig, RunReport, run_suite, write_html

HOSTILE = (
    "</textarea></pre></details><script>window.__pwned = 1</script>"
    "<img src=x onerror=\"window.__pwned = 2\"><svg onload='window.__pwned = 3'>"
    " \"double\" 'single' &amp; &lt;b&gt; {{ 7*7 }} {% raw %} ünïcödé 注文 🚀 \u202eevil\u202c"
)
PASSWORD = "s3cr3t-pässword"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as opened:
        yield opened


def _hostile_report() -> tuple[RunReport, RunConfig]:
    exchange = Exchange(
        method="POST",
        url=f"http://127.0.0.1:9/api/v3/orders?q={HOSTILE}",
        body=json.dumps([{"order_id": HOSTILE}], ensure_ascii=False).encode(),
        auth=("demo", PASSWORD),
        headers=(("X-Note", HOSTILE), ("Authorization", "Bearer top-secret-token")),
        status=400,
        response_text=json.dumps({"errors": [{"detail": HOSTILE}]}, ensure_ascii=False),
    )
    failed = RuleResult(
        id=f"evil.rule\"'<b>{HOSTILE[:20]}",
        status="failed",
        duration_s=0.5,
        message=f"answer was {HOSTILE}",
        reproduction=f"# {HOSTILE}\ncurl -u 'demo:{PASSWORD}' --data-binary '{HOSTILE}'",
        description=HOSTILE,
        source=f"x-contract.{HOSTILE}; seed 001: '{HOSTILE}'; spec: {HOSTILE}",
        exchanges=[exchange],
    )
    skipped = RuleResult(id="calm.rule", status="skipped", duration_s=0.0, message=HOSTILE, description="ok")
    config = RunConfig(base_url="http://127.0.0.1:9/api/v3", username="demo", password=PASSWORD, owned=(7,))
    return RunReport(target=f"http://127.0.0.1:9/{HOSTILE}", seed=5, results=[failed, skipped]), config


def _assert_inert(browser: Browser, page_file: Path) -> dict[str, object]:
    with browser.open(page_file) as loaded:
        page = loaded.page
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        page.wait_for_timeout(200)
        facts: dict[str, object] = page.evaluate(
            """() => ({
                pwned: typeof window.__pwned,
                scripts: document.querySelectorAll('script').length,
                injected: document.querySelectorAll('img, svg, iframe, object, embed, textarea').length,
                text: document.body.innerText,
            })"""
        )
        assert facts["pwned"] == "undefined"
        assert facts["scripts"] == 1 and facts["injected"] == 0
        assert loaded.console_errors == []
        assert loaded.foreign_requests() == []
        return facts


def test_hostile_strings_in_results_show_literally_and_run_nothing(browser: Browser, tmp_path: Path) -> None:
    report, config = _hostile_report()
    page_file = tmp_path / "hostile.html"
    write_html(report, page_file, config=config)
    raw = page_file.read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in raw and PASSWORD not in raw and "top-secret-token" not in raw
    facts = _assert_inert(browser, page_file)
    with browser.open(page_file) as loaded:
        page = loaded.page
        rule = page.locator("details.rule").first
        assert rule.get_attribute("data-rule") == report.results[0].id
        assert rule.locator(".why-failed .text").text_content() == f"answer was {HOSTILE}"
        assert rule.locator(".promise").first.text_content() == HOSTILE
        repro = rule.locator("pre.reproduction").text_content()
        assert repro == report.results[0].reproduction.replace(PASSWORD, "********")
        assert page.locator("[data-fact=target]").text_content() == report.target
        assert HOSTILE in (rule.locator("ol.evidence").text_content() or "")
    assert "注文 🚀" in str(facts["text"])


class _HostileHandler(BaseHTTPRequestHandler):
    """Answers every request 400 with an error body full of markup, a hostile header and unicode."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        body = json.dumps({"errors": [{"status": "400", "code": "x", "detail": HOSTILE}]}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Hostile", "<script>window.__pwned=9</script>")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        return


@pytest.fixture
def hostile_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_real_servers_hostile_answers_stay_text(
    browser: Browser, hostile_server: str, tmp_path: Path
) -> None:
    config = RunConfig(
        base_url=hostile_server,
        username="demo",
        password=PASSWORD,
        owned=(7,),
        rules=("batch.accepts_valid", "auth.required"),
        seed=3,
        deadline_s=60,
        profile="ci",
    )
    report = run_suite(config)
    assert [r.status for r in report.results] == ["failed", "failed"]
    page_file = tmp_path / "hostile-server.html"
    write_html(report, page_file, config=config)
    facts = _assert_inert(browser, page_file)
    assert "window.__pwned" in str(facts["text"])  # shown as text in the evidence
