"""The only module that touches the generated models (``sendcloud_orders.models``).

It validates request payloads that were already parsed with orjson and reports problems as
``Issue(path, message)`` where ``path`` is a tuple of keys / indices inside the validated value.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

__all__ = ["Issue", "load_models", "to_pointer", "validate_batch", "validate_order", "validate_partial"]

_MODELS_MODULE = "sendcloud_orders.models"
# pydantic inserts the name of a union member into ``loc``; these are not JSON keys.
_TYPE_TAGS = frozenset(
    {"str", "int", "float", "bool", "none", "list", "dict", "set", "tuple", "decimal", "any"}
)


@dataclass(frozen=True)
class Issue:
    path: tuple[int | str, ...]
    message: str


class ModelsUnavailableError(RuntimeError):
    """The generated models cannot be imported."""


@dataclass(frozen=True)
class _Adapters:
    batch: TypeAdapter[Any]
    order: TypeAdapter[Any]
    partial: TypeAdapter[Any]


@cache
def load_models() -> _Adapters:
    """Import the generated models once and build the validators (called at app start)."""
    try:
        models = importlib.import_module(_MODELS_MODULE)
    except ImportError as exc:
        raise ModelsUnavailableError(
            f"cannot import {_MODELS_MODULE} ({exc}); run `orders-contract generate` or `make install`"
        ) from exc
    try:
        order_upsert = models.OrderUpsert
        partial = models.OrderPartialUpdate
    except AttributeError as exc:
        raise ModelsUnavailableError(f"{_MODELS_MODULE} lacks a model the server needs: {exc}") from exc
    return _Adapters(
        batch=TypeAdapter(list[order_upsert]),  # type: ignore[valid-type]
        order=TypeAdapter(order_upsert),
        partial=TypeAdapter(partial),
    )


def _clean_loc(loc: Sequence[int | str]) -> tuple[int | str, ...]:
    kept: list[int | str] = []
    for part in loc:
        if isinstance(part, str) and (
            part in _TYPE_TAGS
            or part[:1].isupper()
            or "[" in part
            or part.startswith(("function-", "json-or-python", "lax-or-strict", "tagged-union"))
        ):
            continue
        kept.append(part)
    return tuple(kept)


def _issues(adapter: TypeAdapter[Any], value: Any) -> list[Issue]:
    # Strict JSON-mode validation: the value is JSON, so validate it as JSON (a date-time must be a string;
    # Python-mode lax parsing would take 12345 as a Unix time).  Re-encoding with orjson costs ~0.05 ms.
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes; the caller reports the depth
        encoded = None
    try:
        if encoded is None:
            adapter.validate_python(value)
        else:
            adapter.validate_json(encoded, strict=True)
    except ValidationError as exc:
        return [Issue(_clean_loc(err["loc"]), err["msg"]) for err in exc.errors(include_url=False)]
    return []


def validate_batch(items: list[Any]) -> list[Issue]:
    """Validate a whole batch at once; each issue's path starts with the item index."""
    return _issues(load_models().batch, items)


def validate_order(item: Any) -> list[Issue]:
    return _issues(load_models().order, item)


def validate_partial(item: Any) -> list[Issue]:
    return _issues(load_models().partial, item)


def to_pointer(path: Sequence[int | str]) -> str:
    """RFC 6901 pointer for a path (``''`` for the whole value)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
