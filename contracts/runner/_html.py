"""The HTML conformance report: one self-contained file (inline CSS and JS, nothing fetched) built with
jinja2 (autoescape on) from the same ``RunReport`` the table, JSON and JUnit reports are built from."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .._settings import active_profile
from ..contract import Contract, ContractError, load_contract
from ..rules import RULES
from ._engine import RuleResult, RunConfig, RunReport
from ._html_evidence import MASK, EvidenceItem, Limits, Masker, evidence, trim
from ._html_sources import SourcePart, SpecExcerpts

__all__ = ["STATUS_LABELS", "RunInfo", "html_page", "render_html", "write_html"]

PAGE_BUDGET = 1024 * 1024  # bytes; a page over it is rendered again with every embedded text shorter
_SHRINK = (1.0, 0.5, 0.25, 0.1, 0.04)
LEFT_BEHIND_SHOWN = 500  # items cleanup could not delete listed on the page (scaled down with the rest)
STATUS_ORDER = ("failed", "not_run", "skipped", "not_applicable", "passed")
STATUS_LABELS: Mapping[str, str] = {
    "failed": "Failed",
    "not_run": "Not run",
    "skipped": "Skipped",
    "not_applicable": "Not applicable",
    "passed": "Passed",
}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("contracts.runner", "templates"),
        autoescape=True,  # every spec string and server answer is hostile input
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    loader = _environment().loader
    assert loader is not None
    source, _, _ = loader.get_source(_environment(), name)
    return source


def html_page(template: str, **context: Any) -> str:
    """Render ``template`` with the shared stylesheet and script inlined. The page's Content-Security-Policy
    forbids every fetch and allows only this script (by hash), so even a missed escape could not run code."""
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    return (
        _environment()
        .get_template(template)
        .render(
            csp=csp,
            style=Markup(_asset("report.css")),
            script=Markup(script),
            labels=STATUS_LABELS,
            **context,
        )
    )


@dataclass(frozen=True)
class RunInfo:
    """The facts of a run the page header shows; none of them holds a secret."""

    target: str
    spec_title: str
    spec_version: str
    spec_sha256: str
    spec_file: str
    dialect: str
    seed: int
    profile: str
    started: datetime
    duration_s: float

    @classmethod
    def of(cls, report: RunReport, config: RunConfig | None, contract: Contract | None) -> RunInfo:
        try:
            profile = active_profile(config.profile if config else None).name
        except ValueError:
            profile = (config.profile if config else None) or "?"
        return cls(
            target=report.target,
            spec_title=contract.title if contract else "",
            spec_version=contract.version if contract else "",
            spec_sha256=contract.spec_sha256 if contract else "",
            spec_file=contract.spec_name if contract else "",
            dialect=contract.dialect if contract else "",
            seed=report.seed,
            profile=profile,
            started=datetime.now(UTC) - timedelta(seconds=report.duration_s),
            duration_s=report.duration_s,
        )


def _contract(config: RunConfig | None) -> Contract | None:
    """The run's contract (spec facts, dialect, x-contract excerpts); None when the spec cannot be read
    any more — the report of a finished run is written anyway, with fewer facts."""
    try:
        return load_contract(config.spec_path if config else None)
    except (ContractError, OSError):
        return None


@dataclass(frozen=True)
class RuleView:
    """One rule's section of the page."""

    index: int
    id: str
    status: str
    duration_s: float
    description: str
    sources: list[SourcePart]
    message: str
    message_cut: int
    evidence: list[EvidenceItem]
    evidence_left_out: int
    reproduction: str
    reproduction_cut: int


def _view(index: int, result: RuleResult, mask: Masker, excerpts: SpecExcerpts, limits: Limits) -> RuleView:
    message, message_cut = trim(mask(result.message), limits.message)
    reproduction, reproduction_cut = trim(mask(result.reproduction), limits.reproduction)
    failed = result.status == "failed"
    shown, left_out = evidence(result.exchanges, mask, limits) if failed else ([], 0)
    return RuleView(
        index=index,
        id=result.id,
        status=result.status,
        duration_s=result.duration_s,
        description=result.description,
        sources=excerpts.parts(result.source) if result.source else [],
        message=message,
        message_cut=message_cut,
        evidence=shown,
        evidence_left_out=left_out,
        reproduction=reproduction,
        reproduction_cut=reproduction_cut,
    )


