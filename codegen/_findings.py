"""Problems found in a spec, as values: level, JSON-pointer location, message, snippet."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from contracts.contract import join_pointer

Level = Literal["warning", "error"]

_SNIPPET_MAX = 160


def pointer(*tokens: str | int) -> str:
    """Build a JSON pointer ('' is the whole document)."""
    return join_pointer(tokens)


def join(base: str, *tokens: str | int) -> str:
    return base + pointer(*tokens)


def snippet(node: Any) -> str:
    """A short, single-line, deterministic rendering of a spec node."""
    try:
        text = json.dumps(node, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(node)
    return text if len(text) <= _SNIPPET_MAX else text[: _SNIPPET_MAX - 1] + "…"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem or rewrite, located by a JSON pointer into the (original) spec."""

    location: str
    level: Level
    message: str
    snippet: str = ""
    rule: str = ""

    def format(self) -> str:
        where = self.location or "/"
        text = f"{self.level}: {where}: {self.message}"
        if self.rule:
            text += f" [{self.rule}]"
        return text


_NOTHING: Any = object()


def warning(location: str, message: str, node: Any = _NOTHING, rule: str = "") -> Finding:
    return Finding(location, "warning", message, "" if node is _NOTHING else snippet(node), rule)


def error(location: str, message: str, node: Any = _NOTHING, rule: str = "") -> Finding:
    return Finding(location, "error", message, "" if node is _NOTHING else snippet(node), rule)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.level == "error" for f in findings)


class SpecError(Exception):
    """Raised when error-level findings make generation impossible (fail closed)."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = tuple(findings)
        errors = [f for f in self.findings if f.level == "error"]
        first = errors[0].format() if errors else "unknown problem"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)
