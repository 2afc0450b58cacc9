"""A value of the contract's ownership member that no caller can own: derived from the member's schema,
so the ownership rule runs in every run, even when the caller names no value another account owns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

__all__ = ["unowned_value"]

_INT32_MAX = 2**31 - 1
_SAFE_INT_MAX = 2**53 - 1


def unowned_value(schema: dict[str, Any], owned: Sequence[Any], seed: int = 0) -> Any | None:
    """A value ``schema`` allows that is not in ``owned`` and that no server plausibly issued (the top
    of an integer range, a random UUID, a marked string); None when the schema leaves no such value
    (an enum, a pattern, a boolean...)."""
    if "enum" in schema or "const" in schema:
        return None
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    taken = {str(v) for v in owned}
    if "integer" in kinds:
        return _integer(schema, taken, seed)
    if "string" in kinds and "pattern" not in schema:
        return _string(schema, taken, seed)
    return None


def _integer(schema: dict[str, Any], taken: set[str], seed: int) -> int | None:
    top = _INT32_MAX if schema.get("format") == "int32" or "maximum" not in schema else _SAFE_INT_MAX
    high = int(schema.get("maximum", top))
    if "exclusiveMaximum" in schema and isinstance(schema["exclusiveMaximum"], int | float):
        high = min(high, int(schema["exclusiveMaximum"]) - 1)
    low = int(schema.get("minimum", 1))
    candidate = high - seed % 997  # near the top of the range: ids are issued from the bottom
    while str(candidate) in taken and candidate > low:
        candidate -= 1
    return candidate if candidate >= low and str(candidate) not in taken else None


def _string(schema: dict[str, Any], taken: set[str], seed: int) -> str | None:
    if schema.get("format") == "uuid":
        value = str(uuid.UUID(int=(0x0C0FFEE << 96) + seed, version=4))
    else:
        value = f"oc-unowned-{seed:x}"
        shortest, longest = int(schema.get("minLength", 0)), schema.get("maxLength")
        value = value.ljust(shortest, "x")
        if longest is not None:
            value = value[: int(longest)]
        if len(value) < max(1, shortest):
            return None
    return value if value not in taken else None
