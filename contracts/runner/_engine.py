"""Run selected rules against one target within a deadline and collect one result per rule."""

from __future__ import annotations

import secrets
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from .._settings import active_profile
from ..rules import (
    RULES,
    Api,
    Interrupted,
    Rule,
    RuleContext,
    RuleFailed,
    RuleNotApplicable,
    RuleSkipped,
    TargetError,
    cleanup,
    render_reproduction,
)
from ..strategies import ContractError, load_spec
from ._interrupt import StopSignal
from ._preflight import PreflightFailed, preflight
from ._results import STATUSES, RuleResult, RunReport

__all__ = [
    "STATUSES",
    "RuleResult",
    "RunConfig",
    "RunReport",
    "TargetUnreachable",
    "UsageError",
    "run_suite",
    "select_rules",
]


class UsageError(ValueError):
    """Bad options (unknown rule, unreadable spec, ...): the CLI prints it and exits 2."""


TargetUnreachable = PreflightFailed  # the target failed preflight: the CLI prints the line, exits 2


@dataclass(frozen=True)
class RunConfig:
    """One immutable description of a run (built from CLI flags, pytest options or code).

    ``owned`` are values of the contract's ownership member the caller owns (e.g. an account's ids of
    that member), ``foreign`` values it does not own; ``headers`` are sent with every request (tenant
    headers by name)."""

    base_url: str
    username: str
    password: str = ""
    owned: tuple[Any, ...] = ()
    foreign: tuple[Any, ...] = ()
    rules: tuple[str, ...] = ()
    max_examples: int | None = None
    seed: int | None = None
    deadline_s: float | None = None  # default: the profile's
    request_timeout_s: float = 10.0
    poll_timeout_s: float = 5.0
    rule_budget_s: float | None = None  # default: the profile's
    shrink_budget_s: float = 4.0
    spec_path: str | None = None  # a path or a packaged spec's name (default: the first packaged spec)
    profile: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    operation_timeout_s: float | None = None  # cap on the contract's complete_within_seconds
    exclude: tuple[str, ...] = ()  # rule ids left out
    max_failures: int | None = None  # stop after this many failed rules

    @classmethod
    def against(cls, server: Any, **options: Any) -> RunConfig:
        """A run against a started reference server (``contracts.server.RunningServer``): its spec, its
        first account (its key for a token scheme), what that account owns, and a value the second
        account owns as the foreign one."""
        from ..contract import load_contract

        spec = options.pop("spec_path", None) or getattr(server.settings, "spec_path", None)
        account = server.settings.accounts[0]
        owned = tuple(account.owns)
        others = server.settings.accounts[1:2]
        foreign = tuple(others[0].owns) if others else ()
        username, password = server.username, server.password
        if load_contract(str(spec) if spec is not None else None).auth.kind != "basic":
            username, password = getattr(account, "token", password), ""
        return cls(
            base_url=server.api_url,
            username=username,
            password=password,
            owned=owned,
            foreign=foreign[:1],
            spec_path=str(spec) if spec is not None else None,
            **options,
        )


def select_rules(ids: Sequence[str], exclude: Sequence[str] = ()) -> list[Rule]:
    """The rules named (in suite order; all when ``ids`` is empty) minus those in ``exclude``; an unknown
    id is a UsageError."""
    wanted, unwanted = _ids(ids), _ids(exclude)
    known = {r.id for r in RULES}
    unknown = [i for i in [*wanted, *unwanted] if i not in known]
    if unknown:
        raise UsageError(f"unknown rule id(s) {', '.join(unknown)}; see `orders-contract list-rules`")
    chosen = [r for r in RULES if (not wanted or r.id in wanted) and r.id not in unwanted]
    if not chosen:
        raise UsageError("--rules and --exclude leave no rule to run")
    return chosen


def _ids(raw: Sequence[str]) -> list[str]:
    return [i.strip() for item in raw for i in item.split(",") if i.strip()]


