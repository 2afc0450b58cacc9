"""Static checks of spec/sendcloud-orders-v3.yaml: validity, our house rules, examples, x-contract."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[1] / "spec" / "sendcloud-orders-v3.yaml"
SPEC_URI = "urn:orders-contract:spec"

OPERATIONS = {
    ("/orders", "post"): "upsertOrders",
    ("/orders", "get"): "listOrders",
    ("/orders/{id}", "get"): "getOrder",
    ("/orders/{id}", "patch"): "updateOrder",
    ("/orders/{id}", "delete"): "deleteOrder",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
COMBINATORS = ("oneOf", "anyOf", "allOf")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def registry(spec: dict[str, Any]) -> Registry[Any]:
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    return registry


def validator_at(pointer: str, registry: Registry[Any]) -> Draft202012Validator:
    """A 2020-12 validator for the schema found at `pointer` inside the spec (its $refs resolve)."""
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{pointer}/{index}")


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    result = spec["components"]["schemas"][name]
    assert isinstance(result, dict)
    return result


def schema_nodes(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object of the document (components and inline), with its JSON pointer."""

    def below(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(node, dict):
            return
        yield pointer, node
        for key in ("items", "not", "if", "then", "else", "additionalProperties", "contains"):
            if isinstance(node.get(key), dict):
                yield from below(node[key], f"{pointer}/{key}")
        for key in COMBINATORS + ("prefixItems",):
            for index, sub in enumerate(node.get(key, [])):
                yield from below(sub, f"{pointer}/{key}/{index}")
        for key in ("properties", "patternProperties", "$defs"):
            for name, sub in node.get(key, {}).items():
                yield from below(sub, f"{pointer}/{key}/{name}")

    for name, node in spec["components"]["schemas"].items():
        yield from below(node, f"/components/schemas/{name}")
    for pointer, node in walk(spec):
        if (
            isinstance(node, dict)
            and isinstance(node.get("schema"), dict)
            and not pointer.startswith("/components/schemas")
        ):
            yield from below(node["schema"], f"{pointer}/schema")


def example_cases(spec: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(schema pointer, example location, example value) for every example in the document."""
    cases: list[tuple[str, str, Any]] = []
    for pointer, node in schema_nodes(spec):
        if "example" in node:
            cases.append((pointer, f"{pointer}/example", node["example"]))
        for index, value in enumerate(node.get("examples", [])):
            cases.append((pointer, f"{pointer}/examples/{index}", value))
    # media types, parameters and headers: `example` or an `examples` map of Example Objects
    for pointer, node in walk(spec):
        if not (isinstance(node, dict) and isinstance(node.get("schema"), dict)):
            continue
        if pointer.startswith("/components/schemas"):
            continue
        target = f"{pointer}/schema"
        if "example" in node:
            cases.append((target, f"{pointer}/example", node["example"]))
        for name, example in node.get("examples", {}).items():
            example = resolve(spec, example)
            assert "value" in example, f"{pointer}/examples/{name} has no inline value"
            cases.append((target, f"{pointer}/examples/{name}", example["value"]))
    return cases


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (plain PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = sorted({str(k) for k in keys if keys.count(k) > 1})
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {duplicates}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


# ----- validity and house rules --------------------------------------------------------------------------


def test_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_yaml_has_no_duplicate_keys_and_is_tidy() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    yaml.load(text, Loader=_UniqueKeyLoader)
    assert "\t" not in text and text.endswith("\n") and not text.endswith("\n\n")
    assert [n for n, line in enumerate(text.splitlines(), 1) if line != line.rstrip()] == []
    indents = {len(line) - len(line.lstrip(" ")) for line in text.splitlines() if line.strip()}
    assert all(i % 2 == 0 for i in indents), "2-space indentation"


def test_openapi_core_loads_spec(spec: dict[str, Any]) -> None:
    from openapi_core import OpenAPI

    OpenAPI.from_dict(spec)


def test_no_nullable_keyword(spec: dict[str, Any]) -> None:
    offenders = [p for p, n in walk(spec) if isinstance(n, dict) and "nullable" in n]
    assert offenders == []


def test_no_single_element_combinators(spec: dict[str, Any]) -> None:
    offenders = [
        f"{p}/{key}"
        for p, n in walk(spec)
        if isinstance(n, dict)
        for key in COMBINATORS
        if isinstance(n.get(key), list) and len(n[key]) == 1
    ]
    assert offenders == []


def test_no_required_beside_a_single_ref_combinator(spec: dict[str, Any]) -> None:
    offenders = []
    for pointer, node in schema_nodes(spec):
        if "required" not in node:
            continue
        for key in COMBINATORS:
            refs = [sub for sub in node.get(key, []) if isinstance(sub, dict) and "$ref" in sub]
            if refs and len(node[key]) == len(refs) == 1:
                offenders.append(pointer)
    assert offenders == []


def test_no_type_beside_ref_and_no_titles(spec: dict[str, Any]) -> None:
    with_type = [p for p, n in schema_nodes(spec) if "$ref" in n and "type" in n]
    assert with_type == []
    titles = [p for p, n in schema_nodes(spec) if "title" in n]
    assert titles == []


def test_nullability_is_3_1_style(spec: dict[str, Any]) -> None:
    """Nullable `$ref`s are written anyOf/oneOf [$ref, {type: null}], never a type list next to a $ref."""
    nullable_refs = 0
    for _, node in schema_nodes(spec):
        for key in ("anyOf", "oneOf"):
            options = node.get(key, [])
            if {"type": "null"} in options:
                assert len(options) == 2 and any("$ref" in o for o in options), options
                nullable_refs += 1
    assert nullable_refs >= 8  # customs_details, delivery_dates, tax_numbers, the four costs ...


def test_required_names_exist_as_properties(spec: dict[str, Any]) -> None:
    """A `required` name that is not a declared property is usually a typo that generators ignore."""
    offenders = []
    for pointer, node in schema_nodes(spec):
        properties = node.get("properties")
        if properties is None or pointer.endswith(("/if/not", "/then")):
            continue
        offenders += [f"{pointer}: {name}" for name in node.get("required", []) if name not in properties]
    assert offenders == []


# ----- examples ------------------------------------------------------------------------------------------


def test_every_example_validates_against_its_schema(spec: dict[str, Any], registry: Registry[Any]) -> None:
    cases = example_cases(spec)
    assert len(cases) >= 35, "examples went missing"
    failures = []
    for schema_pointer, where, value in cases:
        for error in validator_at(schema_pointer, registry).iter_errors(value):
            failures.append(f"{where}: {error.json_path}: {error.message}")
    assert failures == []


def test_example_harness_rejects_a_broken_example(spec: dict[str, Any], registry: Registry[Any]) -> None:
    media = spec["paths"]["/orders"]["get"]["responses"]["200"]["content"]["application/json"]
    broken = copy.deepcopy(media["examples"]["Response"]["value"])
    broken["data"][1]["order_details"]["order_items"][0]["delivery_dates"] = "tomorrow"
    broken["data"][0]["created_at"] = "yesterday"
    validator = validator_at("/paths/~1orders/get/responses/200/content/application~1json/schema", registry)
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any("tomorrow" in m for m in messages)
    assert any("yesterday" in m and "date-time" in m for m in messages)


def test_documented_quirks_are_kept_valid(spec: dict[str, Any], registry: Registry[Any]) -> None:
    """`delivery_dates: null` (vendor list example) is valid on purpose; quantity 0 and 101 orders are not."""
    batch_v = validator_at("/components/schemas/OrderUpsertBatch", registry)
    media = spec["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]
    order = media["examples"]["CreateBasicOrder"]["value"][0]
    item = order["order_details"]["order_items"][0]
    assert batch_v.is_valid([order])
    assert batch_v.is_valid(
        [
            {
                **order,
                "order_details": {
                    **order["order_details"],
                    "order_items": [{**item, "delivery_dates": None}],
                },
            }
        ]
    )
    assert not batch_v.is_valid(
        [{**order, "order_details": {**order["order_details"], "order_items": [{**item, "quantity": 0}]}}]
    )
    assert not batch_v.is_valid([order] * 101)
    assert not batch_v.is_valid([])
    assert not batch_v.is_valid([{**order, "id": 669}])
    assert not batch_v.is_valid([{**order, "service_point_details": {"post_number": "x"}}])
    assert batch_v.is_valid([{**order, "service_point_details": {"carrier_service_point_id": "9"}}])


def test_error_example_pointers_follow_the_contract_template(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/orders"]["post"]
    pointer_re = re.compile(r"^/data(/attributes/(\[\d+\](/[a-z_0-9]+)*)?)?$")
    examples = post["responses"]["400"]["content"]["application/json"]["examples"]
    pointers = [
        error["source"]["pointer"]
        for example in examples.values()
        for error in example["value"]["errors"]
        if "pointer" in error.get("source", {})
    ]
    assert len(pointers) >= 9
    assert [p for p in pointers if not pointer_re.match(p)] == []
    # nested indices are unbracketed, the batch index is bracketed
    assert "/data/attributes/[0]/order_details/order_items/0/quantity" in pointers


# ----- shape agreed in SPEC_SHAPE.md ---------------------------------------------------------------------


def test_operations_ids_and_401(spec: dict[str, Any]) -> None:
    found = {
        (path, method): op["operationId"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }
    assert found == OPERATIONS
    for (path, method), _ in OPERATIONS.items():
        responses = spec["paths"][path][method]["responses"]
        assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}, (path, method)
        for code, response in responses.items():
            if not code.startswith("2"):
                assert "application/json" in resolve(spec, response)["content"], (path, method, code)


def test_security_is_basic_everywhere(spec: dict[str, Any]) -> None:
    assert spec["security"] == [{"basicAuth": []}]
    assert spec["components"]["securitySchemes"] == {
        "basicAuth": {
            "type": "http",
            "scheme": "basic",
            "description": spec["components"]["securitySchemes"]["basicAuth"]["description"],
        }
    }
    assert all("security" not in op for item in spec["paths"].values() for op in item.values())


def test_servers_include_local_reference_server(spec: dict[str, Any]) -> None:
    urls = [s["url"] for s in spec["servers"]]
    assert urls == ["https://panel.sendcloud.sc/api/v3", "http://127.0.0.1:{port}/api/v3"]
    assert spec["servers"][1]["variables"]["port"]["default"] == "8000"


def test_request_bodies_are_required_and_typed(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/orders"]["post"]["requestBody"]
    patch = spec["paths"]["/orders/{id}"]["patch"]["requestBody"]
    assert post["required"] is True and patch["required"] is True
    assert post["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderUpsertBatch"}
    assert patch["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderPartialUpdate"
    }
    batch = schema(spec, "OrderUpsertBatch")
    assert batch["type"] == "array" and batch["minItems"] == 1 and batch["maxItems"] == 100
    assert batch["items"] == {"$ref": "#/components/schemas/OrderUpsert"}


def test_ids_request_string_response_integer(spec: dict[str, Any]) -> None:
    upsert = schema(spec, "OrderUpsert")
    assert upsert["properties"]["id"]["type"] == "string"
    assert upsert["properties"]["id"]["pattern"] == "^[0-9]+$"
    assert "id" not in upsert["required"]
    assert upsert.get("additionalProperties", True) is not False
    result = schema(spec, "OrderUpsertResult")
    assert result["properties"]["id"]["type"] == "integer"
    assert set(result["required"]) == {"id", "order_id", "order_number"}
    created = spec["paths"]["/orders"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert resolve(spec, created)["properties"]["data"]["items"] == {
        "$ref": "#/components/schemas/OrderUpsertResult"
    }
    order_extra = schema(spec, "Order")["allOf"][1]
    assert order_extra["properties"]["id"]["type"] == "string"
    assert set(order_extra["required"]) == {"id", "created_at", "modified_at"}
    assert order_extra["properties"]["created_at"]["format"] == "date-time"
    path_id = resolve(spec, spec["paths"]["/orders/{id}"]["parameters"][0])
    assert path_id["in"] == "path" and path_id["schema"]["type"] == "integer"


def test_quantity_is_a_positive_integer(spec: dict[str, Any]) -> None:
    for name in ("OrderItem", "OrderItemPartialUpdate"):
        quantity = schema(spec, name)["properties"]["quantity"]
        assert quantity["type"] == "integer"
        assert quantity.get("minimum", 0) >= 1 or "exclusiveMinimum" in quantity
        assert "minLength" not in quantity
    assert {"name", "quantity", "total_price"} <= set(schema(spec, "OrderItem")["required"])
    assert schema(spec, "OrderItemPartialUpdate")["required"] == ["name"]


def test_costs_and_codes_use_anchored_patterns(spec: dict[str, Any]) -> None:
    patterns = [n["pattern"] for _, n in schema_nodes(spec) if "pattern" in n]
    assert patterns and all(p.startswith("^") and p.endswith("$") for p in patterns)
    costs = schema(spec, "CostsObject")["properties"]["value"]
    assert costs["type"] == ["string", "null"]
    assert re.fullmatch(costs["pattern"], "3.99") and not re.search(costs["pattern"], "x3.99")
    assert schema(spec, "Price")["properties"]["value"]["type"] == "number"
    assert schema(spec, "Address")["properties"]["country_code"]["pattern"] == "^[A-Z]{2}$"
    assert schema(spec, "Address")["properties"]["email"]["format"] == "email"


def test_error_schema(spec: dict[str, Any]) -> None:
    response = schema(spec, "ErrorResponse")
    assert response["required"] == ["errors"]
    assert response["properties"]["errors"]["type"] == "array"
    assert response["properties"]["errors"]["minItems"] == 1
    error = schema(spec, "ErrorObject")
    assert set(error["required"]) == {"status", "code", "detail"}
    codes = set(resolve(spec, error["properties"]["code"])["enum"])
    needed = {"invalid", "non_field_errors", "authentication_failed", "not_found", "validation_error"}
    assert needed <= codes
    assert {"invalid_choice", "unknown_field", "required", "not_a_list"} <= codes


def test_list_parameters(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/orders"]["get"]
    params = {p["name"]: p for p in (resolve(spec, ref) for ref in op["parameters"])}
    dates = [f"order_{kind}_at{suffix}" for kind in ("created", "updated") for suffix in ("", "_min", "_max")]
    assert set(params) == {
        "integration",
        "order_id",
        "order_number",
        "status",
        "sort",
        "page_size",
        "cursor",
    } | set(dates)
    assert all(p["in"] == "query" for p in params.values())
    for name in dates:
        assert params[name]["schema"] == {"type": "string", "format": "date"}
    integration = params["integration"]
    assert (integration["style"], integration["explode"]) == ("form", False)
    assert integration["schema"]["type"] == "array"
    assert integration["schema"]["items"]["type"] == "integer"
    assert params["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 100}
    assert params["sort"]["schema"]["default"] == "-pk"
    assert "Link" in op["responses"]["200"]["headers"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderList"
    }


def test_partner_header_is_optional_uuid(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/orders"]["post"]
    header = resolve(spec, post["parameters"][0])
    assert (header["name"], header["in"], header.get("required", False)) == (
        "Sendcloud-Partner-Id",
        "header",
        False,
    )
    assert header["schema"] == {"type": "string", "format": "uuid"}


def test_links_from_created_orders(spec: dict[str, Any]) -> None:
    links = spec["paths"]["/orders"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"]: link["parameters"] for link in links.values()}
    assert targets == {
        op: {"id": "$response.body#/data/0/id"} for op in ("getOrder", "updateOrder", "deleteOrder")
    }
    all_ids = set(OPERATIONS.values())
    for pointer, node in walk(spec):
        if re.fullmatch(r"/paths/[^/]+/[a-z]+/responses/\d+/links", pointer):
            assert {link["operationId"] for link in node.values()} <= all_ids


# ----- x-contract ----------------------------------------------------------------------------------------


def pointer_target(spec: dict[str, Any], start: dict[str, Any], pointer: str) -> dict[str, Any]:
    """Follow an RFC 6901 pointer through the `properties` of schemas (resolving $ref / allOf)."""
    node = resolve(spec, start)
    for part in pointer.lstrip("/").split("/"):
        properties = node.get("properties", {})
        assert part in properties, f"{pointer}: no property {part!r}"
        node = resolve(spec, properties[part])
    return node


def test_x_contract_block(spec: dict[str, Any]) -> None:
    from contracts.contract import contract_from_document

    contract = contract_from_document(spec, name="sendcloud-orders-v3.yaml")
    batch, key = contract.batch, contract.key
    batch_schema = schema(spec, "OrderUpsertBatch")
    assert batch.items == ""
    assert batch.max_items == batch_schema["maxItems"]
    assert batch.min_items == batch_schema["minItems"]
    assert (batch.atomic, batch.result_order, batch.duplicate_keys) == (True, "request", "reject")
    order_ref = {"$ref": "#/components/schemas/OrderUpsert"}
    assert key.members == ("/order_id", "/order_details/integration/id")
    assert key.explicit_id is not None
    for pointer in (*key.members, *key.immutable, key.explicit_id):
        assert pointer_target(spec, order_ref, pointer)["type"] in {"string", "integer"}
    assert pointer_target(spec, order_ref, key.explicit_id)["type"] == key.request_id_type
    assert schema(spec, "OrderUpsertResult")["properties"]["id"]["type"] == key.response_id_type
    assert (key.scope, key.existing) == ("account", "update")
    assert contract.errors.locate(1, ("order_details", "integration")) == (
        "/data/attributes/[1]/order_details/integration"
    )
    assert contract.errors.whole_batch == "/data/attributes/"
    assert contract.errors.nested_index == "unbracketed"
    codes = set(schema(spec, "ErrorCode")["enum"])
    for name, error in contract.errors.documented.items():
        assert error.status == 400, name
        assert error.code in codes, name
        if error.member:
            pointer_target(spec, order_ref, error.member)
    conflict = contract.conflict
    assert conflict is not None
    assert (conflict.status, conflict.code, conflict.pointer, conflict.retryable) == (
        400,
        "invalid",
        "/data",
        True,
    )
    assert contract.processing.mode == "synchronous"
    assert {role: op.operation_id for role, op in contract.operations.items()} == {
        "batch_write": "upsertOrders",
        "read_one": "getOrder",
        "list": "listOrders",
        "update": "updateOrder",
        "delete": "deleteOrder",
    }


def test_x_contract_messages_match_the_examples(spec: dict[str, Any]) -> None:
    from contracts.contract import contract_from_document

    contract = contract_from_document(spec, name="sendcloud-orders-v3.yaml")
    post = spec["paths"]["/orders"]["post"]
    examples = post["responses"]["400"]["content"]["application/json"]["examples"]
    first = {name: ex["value"]["errors"][0] for name, ex in examples.items()}
    errors = contract.errors.documented
    assert first["WrongPayloadFormatRequested"]["detail"] == errors["not_a_list"].detail
    assert first["BatchSizeLimitExceeded"]["detail"] == errors["too_many"].render(max=100, count=101)
    assert first["IntegrationNotFound"]["detail"] == errors["unknown_integration"].render(value=99999)
    assert first["ImmutableFieldChange"]["detail"] == errors["immutable_changed"].render(stored="abc-123")
    assert first["DuplicateUpsertKeyInBatch"]["detail"] == errors["duplicate_key"].render(
        key=("555413", 7), first=0
    )
    assert contract.conflict is not None
    assert first["DuplicateOrderProcessing"]["detail"] == contract.conflict.detail
    assert first["DuplicateOrderProcessing"]["source"]["pointer"] == contract.conflict.pointer


# ----- the spec as openapi-core sees it ------------------------------------------------------------------


def test_openapi_core_enforces_batch_rules(spec: dict[str, Any]) -> None:
    from openapi_core import OpenAPI
    from openapi_core.testing import MockRequest
    from openapi_core.validation.request.exceptions import (
        InvalidParameter,
        InvalidRequestBody,
        SecurityValidationError,
    )

    api = OpenAPI.from_dict(spec)
    media = spec["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]
    order = media["examples"]["CreateBasicOrder"]["value"][0]
    auth = {"Authorization": "Basic dXNlcjpwYXNz", "Content-Type": "application/json"}

    def request(body: Any, headers: dict[str, str] = auth) -> MockRequest:
        return MockRequest(
            "http://127.0.0.1:8000",
            "post",
            "/api/v3/orders",
            headers=headers,
            data=json.dumps(body).encode(),
            content_type="application/json",
        )

    api.validate_request(request([order]))
    api.validate_request(request([order], {**auth, "Sendcloud-Partner-Id": str(uuid.uuid4())}))
    zero = copy.deepcopy(order)
    zero["order_details"]["order_items"][0]["quantity"] = 0
    bad_bodies = {
        "empty": ([], []),
        "too many": ([order] * 101, []),
        "int id": ([{**order, "id": 5}], [0, "id"]),
        "not a list": ({"order": order}, []),
        "quantity 0": ([zero], [0, "order_details", "order_items", 0, "quantity"]),
        "service point without id": (
            [{**order, "service_point_details": {"post_number": "x"}}],
            [0, "service_point_details"],
        ),
    }
    for label, (body, path) in bad_bodies.items():
        with pytest.raises(InvalidRequestBody) as info:
            api.validate_request(request(body))
        errors = info.value.__cause__.schema_errors  # type: ignore[union-attr]
        assert [list(e.absolute_path) for e in errors] == [path], label
    with pytest.raises(InvalidParameter):
        api.validate_request(request([order], {**auth, "Sendcloud-Partner-Id": "not-a-uuid"}))
    with pytest.raises(SecurityValidationError):
        api.validate_request(request([order], {"Content-Type": "application/json"}))
