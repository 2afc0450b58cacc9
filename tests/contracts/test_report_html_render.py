"""The HTML report without a browser: masking, trimming, the size bound, and sources linked to excerpts."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import pytest

from contracts.contract import load_contract
from contracts.rules import RULES, Exchange
from contracts.runner import RuleResult, RunConfig, RunReport, render_html

PASSWORD = "hunter2-secret"
CONFIG = RunConfig(base_url="http://127.0.0.1:9/api/v3", username="demo", password=PASSWORD, owned=(7,))


def _exchange(i: int, size: int) -> Exchange:
    body = json.dumps([{"order_id": f"o-{i}-{n}", "note": "x" * 50} for n in range(size)]).encode()
    return Exchange(
        method="POST",
        url="http://127.0.0.1:9/api/v3/orders",
        body=body,
        auth=("demo", PASSWORD),
        headers=(("Authorization", "Basic " + base64.b64encode(b"demo:" + PASSWORD.encode()).decode()),),
        status=400,
        response_text="y" * (size * 60),
    )


def test_a_worst_case_run_stays_under_one_mebibyte() -> None:
    """Every rule fails with long messages, huge bodies and many exchanges: the page stays bounded."""
    results = [
        RuleResult(
            id=rule.id,
            status="failed",
            duration_s=1.0,
            message="m" * 50_000,
            reproduction=("curl -u 'demo:" + PASSWORD + "' ...\n") * 20_000,
            description=rule.description,
            source=rule.source,
            exchanges=[_exchange(i, 300) for i in range(12)],
        )
        for rule in RULES
    ]
    text = render_html(RunReport("http://127.0.0.1:9/api/v3", 1, results, 10.0), config=CONFIG)
    assert len(text.encode()) < 1024 * 1024
    assert PASSWORD not in text
    assert text.count('<details class="rule') == len(RULES)
    assert "more characters of this reproduction" in text
    assert "earlier requests left out" in text


def test_credentials_and_their_basic_token_are_masked_in_evidence() -> None:
    token = base64.b64encode(f"demo:{PASSWORD}".encode()).decode()
    exchange = Exchange(
        method="GET",
        url=f"http://127.0.0.1:9/api/v3/orders?echo={PASSWORD}",
        body=None,
        auth=("demo", PASSWORD),
        headers=(("Authorization", "Basic bm90OnRoaXM="), ("X-Echo", token)),
        status=200,
        response_text=json.dumps({"you_sent": PASSWORD, "token": token}),
    )
    result = RuleResult("auth.required", "failed", 0.1, message=f"the server echoed {PASSWORD}")
    result.exchanges = [exchange]
    text = render_html(RunReport("http://127.0.0.1:9/api/v3", 1, [result], 0.1), config=CONFIG)
    assert PASSWORD not in text and token not in text and "bm90OnRoaXM=" not in text
    assert text.count("********") >= 4


def test_rule_sources_link_to_excerpts_of_the_contract_and_the_spec() -> None:
    contract = load_contract()
    source = "seed 001: 'up to 100 orders'; x-contract.batch.max_items; spec: ErrorResponse, upsertOrders"
    result = RuleResult("batch.limit", "passed", 0.1, description="d", source=source)
    text = render_html(RunReport("http://x.invalid", 1, [result], 0.1), contract=contract)
    titles = re.findall(r'<a class="src" href="#(src-\d+)">([^<]+)</a>', text)
    assert [t for _, t in titles] == [
        "x-contract.batch.max_items",
        "schema ErrorResponse",
        "operation upsertOrders (POST /orders)",
    ]
    for anchor, _ in titles:
        assert f'<section class="excerpt" id="{anchor}">' in text
    assert f"max_items: {contract.batch.max_items}" in text
    assert "vendor documentation: <q>up to 100 orders</q>" in text
    assert f'data-fact="dialect">{contract.dialect}<' in text
    assert f'data-fact="sha256">{contract.spec_sha256}<' in text


def test_statuses_come_failed_first_and_an_unknown_status_is_still_shown() -> None:
    results = [
        RuleResult("a.passed", "passed", 0.1),
        RuleResult("b.na", "not_applicable", 0.0, message="the spec binds no list operation"),
        RuleResult("c.failed", "failed", 0.2, message="boom"),
        RuleResult("d.odd", "weird", 0.0),
        RuleResult("e.skipped", "skipped", 0.0, message="no foreign integration"),
    ]
    text = render_html(RunReport("http://x.invalid", 1, results, 0.3), config=CONFIG)
    order = re.findall(r'data-rule="([^"]+)" data-status', text)
    assert order == ["c.failed", "e.skipped", "b.na", "a.passed", "d.odd"]
    assert "Not applicable" in text and 'data-count="not_applicable">1<' in text
    assert 'data-count="weird">1<' in text


def test_every_rule_that_names_an_x_contract_member_links_to_its_excerpt() -> None:
    contract = load_contract()

    def exists(member: str) -> bool:
        try:
            contract.member(member)
        except KeyError:
            return False
        return True

    results = [RuleResult(r.id, "passed", 0.1, description=r.description, source=r.source) for r in RULES]
    text = render_html(RunReport("http://x.invalid", 1, results, 1.0), contract=contract)
    sections = re.split(r'<details class="rule', text)[1:]
    for rule, section in zip(RULES, sections, strict=True):
        named = re.findall(r"x-contract\.([a-z_]+(?:\.[a-z_]+)*)", rule.source)
        if any(exists(member) for member in named):  # a member this spec does not state cannot be shown
            assert 'class="src" href="#src-' in section, f"{rule.id}: {rule.source}"


def test_without_chromium_browser_tests_skip_locally_and_fail_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import report_html_support

    monkeypatch.setattr(report_html_support, "CHROMIUM_CANDIDATES", ("no-such-browser-here",))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed .*make install-browser"):
        report_html_support.chromium_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        report_html_support.chromium_path()


class _Page(HTMLParser):
    """The parts of a rendered page these tests read: elements by attribute, with their text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self._open: list[list[str]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "br", "input", "link"):
            return
        texts: list[str] = []
        self.elements.append((tag, {k: v or "" for k, v in attrs}, texts))
        self._open.append(texts)

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for texts in self._open:
            texts.append(data)

    def find(self, attr: str, value: str | None = None) -> list[tuple[str, dict[str, str], str]]:
        return [
            (tag, attrs, " ".join("".join(texts).split()))
            for tag, attrs, texts in self.elements
            if attr in attrs and (value is None or attrs[attr] == value)
        ]

    def text(self, attr: str, value: str) -> str:
        (found,) = self.find(attr, value)
        return found[2]


