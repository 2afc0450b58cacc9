"""One test per normaliser rewrite: the rewritten node and the finding's location (a JSON pointer)."""

from __future__ import annotations

import copy
from typing import Any

from codegen import REWRITES, Finding, normalise


def spec(
    schemas: dict[str, Any], paths: dict[str, Any] | None = None, version: str = "3.1.0"
) -> dict[str, Any]:
    return {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": paths or {},
        "components": {"schemas": schemas},
    }


def run(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Finding]]]:
    out, findings = normalise(document)
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)
    assert all(f.level == "warning" for f in findings)
    return out, by_rule


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"]
    return result


def test_nullable_with_type_becomes_a_type_array() -> None:
    doc, found = run(
        spec({"A": {"type": "object", "properties": {"x": {"type": "string", "nullable": True}}}})
    )
    assert schemas(doc)["A"]["properties"]["x"] == {"type": ["string", "null"]}
    assert [f.location for f in found["nullable"]] == ["/components/schemas/A/properties/x/nullable"]


def test_nullable_enum_and_ref_become_any_of_null() -> None:
    props = {
        "e": {"type": "string", "enum": ["a", "b"], "nullable": True, "description": "d"},
        "r": {"$ref": "#/components/schemas/B", "nullable": True},
    }
    doc, found = run(spec({"A": {"type": "object", "properties": props}, "B": {"type": "object"}}))
    out = schemas(doc)["A"]["properties"]
    assert out["e"] == {
        "anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}],
        "description": "d",
    }
    assert out["r"] == {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]}
    assert len(found["nullable"]) == 2


def test_nullable_is_left_alone_in_30_specs() -> None:
    doc, found = run(spec({"A": {"type": "string", "nullable": True}}, version="3.0.3"))
    assert schemas(doc)["A"] == {"type": "string", "nullable": True}
    assert "nullable" not in found


def test_alias_schema_is_removed_and_references_follow() -> None:
    doc, found = run(
        spec(
            {
                "Thing": {"$ref": "#/components/schemas/thing"},
                "thing": {"type": "object", "properties": {"n": {"type": "integer"}}},
                "Box": {"type": "object", "properties": {"t": {"$ref": "#/components/schemas/Thing"}}},
            }
        )
    )
    assert sorted(schemas(doc)) == ["Box", "Thing"]  # `thing` took the class name Thing
    assert schemas(doc)["Box"]["properties"]["t"] == {"$ref": "#/components/schemas/Thing"}
    assert schemas(doc)["Thing"]["properties"] == {"n": {"type": "integer"}}
    assert found["alias-schema"][0].location == "/components/schemas/Thing"


MONEY = {"type": "object", "properties": {"value": {"type": "number"}, "currency": {"type": "string"}}}


def test_required_beside_single_ref_one_of_is_hoisted_into_a_shared_component() -> None:
    price = {
        "oneOf": [{"$ref": "#/components/schemas/money"}],
        "required": ["value", "currency"],
        "description": "p",
    }
    order = {"type": "object", "properties": {"total": copy.deepcopy(price), "sub": copy.deepcopy(price)}}
    doc, found = run(spec({"money": MONEY, "order": order}))
    props = schemas(doc)["Order"]["properties"]
    assert props["total"] == {"$ref": "#/components/schemas/MoneyRequired", "description": "p"}
    assert props["sub"] == props["total"]
    assert schemas(doc)["MoneyRequired"]["required"] == ["value", "currency"]
    assert "required" not in schemas(doc)["Money"]
    locations = sorted(f.location for f in found["required-beside-ref"])
    assert locations == [
        "/components/schemas/order/properties/sub",
        "/components/schemas/order/properties/total",
    ]


def test_required_beside_ref_on_a_component_merges_in_place() -> None:
    billing = {
        "title": "Billing",
        "oneOf": [{"$ref": "#/components/schemas/money"}],
        "required": ["currency"],
    }
    doc, found = run(spec({"money": MONEY, "billing": billing}))
    assert schemas(doc)["Billing"]["required"] == ["currency"]
    assert set(schemas(doc)["Billing"]["properties"]) == {"value", "currency"}
    assert found["required-beside-ref"][0].location == "/components/schemas/billing"
    assert '"required": ["currency"]' in found["required-beside-ref"][0].snippet


def test_single_element_one_of_becomes_its_element() -> None:
    a = {
        "type": "object",
        "properties": {"b": {"oneOf": [{"$ref": "#/components/schemas/B"}], "description": "x"}},
    }
    doc, found = run(spec({"A": a, "B": {"type": "object"}}))
    assert schemas(doc)["A"]["properties"]["b"] == {"$ref": "#/components/schemas/B", "description": "x"}
    assert found["single-variant"][0].location == "/components/schemas/A/properties/b/oneOf"


