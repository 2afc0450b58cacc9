"""What an HTML report may embed of a failure: the exchanges, trimmed, with the credentials masked.

Reports get attached to tickets and published as CI artifacts, so nothing secret may reach them: the
password of the run and its Basic token are replaced by ``MASK`` wherever they occur (reproduction, messages,
bodies, headers), and request headers that carry credentials are masked whatever their value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..rules import Exchange

__all__ = ["MASK", "EvidenceItem", "Limits", "Masker", "evidence", "trim"]

MASK = "********"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})


@dataclass(frozen=True)
class Masker:
    """Replaces the run's secrets (password, Basic token) by ``MASK`` in any text."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def for_credentials(
        cls, credentials: Iterable[tuple[str, str]], headers: Iterable[tuple[str, str]] = ()
    ) -> Masker:
        """Secrets of ``(user, password)`` pairs (a pair without password is a token: the user part is
        the secret) and the values of credential-carrying ``headers``."""
        found: set[str] = set()
        for user, password in credentials:
            if password:
                found.add(password)
                found.add(base64.b64encode(f"{user}:{password}".encode()).decode())
            elif user:
                found.add(user)
        found.update(value.strip() for name, value in headers if name.lower() in _SECRET_HEADERS)
        found.discard("")
        # longest first: a token that contains the password is masked whole
        return cls(tuple(sorted(found, key=lambda s: (-len(s), s))))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


@dataclass(frozen=True)
class Limits:
    """How much of one failure a page embeds (characters); ``scaled`` shrinks all of it for big runs."""

    message: int = 4_000
    reproduction: int = 24_000  # the JSON report keeps it whole
    body: int = 1_500  # one request or answer body
    exchanges: int = 6  # the last ones: they show the break

    def scaled(self, factor: float) -> Limits:
        return Limits(
            message=max(200, int(self.message * factor)),
            reproduction=max(1_000, int(self.reproduction * factor)),
            body=max(200, int(self.body * factor)),
            exchanges=max(2, round(self.exchanges * min(1.0, factor * 2))),
        )


def trim(text: str, limit: int) -> tuple[str, int]:
    """``(text cut to limit characters, how many were cut)``."""
    return (text, 0) if len(text) <= limit else (text[:limit], len(text) - limit)


@dataclass(frozen=True)
class EvidenceItem:
    """One request and its answer as the report shows them (already masked and trimmed)."""

    method: str
    url: str
    user: str | None
    headers: tuple[tuple[str, str], ...]
    request_body: str
    request_cut: int
    status: int | None
    response_body: str
    response_cut: int
    times: int = 1


def _pretty(text: str) -> str:
    """Indented JSON when ``text`` is JSON (easier to read in a ticket), else the text itself; a large body
    stays as sent (it is cut anyway, and parsing megabytes only to cut them would cost time)."""
    if len(text) > 64 * 1024:
        return text
    try:
        data: Any = json.loads(text)
    except ValueError:
        return text
    return json.dumps(data, indent=2, ensure_ascii=False)


def _item(exchange: Exchange, times: int, mask: Masker, limit: int) -> EvidenceItem:
    body = exchange.body.decode("utf-8", errors="replace") if exchange.body is not None else ""
    request, request_cut = trim(mask(_pretty(body)) if body else "", limit)
    response, response_cut = trim(mask(_pretty(exchange.response_text)), limit)
    headers = tuple(
        (name, MASK if name.lower() in _SECRET_HEADERS else mask(value)) for name, value in exchange.headers
    )
    return EvidenceItem(
        method=exchange.method,
        url=mask(exchange.url),
        user=mask(exchange.auth[0]) if exchange.auth else None,
        headers=headers,
        request_body=request,
        request_cut=request_cut,
        status=exchange.status,
        response_body=response,
        response_cut=response_cut,
        times=times,
    )


def evidence(exchanges: Sequence[Exchange], mask: Masker, limits: Limits) -> tuple[list[EvidenceItem], int]:
    """The last ``limits.exchanges`` exchanges (a repeated poll counted once) and how many were left out."""
    collapsed: list[tuple[Exchange, int]] = []
    for exchange in exchanges:
        if collapsed and collapsed[-1][0] == exchange:
            collapsed[-1] = (exchange, collapsed[-1][1] + 1)
        else:
            collapsed.append((exchange, 1))
    shown = collapsed[-limits.exchanges :]
    return [_item(ex, times, mask, limits.body) for ex, times in shown], len(collapsed) - len(shown)
