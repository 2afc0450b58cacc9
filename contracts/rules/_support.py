"""Shared steps of rules: re-keying batches, posting, polling, reading back, cleanup, property runs."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from .._settings import hypothesis_settings
from ..strategies import ExpectedError, InvalidBatch, set_pointer
from ._base import RuleContext, RuleFailed
from ._http import Reply, TargetError

__all__ = [
    "cleanup",
    "created_ids",
    "error_objects",
    "expect_error",
    "after_processing",
    "fault_at_key",
    "find_by_key",
    "get_pointer",
    "poll",
    "post_batch",
    "property_run",
    "rekey",
    "rekey_many",
    "StopRun",
]

T = TypeVar("T")
Order = dict[str, Any]


def get_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def rekey(ctx: RuleContext, batch: Sequence[Order], *, keep: Collection[int] = ()) -> list[Order]:
    """A copy of ``batch`` whose item ``i`` gets the never-used order id ``<fresh prefix>-<i>``.

    Items listed in ``keep`` (an injected fault at the order id) and items whose order id is missing or
    not a non-empty string are left as they are, so a fault is never "repaired".
    """
    return rekey_many(ctx, batch, keep=keep)[0]


def rekey_many(ctx: RuleContext, *batches: Sequence[Order], keep: Collection[int] = ()) -> list[list[Order]]:
    """``rekey`` for several aligned batches: item ``i`` of each gets the same new order id."""
    prefix = ctx.fresh_prefix()
    path = ctx.contract.order_id_path
    result = []
    for batch in batches:
        out = []
        for i, order in enumerate(batch):
            order = copy.deepcopy(order)
            if isinstance(order, dict) and i not in keep and _has_key(order, path):
                set_pointer(order, path, f"{prefix}-{i}")
            out.append(order)
        result.append(out)
    return result


def _has_key(order: Order, path: str) -> bool:
    try:
        value = get_pointer(order, path)
    except (KeyError, IndexError, TypeError):
        return False
    return isinstance(value, str) and value != ""


def fault_at_key(ctx: RuleContext, bad: InvalidBatch) -> set[int]:
    """Indexes whose order id carries ``bad``'s fault (to pass as ``keep`` to ``rekey``)."""
    target = bad.target
    if bad.index is None or target is None:
        return set()
    path = ctx.contract.order_id_path
    return {bad.index} if target.pointer == path or target.pointer.startswith(path + "/") else set()


def post_batch(
    ctx: RuleContext,
    body: Any = None,
    *,
    raw: bytes | None = None,
    auth: tuple[str, str] | None | bool = True,
) -> Reply:
    reply = ctx.api.request("POST", "/orders", json_body=body, content=raw, auth=auth)
    if reply.status == 201:
        created_ids(ctx, reply, strict=False)
    return reply


