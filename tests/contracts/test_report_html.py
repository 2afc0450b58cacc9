"""The HTML report of a real failing run (reference server with faults), checked in headless Chromium:
every rule row, failures first with the JSON report's reproduction, no console errors, no network,
a screenshot, the status filter, the copy button, and a 375 px viewport where nothing overflows."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_html_support import Browser, chromium, overflowing
from typer.testing import CliRunner

from orders_contract.cli import app

RUNNER = CliRunner()
MASK = "********"  # how the page masks a credential
RULES = "batch.result_order,auth.required,batch.limit,key.scope,error.shape,operation.completes"
FAULTS = {"results_reversed", "no_auth"}


class FailingRun:
    def __init__(self, folder: Path, server: Any, exit_code: int, output: str) -> None:
        self.html = folder / "reports" / "conformance.html"
        self.json = folder / "reports" / "conformance.json"
        self.server = server
        self.exit_code = exit_code
        self.output = output
        self.data: dict[str, Any] = json.loads(self.json.read_text())
        self.text = self.html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FailingRun]:
    """``orders-contract run --report-html`` against the reference server with two faults switched on."""
    from contracts.server import running_server_in_thread

    folder = tmp_path_factory.mktemp("html-run")
    with running_server_in_thread(faults=FAULTS) as server:
        result = RUNNER.invoke(
            app,
            ["run", "--base-url", server.api_url, "--username", server.username]
            + ["--password", server.password, "--owned", str(server.integrations[0])]
            + ["--rules", RULES, "--seed", "11", "--profile", "ci"]
            + ["--report-json", str(folder / "reports" / "conformance.json")]
            + ["--report-html", str(folder / "reports" / "conformance.html")],
            catch_exceptions=False,
        )
        yield FailingRun(folder, server, result.exit_code, result.output)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as opened:
        yield opened


def _statuses(run: FailingRun) -> dict[str, str]:
    return {r["id"]: r["status"] for r in run.data["rules"]}


def test_the_run_fails_on_the_faults_and_writes_both_reports(failing_run: FailingRun) -> None:
    assert failing_run.exit_code == 1, failing_run.output
    statuses = _statuses(failing_run)
    assert statuses["batch.result_order"] == "failed" and statuses["auth.required"] == "failed"
    assert statuses["batch.limit"] == "passed" and statuses["key.scope"] == "skipped"  # one --owned value
    assert statuses["operation.completes"] == "not_applicable"  # the spec processes batches synchronously


def test_the_page_is_one_small_self_contained_file(failing_run: FailingRun) -> None:
    text = failing_run.text
    assert len(text.encode()) < 1024 * 1024
    for outside in ("<link", " src=", "@import", "url(", 'href="http', "href='http", "//fonts"):
        assert outside not in text, outside
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text)
    assert csp is not None and html.unescape(csp.group(1)).startswith("default-src 'none';")


def test_credentials_are_masked_everywhere(failing_run: FailingRun) -> None:
    server = failing_run.server
    token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    json_repro = "\n".join(r["reproduction"] for r in failing_run.data["rules"])
    assert server.password in json_repro  # the JSON report keeps the runnable command ...
    assert server.password not in failing_run.text and token not in failing_run.text  # ... the page does not
    assert f"{server.username}:{MASK}" in failing_run.text


def test_in_chromium_every_rule_is_shown_failures_first_with_the_json_reproduction(
    failing_run: FailingRun, browser: Browser, tmp_path: Path
) -> None:
    with browser.open(failing_run.html) as loaded:
        page = loaded.page
        rows = page.eval_on_selector_all(
            "details.rule", "els => els.map(e => [e.dataset.rule, e.dataset.status, e.open])"
        )
        statuses = _statuses(failing_run)
        assert sorted(r[0] for r in rows) == sorted(statuses)
        assert {r[0]: r[1] for r in rows} == statuses
        order = [r[1] for r in rows]
        assert order == sorted(order, key=["failed", "skipped", "not_applicable", "passed"].index)
        assert all(r[2] == (r[1] == "failed") for r in rows)  # failures are open, the rest folded
        for rule in failing_run.data["rules"]:
            if rule["status"] != "failed":
                continue
            section = page.locator(f'details.rule[data-rule="{rule["id"]}"]')
            shown = section.locator("pre.reproduction").text_content()
            assert shown == rule["reproduction"].replace(failing_run.server.password, MASK)
            assert section.locator(".why-failed .text").text_content() == rule["message"]
            assert section.locator("ol.evidence > li").count() >= 1
            assert section.locator("button.copy").is_visible()
        assert page.locator("[data-fact=seed]").text_content() == "11"
        assert page.locator("[data-fact=target]").text_content() == failing_run.server.api_url
        assert page.locator("[data-fact=profile]").text_content() == "ci"
        assert page.locator("[data-verdict=failed]").is_visible()
        broken = page.eval_on_selector_all(
            ".broken a", "els => els.map(a => document.querySelector(a.getAttribute('href')).dataset.rule)"
        )
        assert broken == [r[0] for r in rows if r[1] == "failed"]  # the header lists each broken promise
        bar = page.locator(".bar .seg")
        assert bar.count() == 4  # failed, skipped, not applicable, passed
        page.screenshot(path=str(tmp_path / "failing-run.png"), full_page=True)
        assert (tmp_path / "failing-run.png").stat().st_size > 10_000
        assert loaded.console_errors == []
        assert loaded.foreign_requests() == []


def test_sources_link_to_spec_excerpts_in_the_page(failing_run: FailingRun, browser: Browser) -> None:
    with browser.open(failing_run.html) as loaded:
        links = loaded.page.eval_on_selector_all("a.src", "els => els.map(e => e.getAttribute('href'))")
        assert links, "no rule source links into the spec excerpts"
        for href in links:
            assert href.startswith("#src-")
            assert loaded.page.locator(f"section.excerpt{href} pre").count() == 1
        assert loaded.foreign_requests() == []


def test_the_status_filter_hides_and_shows_rules(failing_run: FailingRun, browser: Browser) -> None:
    with browser.open(failing_run.html) as loaded:
        page = loaded.page
        passed = page.locator('details.rule[data-status="passed"]')
        failed = page.locator('details.rule[data-status="failed"]')
        assert passed.first.is_visible() and failed.first.is_visible()
        page.click('button[data-filter="passed"]')
        assert not passed.first.is_visible() and failed.first.is_visible()
        assert page.get_attribute('button[data-filter="passed"]', "aria-pressed") == "false"
        for status in ("failed", "skipped", "not_applicable"):
            page.click(f'button[data-filter="{status}"]')
        assert page.locator(".none-shown").is_visible()
        page.click('button[data-filter="passed"]')
        assert passed.first.is_visible() and not failed.first.is_visible()
        assert loaded.console_errors == []


def test_the_copy_button_copies_or_selects_without_console_errors(
    failing_run: FailingRun, browser: Browser
) -> None:
    with browser.open(failing_run.html) as loaded:
        page = loaded.page
        button = page.locator("button.copy").first
        button.click()
        note = button.locator("xpath=..").locator(".copied")
        page.wait_for_function("el => el.textContent.length > 0", arg=note.element_handle())
        said = note.text_content() or ""
        assert said == "Copied." or said.startswith("Selected")
        if said.startswith("Selected"):  # no clipboard here: the reproduction is selected instead
            selected = page.evaluate("() => window.getSelection().toString()")
            assert selected == page.locator("pre.reproduction").first.text_content()
        # a page where the clipboard API is missing falls back quietly as well
        page.evaluate("() => Object.defineProperty(navigator, 'clipboard', {value: undefined})")
        button.click()
        page.wait_for_timeout(100)
        assert loaded.console_errors == []


def test_a_phone_wide_viewport_never_scrolls_sideways(failing_run: FailingRun, browser: Browser) -> None:
    with browser.open(failing_run.html, width=375, height=800) as loaded:
        page = loaded.page
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        found = overflowing(page)
        assert found["scroll"] <= found["width"], found
        assert found["wide"] == [], found
        assert loaded.console_errors == []


def test_conformance_writes_the_html_report_too(tmp_path: Path) -> None:
    page = tmp_path / "out" / "conformance.html"
    result = RUNNER.invoke(
        app,
        ["conformance", "--rules", "batch.limit", "--seed", "2", "--report-html", str(page)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert 'data-verdict="passed"' in text and 'data-rule="batch.limit"' in text


def test_an_unwritable_html_report_is_one_error_line(failing_run: FailingRun, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    server = failing_run.server
    result = RUNNER.invoke(
        app,
        ["run", "--base-url", server.api_url, "--username", server.username, "--password", server.password]
        + ["--owned", str(server.integrations[0]), "--rules", "batch.limit", "--seed", "1"]
        + ["--report-html", str(blocker / "r.html")],
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: cannot write the report:")


def test_a_run_stopped_by_exitfirst_shows_its_banner_and_filters_not_run_rules(
    failing_run: FailingRun, browser: Browser, tmp_path: Path
) -> None:
    """A real ``run -x`` against the faulty server: the page says why it stopped, lists the rules the stop
    left out as "not run" (the JSON report's ``not_run``), and the status filter hides and shows them."""
    server = failing_run.server
    page_path, json_path = tmp_path / "stopped.html", tmp_path / "stopped.json"
    result = RUNNER.invoke(
        app,
        ["run", "--base-url", server.api_url, "--username", server.username, "--password", server.password]
        + ["--owned", str(server.integrations[0]), "--rules", RULES, "--seed", "11", "--profile", "ci", "-x"]
        + ["--report-json", str(json_path), "--report-html", str(page_path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output
    data = json.loads(json_path.read_text())
    assert data["stopped"].startswith("stopped after 1 failed rule") and data["not_run"], data
    with browser.open(page_path, width=375, height=800) as loaded:
        page = loaded.page
        banner = page.locator("[data-banner=stopped]")
        assert banner.is_visible() and data["stopped"] in (banner.text_content() or "")
        not_run = page.locator('details.rule[data-status="not_run"]')
        shown = not_run.evaluate_all("els => els.map(e => e.dataset.rule)")
        assert sorted(shown) == sorted(data["not_run"])
        assert page.locator("[data-count=not_run]").text_content() == str(len(data["not_run"]))
        assert not_run.first.is_visible()
        page.click('button[data-filter="not_run"]')
        assert not not_run.first.is_visible()
        assert page.locator('details.rule[data-status="failed"]').first.is_visible()
        found = overflowing(page)
        assert found["scroll"] <= found["width"], found
        assert loaded.console_errors == [] and loaded.foreign_requests() == []
