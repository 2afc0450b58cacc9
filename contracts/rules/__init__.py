"""Contract rules for the orders batch API: each has a stable id, a one-line description and a source.

``RULES`` lists them in run order; ``Rule.func(ctx)`` returns on success and raises ``RuleFailed`` (with a
curl reproduction) or ``RuleSkipped``. Importing this package registers every rule.
"""

from __future__ import annotations

from . import _batch_rules, _conflict_rule, _crud_rules, _error_rules, _schema_rule, _upsert_rules
from ._base import REGISTRY, Rule, RuleContext, RuleFailed, RuleSkipped
from ._curl import render_curl, render_reproduction
from ._http import Api, Exchange, Reply, TargetError, Unreachable
from ._support import cleanup
from ._validate import ResponseValidator

_ORDER = (
    "batch.accepts_valid",
    "batch.limit",
    "batch.atomic",
    "batch.result_order",
    "batch.duplicate_keys",
    "upsert.key",
    "upsert.by_id",
    "upsert.integration_scope",
    "error.shape",
    "error.pointer",
    "id.types",
    "conflict.concurrent",
    "auth.required",
    "integration.ownership",
    "order_id.immutable",
    "crud.lifecycle",
    "list.filters",
    "list.pagination",
    "schema.responses",
)
_ = (_batch_rules, _conflict_rule, _crud_rules, _error_rules, _schema_rule, _upsert_rules)
RULES: tuple[Rule, ...] = tuple(REGISTRY[rule_id] for rule_id in _ORDER)

__all__ = [
    "RULES",
    "Api",
    "Exchange",
    "Reply",
    "ResponseValidator",
    "Rule",
    "RuleContext",
    "RuleFailed",
    "RuleSkipped",
    "TargetError",
    "Unreachable",
    "cleanup",
    "render_curl",
    "render_reproduction",
]
