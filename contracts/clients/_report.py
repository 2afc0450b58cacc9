"""Reports of recorded violations: a rich table, a JSON file and JUnit XML (one test case per rule)."""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
from rich.console import Console
from rich.table import Table

from ._model import CLIENT_RULES, RULES, Violation

__all__ = [
    "Report",
    "ReportUnavailable",
    "fetch_report",
    "render_table",
    "write_html",
    "write_json",
    "write_junit",
    "write_reports",
]

JSON_NAME = "client-violations.json"
JUNIT_NAME = "client-violations.junit.xml"


class ReportUnavailable(Exception):
    """The server could not be asked (down, wrong URL, not running with --check-clients)."""


@dataclass(frozen=True)
class Report:
    """What the checks recorded: the violations, how many requests were checked, which rules ran."""

    violations: list[Violation]
    checked: int
    rules: tuple[str, ...] = field(default=tuple(CLIENT_RULES))
    not_applicable: dict[str, str] = field(default_factory=dict)  # rule -> why the spec gives it nothing
    spec: dict[str, str] = field(default_factory=dict)  # dialect, spec (file name), sha256

    def payload(self) -> dict[str, Any]:
        by_rule: dict[str, int] = defaultdict(int)
        for v in self.violations:
            by_rule[v.rule] += 1
        return {
            "spec": dict(self.spec),
            "checked_requests": self.checked,
            "rules": list(self.rules),
            "not_applicable": dict(sorted(self.not_applicable.items())),
            "count": len(self.violations),
            "by_rule": dict(sorted(by_rule.items())),
            "violations": [v.to_dict() for v in self.violations],
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Report:
        violations = [Violation.from_dict(v) for v in data["violations"]]
        rules = tuple(str(r) for r in data.get("rules") or CLIENT_RULES)
        skipped = {str(k): str(v) for k, v in (data.get("not_applicable") or {}).items()}
        spec = {str(k): str(v) for k, v in (data.get("spec") or {}).items()}
        return cls(violations, int(data.get("checked_requests", 0)), rules, skipped, spec)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, report: Report) -> None:
    _atomic_write(path, (json.dumps(report.payload(), indent=2, sort_keys=True) + "\n").encode())


