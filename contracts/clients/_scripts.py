"""Scripted answers: 'answer the next N matching requests with a conflict / a 5xx / after a delay'."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "ANSWERS",
    "MAX_COUNT",
    "MAX_DELAY_S",
    "Script",
    "ScriptError",
    "conflict_body",
    "parse_script_flag",
    "script_from_json",
    "server_error_body",
]

ANSWERS = ("conflict", "server_error", "delay")
MAX_DELAY_S = 30.0
MAX_COUNT = 10_000
_METHODS = {"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"}
_FLAG = re.compile(
    r"(?P<answer>[a-z_]+)(?::(?P<count>\d+))?(?::(?P<delay>\d+(?:\.\d+)?))?(?:@(?P<method>[A-Za-z]+)?(?P<path>/\S*)?)?"
)


class ScriptError(ValueError):
    """A scripted answer that cannot be used; `pointer` names the offending field of the JSON form."""

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message)
        self.pointer = pointer


@dataclass(frozen=True)
class Script:
    """Answer the next `count` requests matching method/path (None = any) with `answer`."""

    answer: str
    count: int = 1
    method: str | None = None
    path: str | None = None
    delay_s: float = 0.0
    status: int = 500  # for server_error

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise ScriptError(f"unknown answer {self.answer!r}; use one of: {', '.join(ANSWERS)}", "/answer")
        if not 1 <= self.count <= MAX_COUNT:
            raise ScriptError(f"count must be between 1 and {MAX_COUNT}, got {self.count}", "/count")
        if not 0 <= self.delay_s <= MAX_DELAY_S:
            raise ScriptError(
                f"delay_s must be between 0 and {MAX_DELAY_S:g} seconds, got {self.delay_s}", "/delay_s"
            )
        if self.answer == "delay" and self.delay_s <= 0:
            raise ScriptError(
                'a delay answer needs delay_s > 0 (e.g. delay:1:2.5 or "delay_s": 2.5)', "/delay_s"
            )
        if not 500 <= self.status <= 599:
            raise ScriptError(f"status of a server_error must be 5xx, got {self.status}", "/status")
        if self.method is not None and self.method not in _METHODS:
            raise ScriptError(f"unknown HTTP method {self.method!r}", "/match/method")
        if self.path is not None and not self.path.startswith("/"):
            raise ScriptError(f"match path must start with '/', got {self.path!r}", "/match/path")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and (
            self.path is None or self.path == path
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["match"] = {"method": data.pop("method"), "path": data.pop("path")}
        return data


def parse_script_flag(text: str, *, default_conflict_path: str = "/api/v3/orders") -> Script:
    """`ANSWER[:COUNT[:DELAY_S]][@[METHOD]/PATH]`, e.g. `conflict:2`, `server_error:1@GET/api/v3/orders`,
    `delay:3:1.5`.  A conflict matches POST on the batch endpoint unless told otherwise."""
    match = _FLAG.fullmatch(text.strip())
    if not match:
        raise ScriptError(
            f"cannot read script {text!r}; write ANSWER[:COUNT[:DELAY_S]][@METHOD/PATH], e.g. conflict:2"
        )
    answer = match.group("answer")
    method = match.group("method").upper() if match.group("method") else None
    path = match.group("path")
    if answer == "conflict" and method is None and path is None:
        method, path = "POST", default_conflict_path
    return Script(
        answer=answer,
        count=int(match.group("count") or 1),
        method=method,
        path=path,
        delay_s=float(match.group("delay") or 0.0),
    )


def _number(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScriptError(f"{key} must be a number, got {type(value).__name__}", f"/{key}")
    return float(value)


def script_from_json(data: Any) -> Script:
    """The body of `POST /_contract/script`:
    {"match": {"method": "POST", "path": "/api/v3/orders"}, "answer": "conflict", "count": 2, "delay_s": 0}"""
    if not isinstance(data, dict):
        raise ScriptError("expected a JSON object with 'answer' (and 'match', 'count', 'delay_s', 'status')")
    match = data.get("match", {})
    if not isinstance(match, dict):
        raise ScriptError("match must be an object with optional 'method' and 'path'", "/match")
    method, path = match.get("method"), match.get("path")
    for key, value in (("method", method), ("path", path)):
        if value is not None and not isinstance(value, str):
            raise ScriptError(f"match.{key} must be a string", f"/match/{key}")
    answer = data.get("answer")
    if not isinstance(answer, str):
        raise ScriptError(f"answer must be one of: {', '.join(ANSWERS)}", "/answer")
    count = _number(data, "count", 1)
    if count != int(count):
        raise ScriptError("count must be a whole number", "/count")
    return Script(
        answer=answer,
        count=int(count),
        method=method.upper() if isinstance(method, str) else None,
        path=path,
        delay_s=_number(data, "delay_s", 0.0),
        status=int(_number(data, "status", 500)),
    )


def conflict_body(conflict: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The documented 'still processing' answer, from the x-contract `conflict` block."""
    status = int(conflict.get("status", 400))
    item: dict[str, Any] = {
        "status": str(status),
        "code": str(conflict.get("code", "invalid")),
        "detail": str(
            conflict.get(
                "detail", "We are still processing a previous request. Please try again in a moment."
            )
        ),
        "source": {"pointer": str(conflict.get("pointer", "/data"))},
    }
    return status, {"errors": [item]}


def server_error_body(status: int) -> dict[str, Any]:
    item = {
        "status": str(status),
        "code": "invalid",
        "title": "Internal server error" if status == 500 else "Service unavailable",
        "detail": "Scripted server error (orders-contract client check); retry later.",
    }
    return {"errors": [item]}