def test_type_array_beside_ref() -> None:
    props = {
        "n": {"type": ["object", "null"], "title": "N", "$ref": "#/components/schemas/B"},
        "m": {"type": "object", "$ref": "#/components/schemas/B"},
    }
    doc, found = run(spec({"A": {"type": "object", "properties": props}, "B": {"type": "object"}}))
    out = schemas(doc)["A"]["properties"]
    assert out["n"] == {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]}
    assert out["m"] == {"$ref": "#/components/schemas/B"}
    assert sorted(f.location for f in found["type-beside-ref"]) == [
        "/components/schemas/A/properties/m/type",
        "/components/schemas/A/properties/n/type",
    ]


def test_all_of_that_redefines_a_property_is_flattened() -> None:
    base = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "string"}, "d": {"$ref": "#/components/schemas/D"}},
    }
    patch = {
        "allOf": [
            {"$ref": "#/components/schemas/Base"},
            {"properties": {"d": {"$ref": "#/components/schemas/DPatch"}}},
        ]
    }
    doc, found = run(
        spec({"Base": base, "Patch": patch, "D": {"type": "object"}, "DPatch": {"type": "object"}})
    )
    out = schemas(doc)["Patch"]
    assert "allOf" not in out and out["type"] == "object" and out["required"] == ["a"]
    assert out["properties"]["d"] == {"$ref": "#/components/schemas/DPatch"}
    assert found["allof-override"][0].location == "/components/schemas/Patch/allOf"


def test_email_format_is_dropped() -> None:
    doc, found = run(
        spec({"A": {"type": "object", "properties": {"e": {"type": "string", "format": "email"}}}})
    )
    assert schemas(doc)["A"]["properties"]["e"] == {"type": "string"}
    assert found["email-format"][0].location == "/components/schemas/A/properties/e/format"


def test_duplicate_titles_are_kept_once() -> None:
    doc, found = run(
        spec({"A": {"type": "object", "title": "Same"}, "B": {"type": "object", "title": "Same"}})
    )
    assert schemas(doc)["A"]["title"] == "Same" and "title" not in schemas(doc)["B"]
    assert [f.location for f in found["duplicate-title"]] == ["/components/schemas/B/title"]


def test_inline_operation_schemas_are_hoisted_under_known_names() -> None:
    item = {"type": "object", "properties": {"n": {"type": "integer"}}}
    body = {"content": {"application/json": {"schema": {"type": "array", "items": item}}}}
    ok = {"description": "ok", "content": {"application/json": {"schema": item}}}
    paths = {
        "/x": {
            "post": {
                "operationId": "sc-public-v3-x-post-create_x",
                "requestBody": body,
                "responses": {"201": ok},
            }
        }
    }
    doc, found = run(spec({}, paths))
    assert sorted(schemas(doc)) == [
        "ScPublicV3XPostCreateXRequest",
        "ScPublicV3XPostCreateXRequestItem",
        "ScPublicV3XPostCreateXResponse201",
    ]
    op = doc["paths"]["/x"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ScPublicV3XPostCreateXRequest"
    }
    assert schemas(doc)["ScPublicV3XPostCreateXRequest"]["items"] == {
        "$ref": "#/components/schemas/ScPublicV3XPostCreateXRequestItem"
    }
    assert "/paths/~1x/post/requestBody/content/application~1json/schema" in {
        f.location for f in found["hoist-inline"]
    }


def test_component_names_become_unique_class_names() -> None:
    doc, found = run(
        spec(
            {
                "order-item": {"type": "object"},
                "OrderItem": {
                    "type": "object",
                    "properties": {"x": {"$ref": "#/components/schemas/order-item"}},
                },
                "BaseModel": {"type": "object"},
            }
        )
    )
    assert sorted(schemas(doc)) == ["BaseModelModel", "OrderItem", "OrderItem2"]
    assert schemas(doc)["OrderItem"]["properties"]["x"] == {"$ref": "#/components/schemas/OrderItem2"}
    assert {f.location for f in found["class-name"]} == {
        "/components/schemas/order-item",
        "/components/schemas/BaseModel",
    }


def test_input_is_not_mutated_and_every_reported_rule_is_documented() -> None:
    from codegen_support import FIXTURES

    from codegen import load_spec

    original = load_spec(FIXTURES / "messy_shop.yaml").document
    before = copy.deepcopy(original)
    _doc, found = run(original)
    assert original == before
    assert set(found) <= set(REWRITES)
    assert set(found) == set(REWRITES)  # the fixture exercises every rewrite