def _run_one(rule: Rule, ctx: RuleContext) -> RuleResult:
    started = time.monotonic()
    result = RuleResult(rule.id, "passed", 0.0, description=rule.description, source=rule.source)
    reason = rule.not_applicable(ctx.contract)
    if reason is not None:
        result.status, result.message = "not_applicable", reason
        return result
    if ctx.api.remaining() <= 0:
        result.status, result.message = "failed", "not run: the run deadline passed before this rule started"
        return result
    mark = ctx.api.mark()
    try:
        rule.func(ctx)
    except RuleFailed as failure:
        result.status, result.message = "failed", failure.message
        result.reproduction = failure.reproduction()
        result.exchanges = list(failure.exchanges)
    except RuleSkipped as skip:
        result.status, result.message = "skipped", str(skip)
    except RuleNotApplicable as reason_given:
        result.status, result.message = "not_applicable", str(reason_given)
    except TargetError as exc:
        result.status, result.message = "failed", f"target error: {exc}"
    except Exception as exc:  # a crash in a rule is reported as that rule's failure, never a traceback
        where = traceback.extract_tb(exc.__traceback__)[-1]
        result.status = "failed"
        result.message = (
            f"rule crashed: {type(exc).__name__}: {exc} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})"
        )
    finally:
        failed = result.status == "failed"
        cleanup(ctx, budget=min(30.0, max(0.5, ctx.api.remaining())), sweep=failed)
        result.duration_s = time.monotonic() - started
    if result.status == "failed" and not result.reproduction:
        _reproduce(result, ctx, mark)
    return result


def _reproduce(result: RuleResult, ctx: RuleContext, mark: int) -> None:
    """A reproduction for a failure that carries none: the last requests of the rule (a transport failure
    shows the request that got no answer), else how to re-run the rule alone."""
    recent = ctx.api.since(mark)[-3:]
    if recent:
        result.exchanges = recent
        result.reproduction = render_reproduction(recent, result.message)
    else:
        result.reproduction = (
            f"# {result.message}\n# no request shows it; re-run the rule alone: --rules {result.id} "
            f"--seed {ctx.seed}"
        )


class SuiteSession:
    """A prepared run: spec loaded, target checked, one ``RuleContext`` shared by the rules run through it."""

    def __init__(self, config: RunConfig, *, transport: Any = None, stop: Any = None) -> None:
        self.config = config
        self.rules = select_rules(config.rules, config.exclude)
        try:
            spec = load_spec(config.spec_path)
            spec.order_schema  # noqa: B018 - fail early on a spec the strategies cannot use
        except ContractError as exc:
            raise UsageError(str(exc)) from None
        contract = spec.contract
        if contract.ownership is not None and not config.owned:
            raise UsageError(
                f"give at least one --owned value: a {contract.ownership.member} the account under test owns"
            )
        owned = _typed(spec, config.owned)
        foreign = _typed(spec, config.foreign)
        try:
            profile = active_profile(config.profile)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        self.seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
        self.started = time.monotonic()
        self.transport = transport
        self.api = Api(
            config.base_url,
            config.username,
            config.password,
            timeout=config.request_timeout_s,
            deadline=self.started + (config.deadline_s or profile.deadline_s),
            transport=transport,
            scheme=contract.auth,
            headers=dict(config.headers),
            stop=stop,
        )
        self.ctx = RuleContext(
            api=self.api,
            spec=spec,
            owned=owned,
            foreign=foreign,
            tenant_headers=dict(config.headers),
            operation_timeout=config.operation_timeout_s,
            max_examples=config.max_examples or profile.max_examples,
            schemathesis_examples=config.max_examples or profile.schemathesis_examples,
            seed=self.seed,
            run_prefix=f"oc{self.seed:x}{secrets.token_hex(2)}",
            poll_timeout=config.poll_timeout_s,
            rule_budget=config.rule_budget_s or profile.rule_budget_s,
            shrink_budget=config.shrink_budget_s,
        )
        self._checked = False
        self._failed: PreflightFailed | None = None

    def preflight(self) -> None:
        """Raise ``PreflightFailed`` (one line: cause and fix) when the target cannot be checked as
        configured: nothing listening, wrong base URL, credentials refused, not JSON (once per session)."""
        if self._failed is not None:
            raise PreflightFailed(str(self._failed))
        if not self._checked:
            self._checked = True
            try:
                preflight(self.api, self.ctx.contract)
            except PreflightFailed as exc:
                self._failed = exc
                self.api.close()
                raise

    def run(self, rule: Rule) -> RuleResult:
        self.preflight()
        if self.api.no_answer_streak >= 2:  # callers that run rule by rule (pytest) fail fast too
            return RuleResult(
                rule.id,
                "failed",
                0.0,
                message=f"not run: the target stopped answering ({self.api.last_no_answer})",
                description=rule.description,
                source=rule.source,
            )
        return _run_one(rule, self.ctx)

    def final_cleanup(self, budget: float) -> tuple[int, dict[str, str]]:
        """Delete what is left (through a fresh client: the run's may have been interrupted mid-request);
        bounded by ``budget`` seconds. Returns (deleted, {id: why it is left behind})."""
        config, ctx = self.config, self.ctx
        if ctx.created or ctx.undeleted or ctx.in_flight or ctx.refused:
            api = Api(
                config.base_url,
                config.username,
                config.password,
                timeout=min(2.0, config.request_timeout_s),
                deadline=time.monotonic() + budget,
                transport=self.transport,
                scheme=ctx.contract.auth,
                headers=dict(config.headers),
            )
            try:
                cleanup(ctx, budget, api=api, final=True)
            except Interrupted:
                with ctx._lock:
                    for pk in ctx.created:
                        ctx.undeleted.setdefault(pk, "interrupted again during cleanup")
                    ctx.created.clear()
            finally:
                api.close()
        return ctx.deleted, {str(k): v for k, v in ctx.undeleted.items()}

    def finish(self, budget: float = 15.0) -> dict[str, str]:
        """Final cleanup and close (for callers that run rule by rule); what was left behind, and why."""
        try:
            return self.final_cleanup(budget)[1]
        finally:
            self.close()

    def close(self) -> None:
        self.api.close()


