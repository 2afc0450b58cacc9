"""Scripted answers: 'answer the next N matching requests with a conflict / a 5xx / after a delay'."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "ANSWERS",
    "MAX_COUNT",
    "MAX_DELAY_S",
    "NO_CONFLICT",
    "Script",
    "ScriptError",
    "parse_script_flag",
    "script_from_json",
]

ANSWERS = ("conflict", "server_error", "delay")
MAX_DELAY_S = 30.0
MAX_COUNT = 10_000
NO_CONFLICT = "the spec documents no conflict answer, so there is none to script; use server_error or delay"
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


def parse_script_flag(
    text: str, *, default_conflict: tuple[str, str] | None = None, conflicts: bool = True
) -> Script:
    """`ANSWER[:COUNT[:DELAY_S]][@[METHOD]/PATH]`, e.g. `conflict:2`, `server_error:1@GET/v1/items`,
    `delay:3:1.5`.  A conflict matches ``default_conflict`` (method, path: the batch endpoint) unless told
    otherwise; ``conflicts=False`` (the spec documents no conflict answer) refuses conflict scripts."""
    match = _FLAG.fullmatch(text.strip())
    if not match:
        raise ScriptError(
            f"cannot read script {text!r}; write ANSWER[:COUNT[:DELAY_S]][@METHOD/PATH], e.g. conflict:2"
        )
    answer = match.group("answer")
    method = match.group("method").upper() if match.group("method") else None
    path = match.group("path")
    if answer == "conflict" and not conflicts:
        raise ScriptError(NO_CONFLICT)
    if answer == "conflict" and method is None and path is None and default_conflict is not None:
        method, path = default_conflict
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
    {"match": {"method": "POST", "path": "/v1/items"}, "answer": "conflict", "count": 2, "delay_s": 0}"""
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
