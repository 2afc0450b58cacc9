"""`clients report --report-html`: real client traffic through the checking middleware (a uvicorn thread),
the page opened in headless Chromium: one section per client rule with its offending requests, the JSON
report's counts, hostile request bodies shown as text, no console errors, no network, a phone-wide view."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from clients_support import BASE, basic, body, headers, order, serve_in_thread
from typer.testing import CliRunner

from contracts.clients import CLIENT_RULES, CheckStore, ClientCheckMiddleware
from contracts.server import ServerSettings, create_app
from orders_contract.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))  # the shared browser helper
from report_html_support import Browser, chromium, overflowing  # noqa: E402

HOSTILE = "</textarea><script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned=2\"> 'q' 注文 🚀"


class Checked:
    def __init__(self, folder: Path, exit_code: int, output: str, url: str) -> None:
        self.html = folder / "clients.html"
        self.data: dict[str, Any] = json.loads((folder / "clients.json").read_text())
        self.exit_code, self.output, self.url = exit_code, output, url


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    folder = tmp_path_factory.mktemp("clients-html")
    reference = create_app(ServerSettings(db_path=str(folder / "ref.sqlite3")))
    wrapped = ClientCheckMiddleware(reference, store=CheckStore(folder / "checks.sqlite3"))
    with serve_in_thread(wrapped) as url, httpx.Client(base_url=url, timeout=10) as http:
        good = http.post(BASE + "/orders", content=body([order(0)]), headers=headers())
        assert good.status_code == 201
        http.post(BASE + "/orders/12", content=body([order(1)]), headers=headers())  # unknown operation
        http.get(BASE + "/orders", params={"page_size": "many"}, headers={"Authorization": basic()})
        hostile = json.dumps([order(2, order_id=HOSTILE, id=5)], ensure_ascii=False).encode()
        http.post(BASE + "/orders", content=hostile, headers=headers())
        http.get(BASE + "/orders")  # no credentials
        result = CliRunner().invoke(
            app,
            ["clients", "report", "--server", url, "--json", str(folder / "clients.json")]
            + ["--report-html", str(folder / "clients.html")],
            catch_exceptions=False,
        )
        yield Checked(folder, result.exit_code, result.output, url)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as opened:
        yield opened


def test_the_report_exits_1_and_the_page_has_a_section_per_rule(
    checked: Checked, browser: Browser, tmp_path: Path
) -> None:
    assert checked.exit_code == 1, checked.output
    by_rule: dict[str, int] = checked.data["by_rule"]
    assert {"client.known_operation", "client.query_params", "client.auth", "client.id_string"} <= set(
        by_rule
    )
    with browser.open(checked.html) as loaded:
        page = loaded.page
        rows = page.eval_on_selector_all(
            "details.rule", "els => els.map(e => [e.dataset.rule, e.dataset.status])"
        )
        not_applicable = set(checked.data["not_applicable"]) - set(by_rule)
        assert {r[0] for r in rows} == set(checked.data["rules"]) | set(by_rule) | not_applicable
        assert {r[0] for r in rows} <= set(CLIENT_RULES) | {"server.response_schema"}
        order = ["failed", "not_applicable", "passed"]
        assert [r[1] for r in rows] == sorted((r[1] for r in rows), key=order.index)
        assert {r[0] for r in rows if r[1] == "not_applicable"} == not_applicable
        for rule, count in by_rule.items():
            section = page.locator(f'details.rule[data-rule="{rule}"]')
            assert section.get_attribute("data-status") == "failed"
            assert section.locator("li.violation").count() == min(count, 25)
        messages = {v["message"] for v in checked.data["violations"]}
        shown = set(page.eval_on_selector_all("li.violation .text", "els => els.map(e => e.textContent)"))
        assert shown == messages
        assert page.locator("[data-fact=checked]").text_content() == str(checked.data["checked_requests"])
        assert page.evaluate("() => typeof window.__pwned") == "undefined"
        assert page.locator("img, script").count() == 1  # only the page's own script
        text = page.locator("main").text_content() or ""
        assert "</textarea><script>window.__pwned = 1</script>" in text and "注文 🚀" in text
        page.screenshot(path=str(tmp_path / "clients-report.png"), full_page=True)
        assert loaded.console_errors == []
        assert loaded.foreign_requests() == []


def test_the_clients_page_fits_a_phone(checked: Checked, browser: Browser) -> None:
    with browser.open(checked.html, width=375, height=800) as loaded:
        loaded.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        found = overflowing(loaded.page)
        assert found["scroll"] <= found["width"] and found["wide"] == [], found
        assert loaded.console_errors == []
