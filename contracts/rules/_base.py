"""Rule model: a registry of rules (each declares its place in the run order and when it applies), the
context they run in, and how they pass, fail, skip or do not apply."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..strategies import Contract, SpecDocument
from ._curl import render_reproduction
from ._http import Api, Exchange, Reply
from ._validate import ResponseValidator

__all__ = [
    "REGISTRY",
    "Rule",
    "RuleContext",
    "RuleFailed",
    "RuleNotApplicable",
    "RuleSkipped",
    "registered_rules",
    "rule",
]


class RuleFailed(AssertionError):
    """The target broke the rule; carries the exchanges that show it."""

    def __init__(self, message: str, exchanges: Sequence[Exchange] = (), note: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.exchanges = list(exchanges)
        self.note = note

    def reproduction(self) -> str:
        note = f"{self.message}\n{self.note}" if self.note else self.message
        return render_reproduction(self.exchanges, note) if self.exchanges else ""


class RuleSkipped(Exception):
    """The rule cannot run against this target/configuration (e.g. a value the caller did not give)."""


class RuleNotApplicable(Exception):
    """The contract makes no promise this rule checks (e.g. no ``max_items``); the message says why."""


Applies = Callable[[Contract], str | None]  # None: the rule applies; else the reason it does not


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    source: str
    func: Callable[[RuleContext], None] = field(repr=False)
    order: int = 0  # place in the run order (declared with the rule; ties by id)
    applies: Applies | None = field(default=None, repr=False)

    def not_applicable(self, contract: Contract) -> str | None:
        """Why this rule does not apply to ``contract`` (None when it does)."""
        return self.applies(contract) if self.applies is not None else None


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, description: str, source: str, *, order: int, applies: Applies | None = None
) -> Callable[[Callable[[RuleContext], None]], Callable[[RuleContext], None]]:
    """Register ``func`` as rule ``rule_id`` (ids and orders are unique and stable)."""

    def register(func: Callable[[RuleContext], None]) -> Callable[[RuleContext], None]:
        if rule_id in REGISTRY:
            raise ValueError(f"rule id {rule_id!r} registered twice")
        clash = [r.id for r in REGISTRY.values() if r.order == order]
        if clash:
            raise ValueError(f"rule {rule_id!r} declares order {order}, already taken by {clash[0]!r}")
        REGISTRY[rule_id] = Rule(rule_id, description, source, func, order, applies)
        return func

    return register


def registered_rules() -> tuple[Rule, ...]:
    """Every registered rule in run order."""
    return tuple(sorted(REGISTRY.values(), key=lambda r: (r.order, r.id)))


@dataclass
class RuleContext:
    """Everything a rule needs: the target, the spec and its contract, budgets and bookkeeping."""

    api: Api
    spec: SpecDocument
    owned: tuple[Any, ...] = ()  # values of contract.ownership.member the caller owns
    foreign: tuple[Any, ...] = ()  # values of that member the caller does NOT own
    tenant_headers: Mapping[str, str] = field(default_factory=dict)
    operation_timeout: float | None = None  # cap on contract.processing.operation.complete_within_seconds
    max_examples: int = 10
    schemathesis_examples: int = 5
    seed: int = 0
    run_prefix: str = "oc"
    poll_timeout: float = 5.0
    rule_budget: float = 30.0
    shrink_budget: float = 4.0
    created: set[Any] = field(default_factory=set)
    undeleted: dict[Any, str] = field(default_factory=dict)  # id -> why cleanup could not delete it
    in_flight: dict[Any, list[Any]] = field(default_factory=dict)  # items sent, not yet known stored or not
    refused: list[list[Any]] = field(default_factory=list)  # items of refused batches of the current rule
    deleted: int = 0  # items of this run deleted again by cleanups
    delete_broken: str = ""  # set when a DELETE got no answer: later cleanups leave it to the final one
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def contract(self) -> Contract:
        return self.spec.contract

    _validator: ResponseValidator | None = None

    @property
    def validator(self) -> ResponseValidator:
        if self._validator is None:
            self._validator = ResponseValidator(self.spec)
        return self._validator

    def fresh_prefix(self) -> str:
        """A prefix no earlier request of this run used (order ids are ``<prefix>-<i>``)."""
        with self._lock:
            return f"{self.run_prefix}-{next(self._counter)}"

    def fail(
        self, message: str, exchanges: Sequence[Exchange] | Reply | None = None, note: str = ""
    ) -> RuleFailed:
        shown = [exchanges.exchange] if isinstance(exchanges, Reply) else list(exchanges or [])
        return RuleFailed(message, shown, note)

    def skip(self, reason: str) -> RuleSkipped:
        return RuleSkipped(reason)

    def not_applicable(self, reason: str) -> RuleNotApplicable:
        return RuleNotApplicable(reason)

    def time_left(self, started: float) -> float:
        return min(self.api.remaining(), self.rule_budget - (time.monotonic() - started))