def created_ids(ctx: RuleContext, reply: Reply, *, strict: bool = True) -> list[int]:
    """Integer ids of a 201 reply, remembered for cleanup; with ``strict`` a malformed reply fails."""
    data = reply.data.get("data") if isinstance(reply.data, dict) else None
    ids: list[int] = []
    if isinstance(data, list):
        for item in data:
            value = item.get("id") if isinstance(item, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                ids.append(value)
            elif isinstance(value, str) and value.isdigit():
                ids.append(int(value))
    with ctx._lock:
        ctx.created.update(ids)
    if strict and (not isinstance(data, list) or len(ids) != len(data)):
        raise ctx.fail(f"201 reply does not carry an id for every order: {reply.describe(200)}", reply)
    return ids


def poll(
    ctx: RuleContext, fetch: Callable[[], T], done: Callable[[T], bool], timeout: float | None = None
) -> T:
    """Call ``fetch`` until ``done`` (bounded by ``poll_timeout`` and the run deadline); last value back."""
    limit = time.monotonic() + min(timeout if timeout is not None else ctx.poll_timeout, ctx.api.remaining())
    delay = 0.02
    while True:
        value = fetch()
        if done(value) or time.monotonic() + delay > limit:
            return value
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def after_processing(ctx: RuleContext, template: Order) -> None:
    """Barrier before checking that a rejected batch stored nothing, when processing is asynchronous.

    A checked-at-once "nothing stored" passes on a server that commits part of a rejected batch and shows
    it a moment later; so post one fresh valid copy of ``template`` and wait (within ``poll_timeout``) until
    it reads back: whatever the server did before it is visible by then.
    """
    if ctx.contract.processing != "asynchronous":
        return
    (probe,) = rekey(ctx, [template])
    reply = post_batch(ctx, [probe])
    ids = created_ids(ctx, reply, strict=False) if reply.status == 201 else []
    if ids:
        poll(ctx, lambda: ctx.api.request("GET", f"/orders/{ids[0]}"), lambda r: r.status == 200)


def find_by_key(ctx: RuleContext, order_id: str, integration_id: int) -> tuple[Reply, list[Order]]:
    """Orders listed for one upsert key (filtered by the server, then re-checked here)."""
    reply = ctx.api.request(
        "GET",
        "/orders",
        params={"order_id": order_id, "integration": str(integration_id), "page_size": "100"},
    )
    data = reply.data.get("data") if reply.status == 200 and isinstance(reply.data, dict) else None
    if not isinstance(data, list):
        raise ctx.fail(
            f"GET /orders?order_id=... did not answer 200 with a data list: {reply.describe(160)}", reply
        )
    matches = [
        o
        for o in data
        if isinstance(o, dict)
        and str(o.get("order_id")) == order_id
        and _integration(ctx, o) == integration_id
    ]
    return reply, matches


def _integration(ctx: RuleContext, order: Order) -> Any:
    try:
        return get_pointer(order, ctx.contract.integration_path)
    except (KeyError, IndexError, TypeError):
        return None


def error_objects(ctx: RuleContext, reply: Reply) -> list[dict[str, Any]]:
    """The ``errors`` array of an error reply (fails the rule when it is not there)."""
    errors = reply.data.get("errors") if isinstance(reply.data, dict) else None
    if not isinstance(errors, list) or not errors or not all(isinstance(e, dict) for e in errors):
        raise ctx.fail(f"error reply has no non-empty `errors` array: {reply.describe(200)}", reply)
    return errors


def expect_error(
    ctx: RuleContext,
    reply: Reply,
    expected: ExpectedError,
    *,
    what: str,
    check_pointer: bool = True,
    check_text: bool = True,
) -> None:
    """Fail unless ``reply`` is the documented error ``expected``."""
    if reply.status != expected.status:
        raise ctx.fail(f"{what}: expected HTTP {expected.status}, got {reply.describe(160)}", reply)
    errors = error_objects(ctx, reply)
    if check_pointer and expected.pointer is not None:
        pointers = [
            (e.get("source") or {}).get("pointer") for e in errors if isinstance(e.get("source"), dict)
        ]
        if expected.pointer not in pointers:
            raise ctx.fail(f"{what}: no error points at {expected.pointer!r}; pointers: {pointers}", reply)
    if check_text and expected.code is not None and expected.code not in [e.get("code") for e in errors]:
        raise ctx.fail(f"{what}: no error has code {expected.code!r}: {reply.describe(160)}", reply)
    if (
        check_text
        and expected.detail is not None
        and expected.detail not in [e.get("detail") for e in errors]
    ):
        raise ctx.fail(f"{what}: no error has detail {expected.detail!r}: {reply.describe(200)}", reply)


def cleanup(ctx: RuleContext, budget: float = 10.0) -> int:
    """DELETE every order this run created (bounded in time); how many were deleted."""
    end = time.monotonic() + min(budget, max(0.0, ctx.api.remaining()))
    with ctx._lock:
        ids = sorted(ctx.created)
        ctx.created.clear()
    done = 0
    for order_pk in ids:
        if time.monotonic() > end:
            break
        try:
            reply = ctx.api.request("DELETE", f"/orders/{order_pk}", timeout=2.0)
        except TargetError:
            break
        done += reply.status in (200, 202, 204)
    return done


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


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
