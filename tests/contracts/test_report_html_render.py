"""The HTML report without a browser: masking, trimming, the size bound, and sources linked to excerpts."""

from __future__ import annotations

import base64
import json
import re

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
