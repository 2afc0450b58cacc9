"""Error values and their JSON shape, written the way the served contract's ``errors`` block says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response

from contracts.contract import pointer_set

from ._shape import Shape

__all__ = ["ApiError", "ErrorItem", "documented_item", "error_response"]

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
    """One error.  ``location`` is where it is, as the contract writes it: a pointer (pointer style) or the
    message prefix (message-path style); ``index`` the failing item's index, when one fails."""

    detail: str
    code: str = "invalid"
    location: str | None = None
    parameter: str | None = None
    header: str | None = None
    title: str | None = None
    index: int | None = None

    def to_json(self, status: int, shape: Shape) -> dict[str, Any]:
        rules = shape.contract.errors
        obj: dict[str, Any] = {}
        if rules.status:
            pointer_set(obj, rules.status, str(status))
        if rules.code:
            pointer_set(obj, rules.code, shape.code(self.code))
        if shape.error_title and self.title is not None:
            obj["title"] = self.title
        detail = self.detail
        if rules.style == "pointer":
            pointer_set(obj, rules.detail, detail)
            for member, value in (
                (rules.member, self.location),
                (shape.parameter_member, self.parameter),
                (rules.header_member, self.header),
            ):
                if member and value is not None:
                    pointer_set(obj, member, value)
            return obj
        if self.location and not detail.startswith(self.location):
            detail = self.location + detail
        elif self.parameter is not None and not detail.startswith(self.parameter):
            detail = f"{self.parameter}: {detail}"
        pointer_set(obj, rules.detail, detail)
        if self.index is not None and rules.index_member:
            pointer_set(obj, rules.index_member, self.index)
        return obj


@dataclass
class ApiError(Exception):
    """Raised anywhere in a handler; turned into the contract's error answer by the app."""

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
        location: str | None = None,
        parameter: str | None = None,
        header: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiError:
        item = ErrorItem(detail, code, location, parameter, header, _TITLES.get(status))
        return cls(status, [item], dict(headers or {}))

    def __str__(self) -> str:
        return f"{self.status}: " + "; ".join(item.detail for item in self.items)


def documented_item(
    shape: Shape,
    name: str,
    *,
    detail: str,
    code: str = "invalid",
    location: str | None = None,
    index: int | None = None,
    title: str | None = None,
    **values: Any,
) -> tuple[int | None, ErrorItem]:
    """(documented status or None, the error) for the documented error ``name``; ``detail``/``code`` are the
    fallbacks when the spec documents no such error.  ``location`` defaults to the documented pointer."""
    found = shape.contract.errors.get(name)
    if found is None:
        try:
            text = detail.format(**values) if values else detail
        except (KeyError, IndexError, ValueError):
            text = detail
        return None, ErrorItem(text, code, location, title=title, index=index)
    where = location if location is not None else found.pointer
    header = found.header if found.header and shape.contract.errors.style == "pointer" else None
    item = ErrorItem(
        found.render(index=index, **values),
        found.code or code,
        where,
        header=header,
        title=title,
        index=index,
    )
    return found.status, item


def error_response(error: ApiError, shape: Shape, *, without_array: bool = False) -> Response:
    """Render an :class:`ApiError`.  ``without_array`` is the ``errors_without_array`` fault."""
    if without_array:
        body: Any = {"error": "; ".join(item.detail for item in error.items)}
    else:
        body = shape.contract.errors.envelope([i.to_json(error.status, shape) for i in error.items])
    return Response(
        orjson.dumps(body),
        status_code=error.status,
        media_type="application/json",
        headers=dict(error.headers),
    )