def _ended_early(**fields: object) -> RunReport:
    results = [
        RuleResult("batch.limit", "passed", 0.2),
        RuleResult("auth.required", "failed", 0.1, message="answered 200 without credentials"),
    ]
    report = RunReport("http://127.0.0.1:9/api/v3", 5, results, 1.5)
    for name, value in fields.items():
        setattr(report, name, value)
    return report


def test_a_stopped_run_has_a_banner_and_its_not_run_rules_counted_and_filterable() -> None:
    why = "stopped after 1 failed rule(s) (--max-failures 1)"
    left = [r.id for r in RULES if r.id not in ("batch.limit", "auth.required")][:3]
    page = _Page(render_html(_ended_early(stopped=why, not_run=left), config=CONFIG))
    assert page.text("data-banner", "stopped") == f"Stopped early: {why}; 3 rules not run."
    assert page.find("data-banner", "interrupted") == [] and page.find("id", "left-behind") == []
    assert page.find("data-verdict", "failed")  # a broken promise stays the verdict; the banner adds why
    assert page.text("data-count", "not_run") == "3"
    assert page.text("data-filter", "not_run") == "Not run (3)"
    rows = page.find("data-status")
    assert [a["data-rule"] for _, a, _ in rows] == ["auth.required", *left, "batch.limit"]  # failed, not run
    for _, attrs, text in rows[1:4]:
        assert attrs["data-status"] == "not_run" and f"Not run {attrs['data-rule']}" in text
        assert f"not run: {why}" in text and " s " not in text  # no time: it never ran
    described = {r.id: r.description for r in RULES}
    assert described[left[0]][:40] in rows[1][2]  # described like a rule that ran
    assert page.find("title", "3 not run") and "3 not run" in page.find("role", "img")[0][1]["aria-label"]


