"""Find the date-time fields of a body (guided by its schema) and say what is wrong with each value."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

__all__ = ["date_time_problem", "iter_date_times"]

Path = tuple[int | str, ...]

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPACE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}.*")
_NO_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}([Zz]|[+-]\d{2}:?\d{2})?")
_NO_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?")
_BAD_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?[+-](\d{4}|\d{2})")
_EXAMPLE = "2018-02-27T10:00:00.555Z"


def date_time_problem(value: str) -> str | None:
    """None for a full RFC 3339 date-time; otherwise one sentence naming the problem."""
    match = _RFC3339.fullmatch(value)
    if match:
        year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
        try:
            datetime(year, month, day, hour, minute, min(second, 59))
        except ValueError as exc:
            return f"{value!r} is not a real moment ({exc})"
        if match.group(9) is not None and (int(match.group(9)) > 23 or int(match.group(10)) > 59):
            return f"{value!r} has an impossible UTC offset"
        return None
    if _DATE_ONLY.fullmatch(value):
        return f"{value!r} is a date only; send a full date-time such as {_EXAMPLE!r}"
    if _SPACE.fullmatch(value):
        return f"{value!r} separates date and time with a space; RFC 3339 needs 'T' (e.g. {_EXAMPLE!r})"
    if _NO_SECONDS.fullmatch(value):
        return f"{value!r} is truncated (no seconds); send hh:mm:ss and an offset (e.g. {_EXAMPLE!r})"
    if _BAD_OFFSET.fullmatch(value):
        return f"{value!r} has an offset without a colon or minutes; RFC 3339 needs +hh:mm or Z"
    if _NO_OFFSET.fullmatch(value):
        return f"{value!r} has no UTC offset; add 'Z' or +hh:mm so the moment is unambiguous"
    return f"{value!r} is not an RFC 3339 date-time (e.g. {_EXAMPLE!r})"


def iter_date_times(
    resolve: Callable[[Any], Any], schema: Any, instance: Any, path: Path = ()
) -> Iterator[tuple[Path, str]]:
    """Yield (path, value) for every string in `instance` where `schema` says `format: date-time`.

    Follows properties, items, additionalProperties and every branch of allOf/anyOf/oneOf; a path is
    yielded at most once.  Depth is bounded by the instance (no recursion on the schema alone)."""
    seen: set[Path] = set()
    for found in _walk(resolve, schema, instance, path, 0):
        if found[0] not in seen:
            seen.add(found[0])
            yield found


def _walk(
    resolve: Callable[[Any], Any], schema: Any, instance: Any, path: Path, depth: int
) -> Iterator[tuple[Path, str]]:
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth > 64:
        return
    if isinstance(instance, str) and schema.get("format") == "date-time":
        yield path, instance
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword) or []:
            yield from _walk(resolve, branch, instance, path, depth + 1)
    if isinstance(instance, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from _walk(resolve, sub, value, (*path, key), depth + 1)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, value in enumerate(instance):
            yield from _walk(resolve, schema["items"], value, (*path, index), depth + 1)
