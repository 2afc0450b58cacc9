"""Contract rules for batch-order APIs: each has a stable id, a one-line description, a source, its place
in the run order and, optionally, when it applies to a contract.

``RULES`` lists every registered rule in run order (each rule declares its ``order``); ``Rule.func(ctx)``
returns on success and raises ``RuleFailed`` (with a curl reproduction), ``RuleSkipped`` or
``RuleNotApplicable``; ``Rule.not_applicable(contract)`` says up front why a rule does not apply.
Importing this package registers every rule.
"""

from __future__ import annotations

from . import (
    _batch_rules,
    _conflict_rule,
    _crud_rules,
    _error_rules,
    _operation_rules,
    _schema_rule,
    _upsert_rules,
)
from ._base import REGISTRY, Rule, RuleContext, RuleFailed, RuleNotApplicable, RuleSkipped, registered_rules
from ._cleanup import cleanup
from ._curl import render_curl, render_reproduction
from ._http import Api, Exchange, Interrupted, NoAnswer, Reply, TargetError, Unreachable
from ._validate import ResponseValidator

_ = (_batch_rules, _conflict_rule, _crud_rules, _error_rules, _operation_rules, _schema_rule, _upsert_rules)
RULES: tuple[Rule, ...] = registered_rules()

__all__ = [
    "REGISTRY",
    "RULES",
    "Api",
    "Exchange",
    "Interrupted",
    "NoAnswer",
    "Reply",
    "ResponseValidator",
    "Rule",
    "RuleContext",
    "RuleFailed",
    "RuleNotApplicable",
    "RuleSkipped",
    "TargetError",
    "Unreachable",
    "cleanup",
    "registered_rules",
    "render_curl",
    "render_reproduction",
]
