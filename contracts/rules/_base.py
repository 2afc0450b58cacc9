"""Rule model: a registry of rules, the context they run in, and how they pass, fail or skip."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..strategies import Contract, SpecDocument
from ._curl import render_reproduction
from ._http import Api, Exchange, Reply
from ._validate import ResponseValidator

__all__ = ["REGISTRY", "Rule", "RuleContext", "RuleFailed", "RuleSkipped", "rule"]


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
    """The rule cannot run against this target/configuration; the message says why."""


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    source: str
    func: Callable[[RuleContext], None] = field(repr=False)


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, description: str, source: str
) -> Callable[[Callable[[RuleContext], None]], Callable[[RuleContext], None]]:
    """Register ``func`` as rule ``rule_id`` (ids are unique and stable)."""

    def register(func: Callable[[RuleContext], None]) -> Callable[[RuleContext], None]:
        if rule_id in REGISTRY:
            raise ValueError(f"rule id {rule_id!r} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, description, source, func)
        return func

    return register


@dataclass
class RuleContext:
    """Everything a rule needs: the target, the spec and its contract, budgets and bookkeeping."""

    api: Api
    spec: SpecDocument
    integration_ids: tuple[int, ...]
    foreign_integration_id: int | None = None
    max_examples: int = 10
    schemathesis_examples: int = 5
    seed: int = 0
    run_prefix: str = "oc"
    poll_timeout: float = 5.0
    rule_budget: float = 30.0
    shrink_budget: float = 4.0
    created: set[int] = field(default_factory=set)
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

    def time_left(self, started: float) -> float:
        return min(self.api.remaining(), self.rule_budget - (time.monotonic() - started))