def test_an_interrupted_run_without_failures_is_incomplete_not_conformant() -> None:
    report = _ended_early(interrupted=True, not_run=["key.scope", "error.shape"])
    report.results = report.results[:1]  # only the passing rule finished
    text = render_html(report, config=CONFIG)
    page = _Page(text)
    assert page.find("data-verdict", "passed") == []
    assert page.text("data-verdict", "incomplete") == (
        "Incomplete: none of the 1 promise checked is broken, but 2 of 3 were not checked."
    )
    banner = page.text("data-banner", "interrupted")
    assert banner.startswith("Interrupted: a signal (SIGINT / SIGTERM) ended the run after 1 rule;")
    assert banner.endswith("2 rules did not run.")
    assert "the run was interrupted (SIGINT/SIGTERM) before this rule ran" in page.text(
        "data-rule", "key.scope"
    )
    assert "<title>INCOMPLETE" in text


def test_what_cleanup_left_behind_is_listed_with_why_escaped_and_masked() -> None:
    hostile = f'HTTP 500: <script>alert("{PASSWORD}")</script>'
    left = {"10": hostile, "2": "no answer within 3.0 s", "<img src=x onerror=alert(1)>": "HTTP 409"}
    text = render_html(_ended_early(deleted=7, left_behind=left), config=CONFIG)
    page = _Page(text)
    assert PASSWORD not in text and "<script>alert" not in text and "<img src=x" not in text
    banner = page.find("data-banner", "left-behind")[0]
    assert (
        banner[2]
        == "Cleanup could not delete 3 items this run created: see what was left behind on the target."
    )
    assert page.find("href", "#left-behind") and page.find("id", "left-behind")
    section = page.text("id", "left-behind")
    assert section.startswith("Left behind on the target Cleanup deleted 7 items this run created;")
    rows = list(
        zip([a["data-left"] for _, a, _ in page.find("data-left")], page.find("class", "why"), strict=True)
    )
    assert [(pk, why[2]) for pk, why in rows] == [
        ("2", "no answer within 3.0 s"),
        ("10", 'HTTP 500: <script>alert("********")</script>'),  # text, not markup
        ("<img src=x onerror=alert(1)>", "HTTP 409"),
    ]
    assert page.find("data-verdict", "failed") and page.find("data-banner", "stopped") == []


def test_a_complete_clean_run_shows_no_banner_no_not_run_count_and_no_cleanup_section() -> None:
    text = render_html(RunReport("http://x.invalid", 1, [RuleResult("batch.limit", "passed", 0.1)], 0.1))
    page = _Page(text)
    assert page.find("data-banner") == [] and page.find("id", "left-behind") == []
    assert page.find("data-count", "not_run") == [] and page.find("data-verdict", "passed")


def test_a_long_left_behind_list_is_bounded_and_says_how_many_more() -> None:
    left = {str(n): "HTTP 503 " + "z" * 5_000 for n in range(2_000)}
    text = render_html(_ended_early(left_behind=left), config=CONFIG)
    page = _Page(text)
    rows = page.find("data-left")
    assert 20 <= len(rows) <= 500 and rows[0][1]["data-left"] == "0"
    assert f"… and {2_000 - len(rows)} more (the JSON report lists them all)." in text
    assert "Cleanup could not delete 2000 items" in page.text("data-banner", "left-behind")
    assert len(text.encode()) < 1024 * 1024
