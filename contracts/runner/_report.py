"""Render a run: a rich table (rule, status, time, first failure message) plus reproductions, JSON, JUnit."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._engine import STATUSES, RunReport

__all__ = ["print_report", "summary_line", "write_json", "write_junit"]

_STYLE = {"passed": "green", "failed": "bold red", "skipped": "yellow", "not_applicable": "dim"}
_LABEL = {"not_applicable": "n/a"}


def print_report(report: RunReport, console: Console) -> None:
    """The one table of a run (fits 80 columns), the reproductions of failures, why the run stopped early,
    what cleanup left behind, and one summary line."""
    table = Table(
        title=escape(f"Contract suite against {report.target} (seed {report.seed})"),
        title_justify="left",
        width=min(console.width, 100),
    )
    table.add_column("rule", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("first failure / reason", overflow="fold", ratio=1)
    for result in report.results:
        style = _STYLE.get(result.status, "")
        table.add_row(
            result.id,
            f"[{style}]{_LABEL.get(result.status, result.status)}[/]",
            f"{result.duration_s:.1f}s",
            escape(result.message),
        )
    if report.results:
        console.print(table)
    for result in report.results:
        if result.status == "failed" and result.reproduction:
            console.rule(f"[bold red]{escape(result.id)}[/] — reproduction", align="left")
            console.print(result.reproduction, markup=False, highlight=False, soft_wrap=True)
    for line in _epilogue(report):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(summary_line(report), markup=False, highlight=False)


def _epilogue(report: RunReport) -> list[str]:
    lines = []
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    if report.not_run:
        lines.append(f"not run ({len(report.not_run)}): {', '.join(report.not_run)}")
    by_reason: dict[str, list[str]] = {}
    for pk, reason in report.left_behind.items():
        by_reason.setdefault(reason, []).append(pk)
    for reason, ids in by_reason.items():
        ids.sort(key=lambda pk: (len(pk), pk))  # 2 before 10
        shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
        lines.append(f"cleanup: could not delete {len(ids)} item(s) this run created ({reason}): {shown}")
    return lines


def summary_line(report: RunReport) -> str:
    """One line under 80 columns: counts, time, seed; "interrupted" when a signal ended the run."""
    counts = {s: sum(r.status == s for r in report.results) for s in STATUSES}
    parts = [f"{counts['passed']} passed", f"{counts['failed']} failed"]
    parts += [f"{counts['skipped']} skipped"] if counts["skipped"] else []
    parts += [f"{counts['not_applicable']} not applicable"] if counts["not_applicable"] else []
    line = f"{', '.join(parts)} in {report.duration_s:.1f}s (--seed {report.seed})"
    return f"interrupted: {line}" if report.interrupted else line


def _write(path: str | Path, text: str) -> None:
    """Write a report, creating its folder (CI jobs name ``reports/...`` before anything made it)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def write_json(report: RunReport, path: str | Path) -> None:
    _write(path, json.dumps(report.to_json(), indent=2) + "\n")


def write_junit(report: RunReport, path: str | Path) -> None:
    """One ``testcase`` per rule; failures carry the message and the reproduction; rules an early stop or
    an interrupt left out are skipped test cases saying why."""
    failures = sum(r.status == "failed" for r in report.results)
    skipped = sum(r.status in ("skipped", "not_applicable") for r in report.results) + len(report.not_run)
    suite = ET.Element(
        "testsuite",
        name="orders-contract",
        tests=str(len(report.results) + len(report.not_run)),
        failures=str(failures),
        skipped=str(skipped),
        errors="0",
        time=f"{report.duration_s:.3f}",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="seed", value=str(report.seed))
    for result in report.results:
        case = ET.SubElement(
            suite, "testcase", classname="orders-contract", name=result.id, time=f"{result.duration_s:.3f}"
        )
        if result.status == "failed":
            node = ET.SubElement(case, "failure", message=result.message)
            node.text = result.reproduction or result.message
        elif result.status == "skipped":
            ET.SubElement(case, "skipped", message=result.message)
        elif result.status == "not_applicable":
            ET.SubElement(case, "skipped", type="not_applicable", message=f"not applicable: {result.message}")
    why = report.stopped or ("interrupted" if report.interrupted else "")
    for rule_id in report.not_run:
        case = ET.SubElement(suite, "testcase", classname="orders-contract", name=rule_id, time="0.000")
        ET.SubElement(case, "skipped", type="not_run", message=f"not run: {why}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    _write(path, ET.tostring(root, encoding="unicode") + "\n")
