"""Reports of recorded violations: a rich table, a JSON file and JUnit XML (one test case per rule)."""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
from rich.console import Console
from rich.table import Table

from ._model import RULES, Violation

__all__ = [
    "ReportUnavailable",
    "fetch_report",
    "render_table",
    "report_payload",
    "write_json",
    "write_junit",
    "write_reports",
]

JSON_NAME = "client-violations.json"
JUNIT_NAME = "client-violations.junit.xml"


class ReportUnavailable(Exception):
    """The server could not be asked (down, wrong URL, not running with --check-clients)."""


def report_payload(violations: list[Violation], checked: int) -> dict[str, Any]:
    by_rule: dict[str, int] = defaultdict(int)
    for v in violations:
        by_rule[v.rule] += 1
    return {
        "checked_requests": checked,
        "count": len(violations),
        "by_rule": dict(sorted(by_rule.items())),
        "violations": [v.to_dict() for v in violations],
    }


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


def write_json(path: Path, violations: list[Violation], checked: int) -> None:
    payload = report_payload(violations, checked)
    _atomic_write(path, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())


def write_junit(path: Path, violations: list[Violation], checked: int) -> None:
    """One <testcase> per known rule (and per unknown rule seen), failing when it has violations."""
    by_rule: dict[str, list[Violation]] = defaultdict(list)
    for v in violations:
        by_rule[v.rule].append(v)
    rules = sorted(set(RULES) | set(by_rule))
    suite = ET.Element(
        "testsuite",
        name="client-conformance",
        tests=str(len(rules)),
        failures=str(sum(1 for r in rules if by_rule.get(r))),
        errors="0",
        skipped="0",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="checked_requests", value=str(checked))
    for rule in rules:
        case = ET.SubElement(suite, "testcase", classname="orders_contract.clients", name=rule)
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


def write_reports(folder: Path, violations: list[Violation], checked: int) -> tuple[Path, Path]:
    json_path, junit_path = folder / JSON_NAME, folder / JUNIT_NAME
    write_json(json_path, violations, checked)
    write_junit(junit_path, violations, checked)
    return json_path, junit_path


def render_table(console: Console, violations: list[Violation], checked: int) -> None:
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


def fetch_report(server: str, timeout: float = 10.0) -> tuple[list[Violation], int]:
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
        data = response.json()
        return [Violation.from_dict(v) for v in data["violations"]], int(data.get("checked_requests", 0))
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportUnavailable(f"{url} did not answer with a violations report ({exc})") from None
