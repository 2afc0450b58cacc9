"""Error values and their JSON shape (the spec's ``ErrorResponse``: ``{"errors": [ErrorObject, ...]}``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson
from starlette.responses import Response

__all__ = ["ApiError", "ErrorItem", "error_response"]

_TITLES: Mapping[int, str] = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    413: "Payload too large",
    415: "Unsupported media type",
    500: "Internal server error",
}


@dataclass(frozen=True)
class ErrorItem:
    """One ``ErrorObject``.  ``source`` holds at most one of pointer / parameter / header."""

    detail: str
    code: str = "invalid"
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None
    title: str | None = None

    def to_json(self, status: int) -> dict[str, object]:
        obj: dict[str, object] = {"status": str(status), "code": self.code}
        if self.title is not None:
            obj["title"] = self.title
        obj["detail"] = self.detail
        source = {
            key: value
            for key, value in (
                ("pointer", self.pointer),
                ("parameter", self.parameter),
                ("header", self.header),
            )
            if value is not None
        }
        if source:
            obj["source"] = source
        return obj


@dataclass
class ApiError(Exception):
    """Raised anywhere in a handler; turned into an ``ErrorResponse`` by the app."""

    status: int
    items: Sequence[ErrorItem]
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def one(
        cls,
        status: int,
        detail: str,
        *,
        code: str = "invalid",
        pointer: str | None = None,
        parameter: str | None = None,
        header: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiError:
        item = ErrorItem(detail, code, pointer, parameter, header, _TITLES.get(status))
        return cls(status, [item], dict(headers or {}))

    def __str__(self) -> str:
        return f"{self.status}: " + "; ".join(item.detail for item in self.items)


def error_response(error: ApiError, *, without_array: bool = False) -> Response:
    """Render an :class:`ApiError`.  ``without_array`` is the ``errors_without_array`` fault."""
    if without_array:
        body: object = {"error": "; ".join(item.detail for item in error.items)}
    else:
        body = {"errors": [item.to_json(error.status) for item in error.items]}
    return Response(
        orjson.dumps(body),
        status_code=error.status,
        media_type="application/json",
        headers=dict(error.headers),
    )
