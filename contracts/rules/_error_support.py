"""Judging an error answer against the contract: the error list, where each error is located, and the
documented error a rule expected (status, location, code, detail)."""

from __future__ import annotations

from typing import Any

from ..contract import pointer_get
from ..strategies import ExpectedError
from ._base import RuleContext
from ._http import Reply

__all__ = ["error_objects", "expect_error"]


def error_objects(ctx: RuleContext, reply: Reply) -> list[dict[str, Any]]:
    """The error list of an error answer (fails the rule when it is not there)."""
    errors = ctx.contract.errors.errors_of(reply.data) if reply.is_json else []
    if not errors or not all(isinstance(e, dict) for e in errors):
        where = ctx.contract.errors.errors_at
        raise ctx.fail(f"error answer has no non-empty error list at {where!r}: {reply.describe(200)}", reply)
    return errors


def _locations(ctx: RuleContext, errors: list[dict[str, Any]]) -> list[Any]:
    rules = ctx.contract.errors
    if rules.style == "pointer" and rules.member is not None:
        return [pointer_get(e, rules.member, None) for e in errors]
    if rules.style == "index":
        return [rules.index_of(e) for e in errors]
    return [pointer_get(e, rules.detail, None) for e in errors]


def _located(ctx: RuleContext, errors: list[dict[str, Any]], expected: ExpectedError) -> bool:
    rules = ctx.contract.errors
    if rules.style == "pointer":
        return expected.pointer in _locations(ctx, errors)
    if rules.style == "index":
        return expected.index in _locations(ctx, errors)
    for error in errors:
        text = pointer_get(error, rules.detail, None)
        if isinstance(text, str) and expected.pointer is not None and text.startswith(expected.pointer):
            return True
    return False


def expect_error(
    ctx: RuleContext,
    reply: Reply,
    expected: ExpectedError,
    *,
    what: str,
    check_pointer: bool = True,
    check_text: bool = True,
) -> None:
    """Fail unless ``reply`` is the documented error ``expected`` (status, location, code, detail)."""
    if reply.status != expected.status:
        raise ctx.fail(f"{what}: expected HTTP {expected.status}, got {reply.describe(160)}", reply)
    errors = error_objects(ctx, reply)
    rules = ctx.contract.errors
    if check_pointer and (
        expected.pointer is not None or (rules.style == "index" and expected.index is not None)
    ):
        if not _located(ctx, errors, expected):
            shown = expected.pointer if rules.style != "index" else f"index {expected.index}"
            raise ctx.fail(
                f"{what}: no error is located at {shown!r}; locations: {_locations(ctx, errors)}", reply
            )
    codes = [pointer_get(e, rules.code, None) for e in errors] if rules.code else []
    if check_text and expected.code is not None and rules.code and expected.code not in codes:
        raise ctx.fail(f"{what}: no error has code {expected.code!r}: {reply.describe(160)}", reply)
    details = [pointer_get(e, rules.detail, None) for e in errors]
    if check_text and expected.detail is not None and expected.detail not in details:
        raise ctx.fail(f"{what}: no error has detail {expected.detail!r}: {reply.describe(200)}", reply)
