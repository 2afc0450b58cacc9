"""Answers the checks make up themselves (scripted conflicts and 5xx, 413, 502/504 from the proxy), written
in the error envelope of the spec's contract so that a client reads them like any answer of the API."""

from __future__ import annotations

from typing import Any

from contracts.contract import Conflict, ErrorRules, pointer_set

__all__ = ["conflict_body", "error_body", "server_error_body"]

DEFAULT_CODE = "invalid"


def _code_for(errors: ErrorRules, status: int) -> str:
    """The code the API documents for ``status`` when exactly one documented error has that status."""
    codes = {d.code for d in errors.documented.values() if d.status == status and d.code}
    return codes.pop() if len(codes) == 1 else DEFAULT_CODE


def error_body(
    errors: ErrorRules | None,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    pointer: str | None = None,
) -> Any:
    """One error in the contract's envelope (``errors.list``, ``code``, ``detail``, ``status`` members and,
    for APIs that locate errors by pointer, the pointer member). Without a contract: a JSON:API-like
    ``{"errors": [{"status", "code", "title", "detail"}]}``."""
    if errors is None:
        item: dict[str, Any] = {"status": str(status), "code": code or DEFAULT_CODE, "detail": detail}
        if title:
            item["title"] = title
        return {"errors": [item]}
    item = {}
    if errors.code:
        pointer_set(item, errors.code, code or _code_for(errors, status))
    pointer_set(item, errors.detail, detail)
    if errors.status:
        pointer_set(item, errors.status, str(status))
    if pointer is not None and errors.style == "pointer" and errors.member:
        pointer_set(item, errors.member, pointer)
    return errors.envelope([item])


def conflict_body(conflict: Conflict, errors: ErrorRules | None) -> tuple[int, Any]:
    """The documented 'still processing' answer of the contract."""
    body = error_body(errors, conflict.status, conflict.detail, code=conflict.code, pointer=conflict.pointer)
    return conflict.status, body


def server_error_body(status: int, errors: ErrorRules | None) -> Any:
    detail = "Scripted server error (orders-contract client check); retry later."
    title = "Internal server error" if status == 500 else "Service unavailable"
    return error_body(errors, status, detail, title=title)
