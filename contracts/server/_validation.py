"""Validation of request items: with the generated package the spec names (pydantic models), or, until that
package exists, with the spec's JSON Schema of the item.  Problems come back as ``Issue(path, message, kind)``
where ``path`` is a tuple of keys / indices inside the validated value.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import orjson
from pydantic import TypeAdapter, ValidationError

from ._fastcheck import Accepts, from_json_schema, from_models
from ._shape import Shape

__all__ = ["Issue", "ModelsUnavailableError", "Validators", "validators_for"]

log = logging.getLogger("contracts.server")
Kind = Literal["required", "empty", "invalid"]
# pydantic inserts the name of a union member into ``loc``; these are not JSON keys.
_TYPE_TAGS = frozenset(
    {"str", "int", "float", "bool", "none", "list", "dict", "set", "tuple", "decimal", "any"}
)
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


@dataclass(frozen=True)
class Issue:
    path: tuple[int | str, ...]
    message: str
    kind: Kind = "invalid"


class ModelsUnavailableError(RuntimeError):
    """The generated package exists but lacks a model the server needs."""


Check = Callable[[Any], list[Issue]]


@dataclass(frozen=True)
class Validators:
    batch: Check  # a list of items; each issue's path starts with the item index
    item: Check
    partial: Check | None  # an update body, when the spec has an update operation
    source: str  # "pydantic <module>" or "JSON Schema"
    # True: ``batch`` would find nothing (jsonschema_rs, never looser: see _fastcheck); None: no fast check
    accepts: Accepts | None = None

    def batch_issues(self, items: list[Any]) -> list[Issue]:
        """``batch(items)``, asked only when the fast check does not accept the items outright."""
        if self.accepts is not None and self.accepts(items):
            return []
        return self.batch(items)


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


def _pydantic_check(adapter: TypeAdapter[Any]) -> Check:
    def check(value: Any) -> list[Issue]:
        # Strict JSON-mode validation: the value is JSON, so validate it as JSON (a date-time must be a
        # string; Python-mode lax parsing would take 12345 as a Unix time).  Re-encoding costs ~0.05 ms.
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
            issues = []
            for err in exc.errors(include_url=False):
                kind: Kind = "required" if err["type"] == "missing" else "invalid"
                if err["type"] == "too_short" and (err.get("ctx") or {}).get("actual_length") == 0:
                    kind = "empty"
                issues.append(Issue(_clean_loc(err["loc"]), err["msg"], kind))
            return issues
        return []

    return check


def _schema_check(shape: Shape, ref: dict[str, Any]) -> Check:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = dict(shape.document)
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:orders-contract:spec", resource)
    validator = jsonschema.Draft202012Validator(ref, registry=registry)

    def check(value: Any) -> list[Issue]:
        issues = []
        for error in sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]):
            path = tuple(error.absolute_path)
            if error.validator == "required":
                found = _REQUIRED.match(error.message)
                name = found.group(1) if found else ""
                issues.append(Issue((*path, name), "This field is required.", "required"))
            elif error.validator == "minItems" and isinstance(error.instance, list) and not error.instance:
                issues.append(Issue(path, "This list may not be empty.", "empty"))
            else:
                issues.append(Issue(path, error.message, "invalid"))
        return issues

    return check


def _schema_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"urn:orders-contract:spec#/components/schemas/{name}"}


@cache
def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


_VALIDATORS: dict[int, Validators] = {}


def validators_for(shape: Shape) -> Validators:
    """Pydantic validators from the spec's generated package when it can be imported, else JSON Schema
    (built once per shape)."""
    found = _VALIDATORS.get(id(shape))
    if found is None:
        found = _VALIDATORS[id(shape)] = _build(shape)
    return found


def _build(shape: Shape) -> Validators:
    package = shape.contract.package
    models = _import(f"{package}.models") if package else None
    if models is not None and shape.item_model:
        try:
            item_model = getattr(models, shape.item_model)
            partial_model = getattr(models, shape.patch_model) if shape.patch_model else None
        except AttributeError as exc:
            raise ModelsUnavailableError(f"{package}.models lacks a model the server needs: {exc}") from exc
        batch: TypeAdapter[Any] = TypeAdapter(list[item_model])  # type: ignore[valid-type]
        return Validators(
            batch=_pydantic_check(batch),
            item=_pydantic_check(TypeAdapter(item_model)),
            partial=_pydantic_check(TypeAdapter(partial_model)) if partial_model is not None else None,
            source=f"pydantic {package}.models",
            accepts=from_models(batch),
        )
    if package:
        log.warning("generated package %s not importable: validating with the spec's JSON Schema", package)
    item = _schema_ref(shape.item_model) if shape.item_model else dict(shape.item_schema or {})
    partial = _schema_ref(shape.patch_model) if shape.patch_model else None
    return Validators(
        batch=_schema_check(shape, {"type": "array", "items": item}),
        item=_schema_check(shape, item),
        partial=_schema_check(shape, partial) if partial else None,
        source="JSON Schema",
        accepts=from_json_schema(
            shape.document,
            {"$ref": f"#/components/schemas/{shape.item_model}"} if shape.item_model else item,
        ),
    )
