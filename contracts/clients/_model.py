"""Violations as data: which rule, what is wrong, where, and the request that caused it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["CLIENT_RULES", "RULES", "SERVER_RULES", "RequestSummary", "Violation"]

CLIENT_RULES: MappingProxyType[str, str] = MappingProxyType(
    {
        "client.known_operation": "method + path is an operation of the spec",
        "client.request_schema": "the body (and headers) are valid against the operation's request schema",
        "client.batch_size": "a batch holds at least min_items items, and at most max_items when one is set",
        "client.id_string": "ids have the spec's type: the contract's explicit id in bodies, ids in paths",
        "client.content_type": "a JSON body comes with a JSON content type; no POST/PATCH without a body",
        "client.query_params": "only documented query parameters, in their documented formats",
        "client.timestamps": "date-time fields carry a full RFC 3339 date-time with seconds and an offset",
        "client.auth": "credentials of the spec's security scheme are present and well formed",
        "client.conflict_backoff": "after a 'still processing' answer the same request waits before a resend",
        "client.poll_interval": "an asynchronous operation is not polled faster than the minimum interval",
        "client.resubmit_running": "a batch is not sent again while the operation it started still runs",
    }
)
SERVER_RULES: MappingProxyType[str, str] = MappingProxyType(
    {"server.response_schema": "the upstream's answer is valid against the spec's response schema"}
)
RULES: MappingProxyType[str, str] = MappingProxyType({**CLIENT_RULES, **SERVER_RULES})


@dataclass(frozen=True)
class RequestSummary:
    """Enough of a request to recognise it in a report (the body only as size + sha256 + a prefix)."""

    method: str
    path: str
    query: str = ""
    identity: str = ""  # Basic user name or a digest of the key/token; '' when none could be read
    content_type: str = ""
    body_size: int = 0
    body_sha256: str = ""
    body_excerpt: str = ""
    operation_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestSummary:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def line(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query}"


@dataclass(frozen=True)
class Violation:
    """One broken rule. `pointer` is where in the body (for a batch whose API locates errors by pointer,
    that API's own pointer syntax; otherwise RFC 6901 into the request body) or None;
    `location` says which part of the request: body, query:NAME, header:NAME, path, method, response."""

    rule: str
    message: str
    request: RequestSummary
    pointer: str | None = None
    location: str = "body"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "message": self.message,
            "pointer": self.pointer,
            "location": self.location,
            "request": self.request.to_dict(),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Violation:
        return cls(
            rule=str(data["rule"]),
            message=str(data["message"]),
            request=RequestSummary.from_dict(dict(data.get("request") or {})),
            pointer=data.get("pointer"),
            location=str(data.get("location", "body")),
            extra=dict(data.get("extra") or {}),
        )
