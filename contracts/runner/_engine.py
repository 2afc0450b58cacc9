"""Run selected rules against one target within a deadline and collect one result per rule."""

from __future__ import annotations

import secrets
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._settings import active_profile
from ..rules import (
    RULES,
    Api,
    Exchange,
    Rule,
    RuleContext,
    RuleFailed,
    RuleNotApplicable,
    RuleSkipped,
    TargetError,
    Unreachable,
    cleanup,
)
from ..strategies import ContractError, load_spec

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


class TargetUnreachable(RuntimeError):
    """Nothing answers at the base URL: the CLI prints it and exits 2."""


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

    @classmethod
    def against(cls, server: Any, **options: Any) -> RunConfig:
        """A run against a started reference server (``contracts.server.RunningServer``): its spec, its
        first account (its key for a token scheme), what that account owns, and a value the second
        account owns as the foreign one."""
        from ..contract import load_contract

        spec = options.pop("spec_path", None) or getattr(server.settings, "spec_path", None)
        account = server.settings.accounts[0]
        owned = tuple(getattr(account, "owns", None) or getattr(account, "integrations", ()) or ())
        others = server.settings.accounts[1:2]
        foreign = tuple(getattr(others[0], "owns", None) or others[0].integrations) if others else ()
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


@dataclass
class RuleResult:
    id: str
    status: str  # passed | failed | skipped | not_applicable
    duration_s: float
    message: str = ""
    reproduction: str = ""
    description: str = ""
    source: str = ""
    exchanges: list[Exchange] = field(default_factory=list, repr=False)  # a failure's evidence (HTML)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "duration_s": round(self.duration_s, 3),
            "message": self.message,
            "reproduction": self.reproduction,
        }


@dataclass
class RunReport:
    target: str
    seed: int
    results: list[RuleResult] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:  # not applicable and skipped rules do not fail a run
        return 1 if any(r.status == "failed" for r in self.results) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 3),
            "rules": [r.to_json() for r in self.results],
        }


def select_rules(ids: Sequence[str]) -> list[Rule]:
    """The rules named (in suite order), all of them when ``ids`` is empty; unknown ids are a UsageError."""
    wanted = [i.strip() for raw in ids for i in raw.split(",") if i.strip()]
    known = {r.id for r in RULES}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise UsageError(f"unknown rule id(s) {', '.join(unknown)}; known: {', '.join(r.id for r in RULES)}")
    return [r for r in RULES if not wanted or r.id in wanted]


STATUSES = ("passed", "failed", "skipped", "not_applicable")


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
        cleanup(ctx, budget=min(30.0, max(0.5, ctx.api.remaining())))
        result.duration_s = time.monotonic() - started
    return result


class SuiteSession:
    """A prepared run: spec loaded, target checked, one ``RuleContext`` shared by the rules run through it."""

    def __init__(self, config: RunConfig, *, transport: Any = None) -> None:
        self.config = config
        self.rules = select_rules(config.rules)
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
        self.api = Api(
            config.base_url,
            config.username,
            config.password,
            timeout=config.request_timeout_s,
            deadline=self.started + (config.deadline_s or profile.deadline_s),
            transport=transport,
            scheme=contract.auth,
            headers=dict(config.headers),
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

    def preflight(self) -> None:
        """Raise ``TargetUnreachable`` when nothing listens at the base URL (once per session)."""
        if not self._checked:
            self._checked = True
            try:
                _preflight(self.ctx)
            except TargetUnreachable:
                self.api.close()
                raise

    def run(self, rule: Rule) -> RuleResult:
        self.preflight()
        return _run_one(rule, self.ctx)

    def close(self) -> None:
        self.api.close()


def run_suite(
    config: RunConfig,
    *,
    progress: Callable[[Rule, RuleResult | None], None] | None = None,
    transport: Any = None,
) -> RunReport:
    """Run the selected rules in suite order; ``progress`` is called before (None) and after each rule."""
    session = SuiteSession(config, transport=transport)
    report = RunReport(target=config.base_url, seed=session.seed)
    try:
        session.preflight()
        for rule in session.rules:
            if progress is not None:
                progress(rule, None)
            result = session.run(rule)
            report.results.append(result)
            if progress is not None:
                progress(rule, result)
    finally:
        session.close()
        report.duration_s = time.monotonic() - session.started
    return report


def _preflight(ctx: RuleContext) -> None:
    """Refuse to run when nothing listens at the base URL: one request to a bound read operation (the
    list, else the batch operation's path with no body); a slow or odd answer is left to the rules."""
    contract, api = ctx.contract, ctx.api
    operation = contract.operation("list") if contract.has("list") else contract.batch_write
    method = operation.method if operation.role == "list" else "OPTIONS"
    try:
        api.request(method, operation.url_path(), timeout=min(api.timeout, 5.0))
    except Unreachable as exc:
        raise TargetUnreachable(str(exc)) from None
    except TargetError:
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