def write_junit(path: Path, report: Report) -> None:
    """One <testcase> per rule that ran (and per other rule seen), failing when it has violations; a rule
    the spec gives nothing to judge is a skipped case carrying the reason."""
    by_rule: dict[str, list[Violation]] = defaultdict(list)
    for v in report.violations:
        by_rule[v.rule].append(v)
    skipped = {r: why for r, why in report.not_applicable.items() if r not in by_rule}
    rules = sorted(set(report.rules) | set(by_rule) | set(skipped))
    suite = ET.Element(
        "testsuite",
        name="client-conformance",
        tests=str(len(rules)),
        failures=str(sum(1 for r in rules if by_rule.get(r))),
        errors="0",
        skipped=str(len(skipped)),
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="checked_requests", value=str(report.checked))
    for name, value in sorted(report.spec.items()):
        ET.SubElement(props, "property", name=f"spec.{name}", value=value)
    for rule in rules:
        case = ET.SubElement(suite, "testcase", classname="orders_contract.clients", name=rule)
        if rule in skipped:
            ET.SubElement(case, "skipped", message=f"not applicable: {skipped[rule]}")
            continue
        found = by_rule.get(rule, [])
        if found:
            failure = ET.SubElement(case, "failure", message=f"{len(found)} violation(s): {found[0].message}")
            failure.text = "\n".join(
                f"{v.request.line()}  [{v.location}{' ' + v.pointer if v.pointer else ''}]  {v.message}"
                for v in found
            )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    _atomic_write(path, ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")


HTML_VIOLATIONS_PER_RULE = 25  # offending requests shown per rule (the JSON report has them all)
HTML_EXCERPT_LIMIT = 600  # characters of a request body excerpt


def write_html(path: Path, report: Report, *, server: str = "") -> None:
    """One self-contained page: a section per client rule (failed first) with its offending requests."""
    from datetime import UTC, datetime

    from ..runner import html_page

    by_rule: dict[str, list[Violation]] = defaultdict(list)
    for v in report.violations:
        by_rule[v.rule].append(v)
    not_applicable = {r: why for r, why in report.not_applicable.items() if r not in by_rule}

    def status(rule: str) -> str:
        return "failed" if by_rule.get(rule) else "not_applicable" if rule in not_applicable else "passed"

    order = ("failed", "not_applicable", "passed")
    ids = sorted(
        set(report.rules) | set(by_rule) | set(not_applicable), key=lambda r: (order.index(status(r)), r)
    )
    rules = [
        {
            "index": i,
            "id": rule,
            "status": status(rule),
            "description": RULES.get(rule, ""),
            "reason": not_applicable.get(rule, ""),
            "count": len(by_rule.get(rule, [])),
            "violations": [_html_violation(v) for v in by_rule.get(rule, [])[:HTML_VIOLATIONS_PER_RULE]],
        }
        for i, rule in enumerate(ids, 1)
    ]
    page = html_page(
        "clients.html.jinja",
        server=server,
        spec=dict(report.spec),
        checked=report.checked,
        total_violations=len(report.violations),
        rules=rules,
        counts={s: sum(r["status"] == s for r in rules) for s in order},
        shown_limit=HTML_VIOLATIONS_PER_RULE,
        generated=datetime.now(UTC),
    )
    _atomic_write(path, page.encode())


def _html_violation(v: Violation) -> dict[str, Any]:
    excerpt = v.request.body_excerpt
    cut = max(0, len(excerpt) - HTML_EXCERPT_LIMIT)
    return {
        "line": v.request.line(),
        "operation": v.request.operation_id or "",
        "identity": v.request.identity,
        "content_type": v.request.content_type,
        "body_size": v.request.body_size,
        "body_sha256": v.request.body_sha256,
        "excerpt": excerpt[:HTML_EXCERPT_LIMIT],
        "excerpt_cut": cut,
        "where": v.location + (f" {v.pointer}" if v.pointer else ""),
        "message": v.message,
    }


def write_reports(folder: Path, report: Report) -> tuple[Path, Path]:
    json_path, junit_path = folder / JSON_NAME, folder / JUNIT_NAME
    write_json(json_path, report)
    write_junit(junit_path, report)
    return json_path, junit_path


def render_table(console: Console, report: Report) -> None:
    violations, checked = report.violations, report.checked
    if report.spec.get("dialect"):
        console.print(f"spec: {report.spec.get('spec', '?')} ({report.spec['dialect']})", highlight=False)
    for rule, why in sorted(report.not_applicable.items()):
        console.print(f"not applicable: {rule} ({why})", highlight=False, markup=False)
    if not violations:
        console.print(f"[green]No violations[/green] in {checked} checked request(s).")
        return
    table = Table(title=f"{len(violations)} violation(s) in {checked} checked request(s)", show_lines=False)
    for column in ("rule", "request", "where", "message"):
        table.add_column(column, overflow="fold")
    for v in violations:
        where = v.location + (f" {v.pointer}" if v.pointer else "")
        table.add_row(v.rule, v.request.line(), where, v.message)
    console.print(table)


def fetch_report(server: str, timeout: float = 10.0) -> Report:
    """Ask a server running with client checks for what it recorded."""
    url = server.rstrip("/") + "/_contract/violations"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ReportUnavailable(f"cannot reach {url}: {exc}") from None
    if response.status_code != 200:
        raise ReportUnavailable(
            f"{url} answered {response.status_code}; "
            "is the server running with --check-clients (or is it the proxy)?"
        )
    try:
        return Report.from_payload(response.json())
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportUnavailable(f"{url} did not answer with a violations report ({exc})") from None
