"""Run the contract rules against a target: engine, reports (table, JSON, JUnit) and the CLI commands."""

from __future__ import annotations

from ._engine import (
    STATUSES,
    RuleResult,
    RunConfig,
    RunReport,
    SuiteSession,
    TargetUnreachable,
    UsageError,
    run_suite,
    select_rules,
)
from ._faultmap import KILLED_BY
from ._html import html_page, render_html, write_html
from ._report import print_report, write_json, write_junit

__all__ = [
    "STATUSES",
    "RuleResult",
    "RunConfig",
    "KILLED_BY",
    "RunReport",
    "SuiteSession",
    "TargetUnreachable",
    "UsageError",
    "print_report",
    "run_suite",
    "select_rules",
    "html_page",
    "render_html",
    "write_html",
    "write_json",
    "write_junit",
]