def run_suite(
    config: RunConfig,
    *,
    progress: Callable[[Rule, RuleResult | None], None] | None = None,
    transport: Any = None,
    stop: StopSignal | None = None,
) -> RunReport:
    """Run the selected rules in suite order; ``progress`` is called before (None) and after each rule.

    The run stops early when the target stops answering (two requests in a row without an answer),
    after ``config.max_failures`` failed rules, or when ``stop`` is set (a signal): the report then says
    so, and what the run created is deleted (bounded) in every case."""
    stop = stop or StopSignal()
    report = RunReport(target=config.base_url, seed=config.seed or 0)
    started = time.monotonic()
    session: SuiteSession | None = None
    try:
        with stop.armed():
            session = SuiteSession(config, transport=transport, stop=stop.event)
            report.seed = session.seed
            session.preflight()
            _run_rules(session, report, progress, stop)
    except Interrupted:
        report.interrupted = True
    finally:
        if session is not None:
            report.interrupted = report.interrupted or stop.is_set()
            if report.interrupted:
                done = {r.id for r in report.results}
                report.not_run = [r.id for r in session.rules if r.id not in done]
            try:
                with stop.armed(again=True) if report.interrupted else nullcontext():
                    report.deleted, report.left_behind = session.final_cleanup(
                        3.0 if report.interrupted else 15.0
                    )
            except Interrupted:
                pass
            session.close()
        report.duration_s = time.monotonic() - started
    return report


def _run_rules(
    session: SuiteSession,
    report: RunReport,
    progress: Callable[[Rule, RuleResult | None], None] | None,
    stop: StopSignal,
) -> None:
    failures, api, limit = 0, session.api, session.config.max_failures
    for n, rule in enumerate(session.rules, 1):
        if stop.is_set():
            raise Interrupted(stop.name)
        if progress is not None:
            progress(rule, None)
        result = session.run(rule)
        if stop.is_set():  # the rule may have swallowed the interrupt: its verdict does not count
            raise Interrupted(stop.name)
        report.results.append(result)
        if progress is not None:
            progress(rule, result)
        failures += result.status == "failed"
        if api.no_answer_streak >= 2:
            report.stopped = (
                f"target stopped answering after {n} of {len(session.rules)} rules "
                f"({api.no_answer_streak} requests in a row without an answer; last: {api.last_no_answer})"
            )
        elif limit is not None and failures >= limit:
            report.stopped = f"stopped after {failures} failed rule(s) (--max-failures {limit})"
        if report.stopped:
            report.not_run = [r.id for r in session.rules[n:]]
            return


def _typed(spec: Any, values: Sequence[Any]) -> tuple[Any, ...]:
    """Owned/foreign values typed as the schema of the ownership member says (CLI values are text)."""
    contract = spec.contract
    if contract.ownership is None:
        return tuple(values)
    kinds = spec.member_schema(contract.ownership.member).get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    typed = []
    for value in values:
        text = str(value).strip()
        if "integer" in kinds and text.lstrip("-").isascii() and text.lstrip("-").isdigit():
            typed.append(int(text))
        else:
            typed.append(value)
    return tuple(typed)