def _not_run_view(index: int, rule_id: str, why: str, excerpts: SpecExcerpts) -> RuleView:
    """A rule an early stop or an interrupt left out: shown, counted and filterable like the others."""
    rule = next((r for r in RULES if r.id == rule_id), None)
    return RuleView(
        index=index,
        id=rule_id,
        status="not_run",
        duration_s=0.0,
        description=rule.description if rule else "",
        sources=excerpts.parts(rule.source) if rule and rule.source else [],
        message=f"not run: {why}",
        message_cut=0,
        evidence=[],
        evidence_left_out=0,
        reproduction="",
        reproduction_cut=0,
    )


@dataclass(frozen=True)
class RunEnd:
    """How the run ended (the banner next to the verdict) and what cleanup left on the target."""

    stopped: str
    interrupted: bool
    finished: int  # rules that reported a verdict
    not_run: int
    deleted: int
    left_behind: list[tuple[str, str]]  # (id, why cleanup could not delete it), masked and trimmed
    left_out: int  # items past the page's bound (the JSON report lists them all)

    @property
    def incomplete(self) -> bool:
        return bool(self.stopped) or self.interrupted

    @classmethod
    def of(cls, report: RunReport, mask: Masker, limits: Limits, factor: float) -> RunEnd:
        items = sorted(report.left_behind.items(), key=lambda kv: (len(kv[0]), kv[0]))  # 2 before 10
        shown, cut = max(20, int(LEFT_BEHIND_SHOWN * factor)), max(80, limits.message // 8)
        return cls(
            stopped=mask(report.stopped),
            interrupted=report.interrupted,
            finished=len(report.results),
            not_run=len(report.not_run),
            deleted=report.deleted,
            left_behind=[(trim(mask(pk), 200)[0], trim(mask(why), cut)[0]) for pk, why in items[:shown]],
            left_out=max(0, len(items) - shown),
        )


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def render_html(
    report: RunReport,
    *,
    config: RunConfig | None = None,
    contract: Contract | None = None,
    credentials: tuple[tuple[str, str], ...] = (),
) -> str:
    """The page for ``report``; ``credentials`` (besides the config's) are masked wherever they occur.
    Every embedded text is bounded; a page still over ``PAGE_BUDGET`` is rendered again with less."""
    contract = contract or _contract(config)
    creds = credentials + (((config.username, config.password),) if config else ())
    mask = Masker.for_credentials(creds, getattr(config, "headers", ()))
    info = RunInfo.of(report, config, contract)
    page = ""
    for factor in _SHRINK:
        excerpts = SpecExcerpts(contract.document, contract.member) if contract else SpecExcerpts(None, None)
        limits = Limits().scaled(factor)
        views = [_view(i, r, mask, excerpts, limits) for i, r in enumerate(report.results, 1)]
        why = report.stopped or "the run was interrupted (SIGINT/SIGTERM) before this rule ran"
        first = len(views) + 1
        views += [_not_run_view(i, rid, mask(why), excerpts) for i, rid in enumerate(report.not_run, first)]
        views.sort(key=lambda v: _rank(v.status))
        counts = {s: sum(v.status == s for v in views) for s in STATUS_ORDER}
        if not counts["not_run"]:  # a complete run's page shows no "0 not run"
            del counts["not_run"]
        for view in views:
            counts.setdefault(view.status, sum(v.status == view.status for v in views))
        page = html_page(
            "run.html.jinja",
            info=info,
            rules=views,
            counts=counts,
            total=len(views),
            end=RunEnd.of(report, mask, limits, factor),
            excerpts=list(excerpts.appendix()),
            mask=MASK,
        )
        if len(page.encode()) <= PAGE_BUDGET:
            break
    return page


def write_html(report: RunReport, path: str | Path, *, config: RunConfig | None = None) -> None:
    """Write the page, creating its folder (CI jobs name ``reports/...`` before anything made it)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(report, config=config), encoding="utf-8")
