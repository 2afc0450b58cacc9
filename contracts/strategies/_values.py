"""Constructive Hypothesis strategies for any dereferenced JSON schema, with realistic leaf values.

No filtering at draw time: bounds, enums, patterns and lengths are built into each strategy. A ``force``
path makes the generated value contain that path (optional properties present, arrays non-empty, the
named ``oneOf`` branch chosen) so a fault can be injected there.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

from ._schema import BRANCH, ITEM, normalize, pointer_of, schema_types

__all__ = ["value_strategy"]

Strategy = st.SearchStrategy[Any]

_HINTS: dict[str, list[str]] = {
    "currency": ["EUR", "GBP", "USD", "CHF", "SEK", "PLN", "DKK"],
    "country_code": ["NL", "DE", "BE", "FR", "GB", "US", "ES", "IT", "AT", "PL"],
    "country_of_origin": ["NL", "CN", "DE", "US", "IT", "VN"],
    "name": ["John Doe", "Jane Doe", "Cylinder candle", "Orange", "Zoë Müller", "Søren Ødegård"],
    "company_name": ["Parcel & Co", "Acme B.V.", "Bäckerei Köhler GmbH"],
    "city": ["Eindhoven", "Oss", "Breda", "Berlin", "Paris", "Dawnbrook", "Köln"],
    "postal_code": ["5341AB", "1013 AB", "19804", "10115", "75001", "SW1A 1AA"],
    "house_number": ["15", "50", "118", "7b"],
    "address_line_1": ["Stadhuisplein", "Vierlinghweg", "Wilmington Drive", "Rue de Rivoli"],
    "address_line_2": ["Apartment 17B", "2nd floor"],
    "phone_number": ["+31638426194", "+18882804331", "0612345678"],
    "email": ["johndoe@example.com", "jane.doe+orders@example.org"],
    "state_province_code": ["NB", "DE", "IT-RM", "CA"],
    "hs_code": ["010130", "6205.20", "8471.30"],
    "sku": ["WW-DR-GR-XS-001", "SKU-42", "CANDLE-12x8"],
    "ean": ["0799439112766", "4006381333931"],
    "code": ["fulfilled", "paid", "pending", "unpaid", "cancelled"],
    "message": ["Fulfilled", "Paid", "Order has been paid", "Awaiting payment"],
    "description": ["Pebble green - 12x8 cm", "Orange gift card with face"],
    "image_url": ["https://example.com/images/orange.jpeg", "https://i.example.org/p/42.png"],
    "mid_code": ["NLOZR92MEL", "US1234567"],
    "material_content": ["100% Cotton", "Wood, glass"],
    "intended_use": ["Personal use", "Gift"],
}
_UNITS_NUMBERS = {"length", "width", "height", "value"}
_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.éüßø", min_size=1, max_size=12)


def _fits_string(node: Mapping[str, Any], value: str) -> bool:
    if len(value) < int(node.get("minLength", 0)) or len(value) > int(node.get("maxLength", 10**9)):
        return False
    pattern = node.get("pattern")
    return pattern is None or re.search(str(pattern), value) is not None


def _string(node: Mapping[str, Any], name: str) -> Strategy:
    lo, hi = int(node.get("minLength", 0)), node.get("maxLength")
    fmt = node.get("format")
    if fmt == "date-time":
        moments = st.datetimes(datetime(2016, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))
        return moments.map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    if fmt == "date":
        return st.dates(date(2016, 1, 1), date(2030, 12, 31)).map(date.isoformat)
    if fmt == "uuid":
        return st.uuids().map(str)
    hints = [h for h in _HINTS.get(name, []) if _fits_string(node, h)]
    if fmt == "email" and not hints:
        hints = [h for h in _HINTS["email"] if _fits_string(node, h)]
    if fmt in ("uri", "url") and not hints:
        hints = [h for h in _HINTS["image_url"] if _fits_string(node, h)]
    if hints:
        return st.sampled_from(hints)
    if "pattern" in node:
        regex = st.from_regex(str(node["pattern"]), fullmatch=True)
        if hi is None and lo == 0:
            return regex
        # Bounded pattern: the common shapes (^[A-Z]{2}$ ...) already fix the length.
        return regex.map(lambda s: s[: int(hi)] if hi is not None else s)
    top = int(hi) if hi is not None else max(lo, 1) + 15
    low = max(lo, 1) if top >= 1 else 0
    return st.text(alphabet=string.ascii_letters + string.digits + " -_.éüø", min_size=low, max_size=top)


def _bounds(node: Mapping[str, Any], step: float) -> tuple[float | None, float | None]:
    lo = node.get("minimum")
    hi = node.get("maximum")
    if "exclusiveMinimum" in node and not isinstance(node["exclusiveMinimum"], bool):
        lo = node["exclusiveMinimum"] + step if lo is None else max(lo, node["exclusiveMinimum"] + step)
    if "exclusiveMaximum" in node and not isinstance(node["exclusiveMaximum"], bool):
        hi = node["exclusiveMaximum"] - step if hi is None else min(hi, node["exclusiveMaximum"] - step)
    return lo, hi


def _integer(node: Mapping[str, Any], name: str) -> Strategy:
    lo, hi = _bounds(node, 1)
    low = int(math.ceil(lo)) if lo is not None else (1 if name in ("quantity", "id") else -1000)
    high = int(math.floor(hi)) if hi is not None else max(low, 0) + (10 if name == "quantity" else 100_000)
    return st.integers(low, max(low, high))


def _number(node: Mapping[str, Any], name: str) -> Strategy:
    lo, hi = _bounds(node, 0.01)
    low = lo if lo is not None else (0.0 if name in _UNITS_NUMBERS else -1000.0)
    high = hi if hi is not None else max(low, 0.0) + 1000.0
    cents_lo, cents_hi = math.ceil(low * 100), math.floor(high * 100)
    return st.integers(cents_lo, max(cents_lo, cents_hi)).map(lambda c: c / 100)


def _escape_if(node: Mapping[str, Any]) -> set[str]:
    """Properties to add so an ``if: {not: {required: R}}`` never holds (its ``then`` never applies)."""
    cond = node.get("if")
    if isinstance(cond, dict) and isinstance(cond.get("not"), dict):
        return {str(r) for r in cond["not"].get("required", [])}
    return set()


class _Builder:
    def __init__(self, overrides: Mapping[str, Strategy], omit: frozenset[str]) -> None:
        self.overrides = overrides
        self.omit = omit

    def build(self, schema: Any, at: tuple[str, ...], force: tuple[str, ...]) -> Strategy:
        pointer = pointer_of(at)
        if pointer in self.overrides and not force:
            return self.overrides[pointer]
        node = normalize(schema)
        name = next((s for s in reversed(at) if s != ITEM and s[:1] != BRANCH), "")
        if "const" in node:
            return st.just(node["const"])
        branches = node.get("oneOf") or node.get("anyOf")
        if isinstance(branches, list) and branches:
            return self._branches(node, branches, at, force)
        declared = schema_types(node)
        kinds = [k for k in declared if k != "null"]
        if declared == ["null"]:
            return st.none()
        if "enum" in node:
            values = [v for v in node["enum"] if v is not None] or list(node["enum"])
            return st.sampled_from(values)
        if not kinds:
            return st.one_of(st.integers(0, 9), _TEXT) if not force else st.fixed_dictionaries({})
        kind = "object" if force and force[0] != ITEM and "object" in kinds else kinds[0]
        if force and force[0] == ITEM:
            kind = "array"
        main = self._typed(kind, node, name, at, force)
        if "null" in schema_types(node) and not force:
            return st.sampled_from(range(10)).flatmap(lambda n: st.none() if n == 0 else main)
        return main

    def _branches(
        self, node: Mapping[str, Any], branches: list[Any], at: tuple[str, ...], force: tuple[str, ...]
    ) -> Strategy:
        base = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf")}
        exclusive = "oneOf" in node
        options = []
        for i, raw in enumerate(branches):
            branch = normalize(raw)
            merged = normalize({"allOf": [base, branch]})
            if exclusive:  # drop what another branch requires, so exactly one branch matches
                others = {
                    r for j, b in enumerate(branches) if j != i for r in normalize(b).get("required", [])
                }
                mine = set(merged.get("required", []))
                props = {
                    k: v for k, v in merged.get("properties", {}).items() if k in mine or k not in others
                }
                merged = {**merged, "properties": props}
            options.append((i, merged))
        if force and force[0].startswith(BRANCH):
            chosen = dict(options)[int(force[0][1:])]
            return self.build(chosen, (*at, force[0]), force[1:])
        return st.one_of([self.build(m, (*at, f"{BRANCH}{i}"), ()) for i, m in options])

    def _typed(
        self, kind: str, node: Mapping[str, Any], name: str, at: tuple[str, ...], force: tuple[str, ...]
    ) -> Strategy:
        if kind == "object":
            return self._object(node, at, force)
        if kind == "array":
            return self._array(node, at, force)
        if kind == "string":
            return _string(node, name)
        if kind == "integer":
            return _integer(node, name)
        if kind == "number":
            return _number(node, name)
        if kind == "boolean":
            return st.booleans()
        return st.none()

    def _object(self, node: Mapping[str, Any], at: tuple[str, ...], force: tuple[str, ...]) -> Strategy:
        props: dict[str, Any] = node.get("properties") or {}
        required = set(node.get("required", [])) | _escape_if(node)
        if not props:
            if node.get("additionalProperties") is False:
                return st.just({})
            extra = st.dictionaries(
                st.sampled_from(["size", "color", "note"]), st.one_of(st.integers(0, 99), _TEXT), max_size=2
            )
            return extra
        must: dict[str, Strategy] = {}
        may: dict[str, Strategy] = {}
        for prop, sub in sorted(props.items()):
            here = (*at, prop)
            if force and force[0] == prop:
                must[prop] = self.build(sub, here, force[1:])
            elif pointer_of(here) in self.omit:
                continue
            elif prop in required or pointer_of(here) in self.overrides:
                must[prop] = self.build(sub, here, ())
            else:
                may[prop] = self.build(sub, here, ())
        return st.fixed_dictionaries(must, optional=may)

    def _array(self, node: Mapping[str, Any], at: tuple[str, ...], force: tuple[str, ...]) -> Strategy:
        items = node.get("items") if isinstance(node.get("items"), dict) else {}
        lo = int(node.get("minItems", 0))
        hi = int(node.get("maxItems", lo + 3))
        hi = min(hi, max(lo, 1) + 2)
        item = self.build(items, (*at, ITEM), ())
        if force and force[0] == ITEM:
            first = self.build(items, (*at, ITEM), force[1:])
            rest = st.lists(item, min_size=max(0, lo - 1), max_size=max(0, hi - 1))
            return st.tuples(first, rest).map(lambda fr: [fr[0], *fr[1]])
        return st.lists(item, min_size=lo, max_size=max(lo, hi))


def value_strategy(
    schema: Any,
    *,
    force: tuple[str, ...] = (),
    overrides: Mapping[str, Strategy] | None = None,
    omit: frozenset[str] = frozenset(),
) -> Strategy:
    """Strategy for values valid against ``schema`` (dereferenced).

    ``overrides`` maps RFC 6901 pointers to strategies used there instead; ``omit`` lists optional
    pointers never generated; ``force`` (segments, see ``_schema``) must exist in every value.
    """
    return _Builder(overrides or {}, omit).build(schema, (), tuple(force))
