"""The values the demo accounts own, derived from the spec's ownership member so that they validate.

The demo account owns two values and the other account one (the suite uses the second account's value as
the foreign one). Integers keep the long-documented 7, 739283 and 8 when the member's schema allows them;
any other schema gets the first triple of distinct candidates that its schema (type, length, pattern,
enum, format) accepts, else the three smallest strings its pattern generates.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import jsonschema

from contracts.contract import Contract, deref

from ._shape import object_members, shape_of

__all__ = ["DemoValuesError", "demo_owned_values"]

DOCUMENTED_OWNED: tuple[Any, Any, Any] = (7, 739283, 8)


class DemoValuesError(ValueError):
    """No three distinct values of the ownership member could be derived from its schema."""


def _member_schema(contract: Contract, member: str) -> Any:
    from contracts.contract import split_pointer

    document = contract.document
    node: Any = shape_of(contract).item_schema
    for token in split_pointer(member):
        properties, _ = object_members(document, node)
        if token not in properties:
            return {}
        node = deref(document, properties[token])
    return node if isinstance(node, Mapping) else {}


def _candidates(schema: Mapping[str, Any]) -> list[tuple[Any, Any, Any]]:
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) >= 3:
        return [(enum[0], enum[1], enum[2])]
    if "const" in schema:
        return []
    low = schema.get("minimum", 1)
    low = int(low) if isinstance(low, int | float) and not isinstance(low, bool) else 1
    uuids = tuple(str(uuid.UUID(int=(0xDE30 << 112) + n, version=4)) for n in (1, 2, 3))
    return [
        DOCUMENTED_OWNED,
        (low, low + 1, low + 2),
        uuids,
        ("demo-1", "demo-2", "other-1"),
        ("DEMO1", "DEMO2", "OTHR1"),
        ("DMA1", "DMB2", "OTH3"),
        ("demo1", "demo2", "other1"),
        ("D1", "D2", "O1"),
        ("A", "B", "C"),
        ("a", "b", "c"),
        ("1", "2", "3"),
        ("demo@example.com", "demo2@example.com", "other@example.com"),
    ]


def demo_owned_values(contract: Contract) -> tuple[Any, Any, Any]:
    """Three distinct values of the ownership member that its schema accepts (two for the demo account, one
    for the other); the documented 7, 739283, 8 when there is no ownership member or it takes them."""
    if contract.ownership is None:
        return DOCUMENTED_OWNED
    member = contract.ownership.member
    schema = dict(_member_schema(contract, member))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for triple in _candidates(schema):
        if len(set(map(str, triple))) == 3 and all(validator.is_valid(value) for value in triple):
            return triple
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        found = _from_pattern(pattern, validator)
        if found is not None:
            return found
    raise DemoValuesError(
        f"cannot derive demo values of the ownership member {member} from its schema; "
        "give the accounts and what they own in a --config file ([[accounts]] owns = [...])"
    )


def _from_pattern(pattern: str, validator: Any) -> tuple[Any, Any, Any] | None:
    """The three smallest distinct strings the pattern (and the rest of the schema) accepts: Hypothesis's
    shrinking makes them the same on every start (only reached when no fixed candidate fits)."""
    from hypothesis import HealthCheck, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    try:
        values = st.from_regex(pattern, fullmatch=True).filter(validator.is_valid)
        found = find(
            st.lists(values, min_size=3, max_size=3, unique=True),
            lambda _: True,
            settings=settings(database=None, max_examples=500, suppress_health_check=list(HealthCheck)),
        )
    except (NoSuchExample, Unsatisfiable, re.error):
        return None
    return found[0], found[1], found[2]
