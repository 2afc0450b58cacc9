"""What a run produces: one result per rule, and the report of the whole run (why it stopped early,
whether it was interrupted, what cleanup deleted and left behind)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..rules import Exchange

__all__ = ["STATUSES", "RuleResult", "RunReport"]

STATUSES = ("passed", "failed", "skipped", "not_applicable")


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
    stopped: str = ""  # why the run ended before its last rule (target silent, --max-failures)
    not_run: list[str] = field(default_factory=list)  # rules left out by that stop or an interrupt
    interrupted: bool = False  # SIGINT / SIGTERM: the rule running then is not reported
    deleted: int = 0  # items this run created and deleted again
    left_behind: dict[str, str] = field(default_factory=dict)  # id -> why cleanup could not delete it

    @property
    def exit_code(self) -> int:  # not applicable and skipped rules do not fail a run
        if self.interrupted:
            return 130
        return 1 if self.stopped or any(r.status == "failed" for r in self.results) else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 3),
            "rules": [r.to_json() for r in self.results],
            "stopped": self.stopped,
            "not_run": self.not_run,
            "interrupted": self.interrupted,
            "cleanup": {
                "deleted": self.deleted,
                "left_behind": [{"id": k, "reason": v} for k, v in self.left_behind.items()],
            },
        }
