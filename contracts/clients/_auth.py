"""Credentials as the spec's security scheme wants them: who sent a request, and what is wrong with them.

HTTP Basic (``user:password``), HTTP bearer and API keys in a header (with or without a prefix word such
as ``Token``) — the kinds ``contracts.contract.AuthRules`` knows. An API key or bearer token is never
reported as is: the identity is a short digest of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from contracts.contract import AuthRules

__all__ = ["credentials", "parse_basic_auth"]


def parse_basic_auth(value: str | None) -> tuple[str | None, str | None]:
    """(user name, problem). The user name is None when it could not be read."""
    if not value:
        return None, "no Authorization header; send HTTP Basic credentials (user name and password)"
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, f"Authorization scheme {scheme!r}; the spec uses HTTP Basic"
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None, "Basic credentials are not valid base64 of 'user:password'"
    user, colon, password = decoded.partition(":")
    if not colon:
        return None, "Basic credentials lack the ':' between user name and password"
    if not user or not password:
        return user or None, "Basic credentials have an empty user name or password"
    return user, None


def _digest(secret: str) -> str:
    return "key:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _prefixed(auth: AuthRules, value: str | None) -> tuple[str | None, str | None]:
    header = auth.header
    secret = "<token>" if auth.kind == "bearer" else "<key>"
    how = f"'{header}: {auth.prefix} {secret}'" if auth.prefix else f"'{header}: {secret}'"
    if not value or not value.strip():
        what = "the token" if auth.kind == "bearer" else "the API key"
        return None, f"no {header} header; send {what} as {how}"
    if auth.prefix is None:
        key = value.strip()
        return (_digest(key), None) if " " not in key else (None, f"{header} holds spaces; send {how}")
    word, _, key = value.strip().partition(" ")
    if word.lower() != auth.prefix.lower():  # a scheme word is case-insensitive (RFC 9110, 11.1)
        return None, f"{header} scheme {word!r}; the spec wants {how}"
    key = key.strip()
    if not key:
        return None, f"{header} has {auth.prefix!r} but nothing after it; send {how}"
    if " " in key:
        return None, f"{header} holds more than one word after {auth.prefix!r}; send {how}"
    return _digest(key), None


def credentials(auth: AuthRules, value: str | None) -> tuple[str | None, str | None]:
    """``(identity, problem)`` for the value of ``auth.header``: the Basic user name or a digest of the key
    (None when it cannot be read), and one sentence saying what is wrong (None when nothing is)."""
    if auth.kind == "basic":
        return parse_basic_auth(value)
    return _prefixed(auth, value)
