"""Request plumbing: authentication, the partner header, bounded body reading and JSON parsing."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import uuid
from typing import Any

import orjson
from starlette.requests import Request

from ._errors import ApiError, ErrorItem
from ._settings import Account
from ._state import ServerState

__all__ = ["authenticate", "check_partner", "read_json"]

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="orders-contract"'}
_PARTNER_HEADER = "Sendcloud-Partner-Id"


def _unauthorized(title: str, detail: str) -> ApiError:
    return ApiError(401, [ErrorItem(detail, "authentication_failed", title=title)], _CHALLENGE)


def authenticate(state: ServerState, request: Request) -> Account:
    header = request.headers.get("authorization")
    if state.fault("no_auth"):
        account = _check_credentials(state, header) if header else None
        return account or state.settings.accounts[0]
    if not header:
        raise _unauthorized("No credentials", "Authentication credentials were not provided.")
    account = _check_credentials(state, header)
    if account is None:
        raise _unauthorized(
            "Invalid username/password.",
            "The username or password provided is incorrect. "
            "Please make a request with the valid credentials.",
        )
    return account


def _check_credentials(state: ServerState, header: str) -> Account | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = (
            base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    account = state.accounts.get(username)
    if not sep or account is None:
        return None
    if not hmac.compare_digest(account.password.encode(), password.encode()):
        return None
    return account


def check_partner(state: ServerState, request: Request, account: Account) -> None:
    raw = request.headers.get(_PARTNER_HEADER)
    if raw is None:
        return
    try:
        partner = str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ApiError(400, [ErrorItem(state.rules.invalid_partner_detail, header=_PARTNER_HEADER)]) from None
    if partner not in account.partner_ids:
        detail = f"Sendcloud-Partner-Id {partner} is not a known partner of this account"
        raise ApiError(400, [ErrorItem(detail, header=_PARTNER_HEADER)])


def _content_type_ok(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json(state: ServerState, request: Request) -> Any:
    """The parsed body; 415 / 413 / 400 errors for the wrong type, too many bytes or broken JSON."""
    content_type = request.headers.get("content-type", "")
    if not _content_type_ok(content_type):
        detail = f"Content-Type must be application/json, got {content_type or 'nothing'!r}"
        raise ApiError(415, [ErrorItem(detail, "unsupported_media_type", title="Unsupported media type")])
    limit = state.settings.max_body_bytes
    too_large = ApiError(413, [ErrorItem(f"Request body exceeds {limit} bytes", title="Payload too large")])
    declared = (request.headers.get("content-length") or "").strip()
    if declared.isdigit() and (len(declared) > 15 or int(declared) > limit):
        raise too_large
    chunks: list[bytes] = []
    size = 0
    timeout = state.settings.body_timeout
    try:
        async with asyncio.timeout(timeout):  # a body that never arrives must not hold the request forever
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError:
        detail = f"Request body not received completely within {timeout:g} s"
        raise ApiError(408, [ErrorItem(detail, title="Request timeout")]) from None
    body = b"".join(chunks)
    if not body.strip():
        raise ApiError(400, [ErrorItem("JSON parse error - request body is empty", "parse_error")])
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        message = str(exc)
        if "depth limit" in message or "recursion" in message:
            message = "nesting is deeper than 1024 levels"
        raise ApiError(400, [ErrorItem(f"JSON parse error - {message}", "parse_error")]) from None
