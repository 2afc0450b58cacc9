"""The concurrency rules' senders run on threads: whatever one of them raises reaches the rule (as a target
error naming it) instead of being printed as a thread traceback, e.g. when a run is interrupted meanwhile."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.rules._conflict_rule import _at_once
from contracts.rules._http import TargetError


def test_an_exception_in_a_sender_thread_reaches_the_rule_and_prints_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    printed: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", printed.append)

    def send(i: int) -> Any:
        raise RuntimeError(f"the HTTP client was closed ({i})")

    ctx: Any = SimpleNamespace(api=SimpleNamespace(timeout=1.0))
    with pytest.raises(TargetError, match=r"4 of 4 concurrent batches did not complete: the HTTP client"):
        _at_once(ctx, 4, send)
    assert printed == []
