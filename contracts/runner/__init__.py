"""Run the contract rules against a target: engine, reports (table, JSON, JUnit, HTML) and the CLI commands.

The names below are imported on first use (PEP 562): `orders-contract --help` imports ``contracts.runner.cli``
and must not pay for the engine, Hypothesis and Schemathesis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from ._interrupt import StopSignal
    from ._preflight import PreflightFailed
    from ._report import print_report, write_json, write_junit

_WHERE = {
    "STATUSES": "_engine",
    "RuleResult": "_engine",
    "RunConfig": "_engine",
    "RunReport": "_engine",
    "SuiteSession": "_engine",
    "TargetUnreachable": "_engine",
    "UsageError": "_engine",
    "run_suite": "_engine",
    "select_rules": "_engine",
    "KILLED_BY": "_faultmap",
    "html_page": "_html",
    "render_html": "_html",
    "write_html": "_html",
    "StopSignal": "_interrupt",
    "PreflightFailed": "_preflight",
    "print_report": "_report",
    "write_json": "_report",
    "write_junit": "_report",
}

__all__ = [
    "STATUSES",
    "KILLED_BY",
    "PreflightFailed",
    "RuleResult",
    "RunConfig",
    "RunReport",
    "StopSignal",
    "SuiteSession",
    "TargetUnreachable",
    "UsageError",
    "html_page",
    "print_report",
    "render_html",
    "run_suite",
    "select_rules",
    "write_html",
    "write_json",
    "write_junit",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
