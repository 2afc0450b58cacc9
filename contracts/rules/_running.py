"""Bounded loops of rules: polling until a condition holds, and property runs (Hypothesis, seeded,
shrinking) within the rule's time budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .._settings import hypothesis_settings
from ._base import RuleContext, RuleFailed
from ._http import TargetError

__all__ = ["StopRun", "poll", "property_run"]

T = TypeVar("T")


def poll(
    ctx: RuleContext, fetch: Callable[[], T], done: Callable[[T], bool], timeout: float | None = None
) -> T:
    """Call ``fetch`` until ``done`` (bounded by ``poll_timeout`` and the run deadline); last value back.

    The last call is made once the bound has passed (but before the run deadline), so what is done just
    within the bound is seen."""
    bound = timeout if timeout is not None else ctx.poll_timeout
    limit = time.monotonic() + min(bound, ctx.api.remaining() - 0.25)
    delay = 0.02
    while True:
        value = fetch()
        left = limit - time.monotonic()
        if done(value) or left <= 0:
            return value
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.5)


class StopRun(BaseException):
    """Raised inside a Hypothesis run to end it at once (budget spent); Hypothesis does not catch it."""


_Stop = StopRun


def property_run(
    ctx: RuleContext,
    strategy: st.SearchStrategy[T],
    check: Callable[[T], None],
    *,
    max_examples: int | None = None,
) -> None:
    """Run ``check`` on examples of ``strategy`` (Hypothesis, seeded, shrinking) within the rule budget.

    The smallest failing example seen (by bytes sent) is raised as ``RuleFailed`` with its exchanges;
    once the budget is spent, further examples pass untested so shrinking ends on time.
    """
    started = time.monotonic()
    best: list[tuple[int, RuleFailed]] = []
    broken: list[TargetError] = []
    first_failure: list[float] = []  # [when, call number] of the first failure

    calls = [0]

    def spent() -> bool:
        if broken or ctx.time_left(started) <= 0:
            return True
        if first_failure and first_failure[1] == 1:
            return True  # Hypothesis tries the simplest example first: nothing smaller to find
        return bool(first_failure) and time.monotonic() - first_failure[0] > ctx.shrink_budget

    @st.composite
    def guarded(draw: st.DrawFn) -> T:
        if spent():  # checked before each candidate is generated, so shrinking stops on time
            raise _Stop
        return draw(strategy)

    def body(value: T) -> None:
        if spent():
            raise _Stop
        mark = ctx.api.mark()
        calls[0] += 1
        try:
            check(value)
        except RuleFailed as failure:
            exchanges = ctx.api.since(mark)
            if exchanges:
                failure.exchanges = exchanges
            size = sum(len(e.body or b"") for e in failure.exchanges)
            if not best or size < best[0][0]:
                best[:] = [(size, failure)]
            if not first_failure:
                first_failure[:] = [time.monotonic(), calls[0]]
            raise
        except TargetError as exc:
            broken.append(exc)
            raise

    test = hypothesis_settings(max_examples or ctx.max_examples)(
        hypothesis_seed(ctx.seed)(given(guarded())(body))
    )
    try:
        test()
    except _Stop:
        pass
    except Exception:
        if not best and not broken:
            raise
    if broken:
        raise broken[0]
    if best:
        raise best[0][1]
    if ctx.api.remaining() <= 0:
        raise TargetError(f"the run deadline passed during this rule ({calls[0]} examples checked)")
    if calls[0] == 0:
        raise TargetError("the rule's time budget was spent before any example was checked")
