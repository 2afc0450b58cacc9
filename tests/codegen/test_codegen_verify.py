"""`proves_valid` (codegen/_verify.py) never vouches for a spec openapi-spec-validator finds fault with.

Targeted defects (one per kind of check openapi-spec-validator makes) and random mutations of real specs:
whenever `proves_valid` says True, openapi-spec-validator must report nothing."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from codegen_support import FIXTURES, OUR_SPECS, VENDOR_SPEC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import OpenAPIV31SpecValidator

from codegen import load_spec, validate
from codegen._validate import FastOpenAPIV31SpecValidator
from codegen._verify import proves_valid

SPECS = [
    *OUR_SPECS.values(),
    *sorted(FIXTURES.glob("*.yaml")),
    *([VENDOR_SPEC] if VENDOR_SPEC.is_file() else []),
]
BASE = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "tags": [{"name": "a"}],
    "paths": {
        "/items/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "operationId": "getItem",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "integer", "default": 1}}],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                    }
                },
            },
        },
        "/items": {"post": {"operationId": "addItem", "responses": {"201": {"description": "made"}}}},
    },
    "components": {
        "schemas": {
            "Item": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string"}, "size": {"$ref": "#/components/schemas/Size"}},
            },
            "Size": {"type": "integer", "minimum": 0, "default": 3},
            "Big": {"allOf": [{"$ref": "#/components/schemas/Item"}], "required": ["id"]},
        }
    },
}


def stock_errors(document: dict[str, Any]) -> list[str]:
    """openapi-spec-validator's findings; it raising counts as one (`validate` reports it as one)."""
    found = []
    try:
        for e in OpenAPIV31SpecValidator(document).iter_errors():
            found.append(str(e).splitlines()[0])
    except Exception as exc:
        found.append(f"raised {type(exc).__name__}")
    return found


def test_the_base_spec_is_proven_valid() -> None:
    assert stock_errors(BASE) == []
    assert proves_valid(copy.deepcopy(BASE))


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_real_specs_are_proven_valid_without_importing_the_validator(spec: Path) -> None:
    assert proves_valid(load_spec(spec).document)


def _item(document: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = document["paths"]["/items/{id}"]
    return item


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = document["components"]["schemas"]
    return schemas


DEFECTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "document schema: info without version": lambda d: d["info"].pop("version"),
    "duplicate tag": lambda d: d["tags"].append({"name": "a"}),
    "duplicate operationId": lambda d: d["paths"]["/items"]["post"].update(operationId="getItem"),
    "template parameter not declared": lambda d: _item(d).pop("parameters"),
    "declared path parameter not in the template": lambda d: _item(d)["get"]["parameters"].append(
        {"name": "other", "in": "path", "required": True}
    ),
    "duplicate parameter": lambda d: _item(d)["get"]["parameters"].append({"name": "q", "in": "query"}),
    "schema not valid under the dialect": lambda d: _schemas(d)["Size"].update(type="strin"),
    "parameter schema not valid": lambda d: _item(d)["parameters"][0].update(schema={"minimum": "0"}),
    "default of the wrong type": lambda d: _schemas(d)["Size"].update(default="three"),
    "default below the minimum": lambda d: _schemas(d)["Size"].update(default=-1),
    "parameter default of the wrong type": lambda d: _item(d)["get"]["parameters"][0]["schema"].update(
        default="x"
    ),
    "allOf and a required name defined nowhere": lambda d: _schemas(d)["Big"].update(required=["nope"]),
    "allOf and a required name defined only in its anyOf": lambda d: _schemas(d)["Big"].update(
        required=["extra"], anyOf=[{"properties": {"extra": {"type": "string"}}}]
    ),
    "a property schema that is a number": lambda d: _schemas(d)["Item"]["properties"].update(id=5),
    "a response schema that is a string": lambda d: _item(d)["get"]["responses"]["200"]["content"][
        "application/json"
    ].update(schema="Item"),
}


@pytest.mark.parametrize("defect", DEFECTS, ids=str)
def test_every_kind_of_defect_is_left_to_openapi_spec_validator(defect: str) -> None:
    broken = copy.deepcopy(BASE)
    DEFECTS[defect](broken)
    assert stock_errors(broken), "openapi-spec-validator finds the defect"
    assert not proves_valid(broken)
    assert validate(broken), "validate reports it (through openapi-spec-validator)"


JUNK = [
    None, 5, -1, 1.5, "x", "strin", True, [], {}, ["a", "a"], {"$ref": "#/components/schemas/Item"},
    {"allOf": [{}], "required": ["a"]},
    {"allOf": [{"properties": {"a": {}}}], "required": ["a"]},
    {"allOf": [{}], "anyOf": [{"properties": {"a": {}}}], "required": ["a"]},
    {"type": "integer", "default": "x"},
    {"type": "string", "minLength": 2, "default": "x"},
    {"type": "object", "properties": {"a": {"type": "integer", "default": 1.5}}},
    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
    {"name": "q", "in": "query", "schema": {"type": "integer", "default": "no"}},
]  # fmt: skip


def _nodes(node: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [trail]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _nodes(value, (*trail, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _nodes(value, (*trail, index))
    return found


def _mutate(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    mutated = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        trail = rng.choice(_nodes(mutated)[1:])
        parent: Any = mutated
        for key in trail[:-1]:
            parent = parent[key]
        kind = rng.random()
        if kind < 0.3 and isinstance(parent, dict):
            del parent[trail[-1]]
        elif kind < 0.4 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[trail[-1]]))  # a duplicate (parameter, tag, ...)
        else:
            parent[trail[-1]] = copy.deepcopy(rng.choice(JUNK))
    return mutated


MUTATED_SPECS = [FIXTURES / "messy_shop.yaml", FIXTURES / "vendor_constructs.yaml"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from([BASE, *(load_spec(p).document for p in MUTATED_SPECS)]), st.randoms())
def test_a_mutated_spec_is_never_vouched_for_wrongly(document: dict[str, Any], rng: random.Random) -> None:
    mutated = _mutate(document, rng)
    if proves_valid(mutated):
        # FastOpenAPIV31SpecValidator reports what the stock one does (test_codegen_validate.py), faster
        assert list(FastOpenAPIV31SpecValidator(mutated).iter_errors()) == [], mutated
