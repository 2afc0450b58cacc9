"""Structural validation: the jsonschema_rs meta-schema check refuses every schema the Python check refuses,
so `validate` reports exactly what openapi-spec-validator alone reports (see codegen/_validate.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from codegen_support import FIXTURES, OUR_SPECS, VENDOR_SPEC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import oas31_format_checker
from openapi_schema_validator.validators import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from codegen import load_spec, validate
from codegen._metaschema import meta_schema_accepts

SPECS = [
    *OUR_SPECS.values(),
    *sorted(FIXTURES.glob("*.yaml")),
    *([VENDOR_SPEC] if VENDOR_SPEC.is_file() else []),
]


def python_accepts(schema: Any) -> bool:
    """openapi-spec-validator's own meta-schema check of one 3.1 schema (pure-Python jsonschema)."""
    try:
        OAS31Validator.check_schema(schema, format_checker=oas31_format_checker)
    except Exception:
        return False
    return True


REFUSED = [
    {"type": "strin"},
    {"type": ["string", 5]},
    {"minLength": -1},
    {"minLength": True},
    {"minLength": 1.5},
    {"required": ["a", "a"]},
    {"required": "a"},
    {"pattern": "["},
    {"pattern": "(?<name>x"},
    {"format": 5},
    {"enum": "a"},
    {"discriminator": 5},
    {"discriminator": {"mapping": {}}},  # propertyName is required
    {"properties": {"a": {"discriminator": {"propertyName": 1}}}},  # nested: the dialect's $dynamicRef
    {"items": {"xml": {"name": 3}}},
    {"allOf": [{"externalDocs": {}}]},
    {"$defs": {"x": {"type": "nope"}}},
    {"additionalProperties": 5},
    {"allOf": []},
    {"$anchor": "a b"},
    {"$ref": 5},
    {"exclusiveMinimum": "1"},
    {"dependentRequired": {"a": [1]}},
    {"contentMediaType": 5},
    {"deprecated": "yes"},
    {"examples": 5},
    5,
    "a",
    None,
]
ACCEPTED = [
    True,
    False,
    {},
    {"type": ["string", "null"]},
    {"minLength": 1.0},
    {"pattern": "^(?P<year>[0-9]{4})$"},
    {"discriminator": {"propertyName": "kind", "mapping": {"a": "#/components/schemas/A"}}},
    {"xml": {"name": "order", "wrapped": True}},
    {"x-anything": {"type": 5}, "nullable": "not a 3.1 keyword, ignored"},
    {"properties": {"a": {"$ref": "#/components/schemas/A", "description": "d"}}},
]


@pytest.mark.parametrize("schema", REFUSED, ids=repr)
def test_a_schema_the_python_check_refuses_is_refused(schema: Any) -> None:
    assert not python_accepts(schema)
    assert not meta_schema_accepts(schema)


@pytest.mark.parametrize("schema", ACCEPTED, ids=repr)
def test_a_schema_both_accept_is_not_checked_again(schema: Any) -> None:
    assert python_accepts(schema)
    assert meta_schema_accepts(schema)


def test_a_value_jsonschema_rs_cannot_read_is_left_to_the_python_check() -> None:
    for schema in ({"properties": {1: {"type": "string"}}}, {"maximum": float("inf")}):  # YAML: `1:`, `.inf`
        assert python_accepts(schema)
        assert not meta_schema_accepts(schema)  # not sure: the Python check answers (and accepts)


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "a", "string", "object", "[", "(?<n>x)", "^a$", "#/x", "a b", "null"]),
)
_NAMES = st.sampled_from(["a", "b", "kind", "$ref", "x-y"])
_TYPES = st.sampled_from(["string", "object", "integer", "number", "array", "boolean", "null", "strin"])


def _schemas(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Schema-like objects: each keyword gets a plausible value (valid or nearly so) or any junk."""
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "type": st.one_of(_TYPES, st.lists(_TYPES, max_size=3)),
        "properties": st.dictionaries(_NAMES, children, max_size=2),
        "items": children,
        "not": children,
        "additionalProperties": children,
        "propertyNames": children,
        "unevaluatedProperties": children,
        "$defs": st.dictionaries(_NAMES, children, max_size=2),
        "allOf": st.lists(children, max_size=2),
        "anyOf": st.lists(children, max_size=2),
        "oneOf": st.lists(children, max_size=2),
        "prefixItems": st.lists(children, max_size=2),
        "required": st.lists(_NAMES, max_size=3),
        "dependentRequired": st.dictionaries(_NAMES, st.lists(_NAMES, max_size=2), max_size=2),
        "enum": st.lists(_JUNK, max_size=3),
        "examples": st.lists(_JUNK, max_size=2),
        "const": _JUNK,
        "default": _JUNK,
        "minimum": st.one_of(st.integers(-5, 5), st.floats(-5, 5, allow_nan=False)),
        "exclusiveMinimum": st.one_of(st.integers(-5, 5), st.floats(-5, 5, allow_nan=False)),
        "minLength": st.one_of(st.integers(-1, 5), st.sampled_from([0.0, 2.0, 1.5])),
        "pattern": st.sampled_from(["^a$", "[a-z]+", "(?P<y>x)", "(?<y>x)", "[", "\\d{2}", "a{2,1}"]),
        "format": st.sampled_from(["email", "date-time", "int32", "uri", "nope"]),
        "discriminator": st.fixed_dictionaries(
            {}, optional={"propertyName": st.one_of(_NAMES, _JUNK), "mapping": st.dictionaries(_NAMES, _JUNK)}
        ),
        "xml": st.fixed_dictionaries({}, optional={"name": st.one_of(_NAMES, _JUNK), "wrapped": _JUNK}),
        "externalDocs": st.fixed_dictionaries({}, optional={"url": st.one_of(_NAMES, _JUNK), "x-a": _JUNK}),
        "$ref": st.sampled_from(["#/components/schemas/A", "#/x", "a b", "other.yaml#/B"]),
        "$anchor": st.sampled_from(["a", "a b", "_x", "1"]),
        "nullable": st.booleans(),
        "deprecated": _JUNK,
        "x-extra": _JUNK,
    }
    entry = st.sampled_from(sorted(plausible)).flatmap(
        lambda k: st.tuples(st.just(k), st.one_of(*[plausible[k]] * 7, _JUNK))
    )
    return st.lists(entry, max_size=4).map(dict)


SCHEMAS = st.recursive(st.one_of(st.booleans(), st.just({})), _schemas, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(SCHEMAS)
def test_jsonschema_rs_accepts_nothing_the_python_check_refuses(schema: Any) -> None:
    if meta_schema_accepts(schema):
        assert python_accepts(schema), schema


def _stock_findings(document: dict[str, Any]) -> list[str]:
    return sorted(str(e).splitlines()[0] for e in OpenAPIV31SpecValidator(document).iter_errors())


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_a_real_spec_gets_the_stock_validators_verdict(spec: Path) -> None:
    document = load_spec(spec).document
    assert _stock_findings(document) == []
    assert validate(document) == []


def test_broken_schemas_in_a_spec_get_the_stock_validators_messages() -> None:
    document = yaml.safe_load((OUR_SPECS["sendcloud_orders"]).read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    name = next(iter(schemas))
    broken = copy.deepcopy(document)
    broken["components"]["schemas"][name] = {"type": "object", "discriminator": {"mapping": {}}}
    stock = _stock_findings(broken)
    assert stock, "the stock validator finds the broken schema"
    ours = validate(broken)
    assert ours and all(f.level == "error" for f in ours)
    assert sorted(f.message for f in ours) == stock
