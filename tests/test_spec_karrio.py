"""Static checks of spec/karrio-batch-orders.yaml: validity, examples, operations, links, x-contract.

Each check is a function returning the list of problems it finds, so the same check runs on the spec (no
problems) and on mutated copies (the mutation is caught): a check that cannot fail proves nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from test_spec import _UniqueKeyLoader, example_cases, resolve, schema_nodes, walk

from contracts.contract import ContractError, contract_from_document

SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"
SPEC_PATH = SPEC_DIR / "karrio-batch-orders.yaml"
VOCABULARY_PATH = SPEC_DIR / "x-contract.schema.json"
SPEC_URI = "urn:orders-contract:karrio-spec"

OPERATIONS = {
    ("/v1/batches/orders", "post"): "createOrderBatch",
    ("/v1/batches/operations", "get"): "listBatchOperations",
    ("/v1/batches/operations/{id}", "get"): "retrieveBatchOperation",
    ("/v1/orders", "get"): "listOrders",
    ("/v1/orders/{id}", "get"): "retrieveOrder",
}
# operation -> the operations its success answer must link to
LINKS = {
    "createOrderBatch": {"retrieveBatchOperation"},
    "listBatchOperations": {"retrieveBatchOperation"},
    "retrieveBatchOperation": {"retrieveOrder"},
    "listOrders": {"retrieveOrder"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
BATCH = ("/v1/batches/orders", "post")

Check = Callable[[dict[str, Any]], list[str]]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def mutated(spec: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    copied = copy.deepcopy(spec)
    change(copied)
    return copied


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }


def success(op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    codes = sorted(code for code in op["responses"] if code.startswith("2"))
    assert len(codes) == 1, codes
    return codes[0], op["responses"][codes[0]]


def batch_responses(spec: dict[str, Any]) -> dict[str, Any]:
    path, method = BATCH
    responses: dict[str, Any] = spec["paths"][path][method]["responses"]
    return responses


def media_examples(response: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    media = resolve(spec, response)["content"]["application/json"]
    return {name: resolve(spec, ex)["value"] for name, ex in media.get("examples", {}).items()}


# ----- checks ------------------------------------------------------------------------------------------


def example_problems(spec: dict[str, Any]) -> list[str]:
    """Every example (schema, parameter, media type) against its schema, Draft 2020-12 with formats."""
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    problems = []
    for pointer, where, value in example_cases(spec):
        validator = Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        problems += [f"{where}: {e.json_path}: {e.message}" for e in validator.iter_errors(value)]
    return problems


def operation_problems(spec: dict[str, Any]) -> list[str]:
    """Exactly our operations, each with a unique operationId, a 401 and, where it has an {id}, a 404."""
    problems = []
    found = {key: op.get("operationId") for key, op in operations(spec).items()}
    if found != OPERATIONS:
        problems.append(f"operations {found} != {OPERATIONS}")
    ids = [op_id for op_id in found.values() if op_id]
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate operationIds {ids}")
    for (path, method), op in operations(spec).items():
        codes = set(op.get("responses", {}))
        if "401" not in codes:
            problems.append(f"{method} {path}: no 401")
        if "{id}" in path and "404" not in codes:
            problems.append(f"{method} {path}: no 404")
        if "security" in op:
            problems.append(f"{method} {path}: overrides the global security")
    return problems


def link_problems(spec: dict[str, Any]) -> list[str]:
    """Success answers link explicitly to the expected operations, by `$response.body#<pointer>`, and
    every pointer names a property that the answer's schema declares."""
    problems = []
    by_id = {op.get("operationId"): op for op in operations(spec).values()}
    for source, targets in LINKS.items():
        op = by_id.get(source)
        if op is None:
            problems.append(f"{source}: missing")
            continue
        code, answer = success(op)
        links = answer.get("links", {})
        if {link.get("operationId") for link in links.values()} != targets:
            problems.append(f"{source} {code}: links {sorted(links)} do not reach {sorted(targets)}")
        body_schema = answer["content"]["application/json"]["schema"]
        for name, link in links.items():
            target = by_id.get(link.get("operationId"))
            if target is None:
                problems.append(f"{source}: link {name} names no operation")
                continue
            wanted = {resolve(spec, p)["name"] for p in target.get("parameters", [])} | {
                resolve(spec, p)["name"]
                for item in spec["paths"].values()
                if any(o is target for o in item.values())
                for p in item.get("parameters", [])
            }
            if set(link.get("parameters", {})) != wanted:
                problems.append(f"{source}: link {name} sets {sorted(link.get('parameters', {}))}")
            for expression in link.get("parameters", {}).values():
                match = re.fullmatch(r"\$response\.body#((?:/[^/]+)+)", expression)
                if match is None:
                    problems.append(f"{source}: link {name}: {expression!r} is not a body pointer")
                    continue
                missing = missing_member(spec, body_schema, match.group(1))
                if missing:
                    problems.append(f"{source}: link {name}: the answer has no {missing}")
    return problems


def missing_member(spec: dict[str, Any], schema: dict[str, Any], pointer: str) -> str | None:
    """The first token of `pointer` that `schema` (through $ref, allOf and array items) does not declare."""
    node = resolve(spec, schema)
    for part in pointer.split("/")[1:]:
        if part.isdigit():
            node = resolve(spec, node.get("items", {}))
            continue
        properties = dict(node.get("properties", {}))
        for sub in node.get("allOf", []):
            properties.update(resolve(spec, sub).get("properties", {}))
        if part not in properties:
            return part
        node = resolve(spec, properties[part])
    return None


def vocabulary_problems(spec: dict[str, Any]) -> list[str]:
    """The root x-contract block against the published vocabulary spec/x-contract.schema.json."""
    vocabulary = json.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))
    validator = Draft202012Validator(vocabulary)
    block = spec.get("x-contract")
    return [f"x-contract{e.json_path[1:]}: {e.message}" for e in validator.iter_errors(block)]


def agreement_problems(spec: dict[str, Any]) -> list[str]:
    """The contract and the schemas and examples say the same things."""
    problems: list[str] = []
    contract = contract_from_document(spec)
    schemas = spec["components"]["schemas"]
    orders = schemas["BatchOrderData"]["properties"]["orders"]
    if contract.batch.items != "/orders" or "orders" not in schemas["BatchOrderData"]["required"]:
        problems.append("the batch is not the required `orders` member")
    if orders.get("minItems") != contract.batch.min_items:
        problems.append(f"minItems {orders.get('minItems')} != min_items {contract.batch.min_items}")
    if orders.get("maxItems") is not None or contract.batch.max_items is not None:
        problems.append("a batch-size limit appeared; upstream documents none")
    order_data = schemas["OrderData"]
    for member in contract.key.members:
        prop = order_data["properties"].get(member.lstrip("/"), {})
        if prop.get("type") != "string":
            problems.append(f"key member {member} is not a string property of OrderData")
        default = contract.key.defaults.get(member)
        if default is not None and prop.get("default") != default:
            problems.append(f"key default {member}={default!r} != schema default {prop.get('default')!r}")
        if default is None and member.lstrip("/") not in order_data["required"]:
            problems.append(f"key member {member} neither required nor defaulted")
    operation = contract.processing.operation
    if operation is None:
        return [*problems, "processing is not asynchronous"]
    if list(operation.statuses) != schemas["BatchStatus"]["enum"]:
        problems.append("operation statuses differ from the BatchStatus enum")
    if not set(operation.succeeded) <= set(operation.terminal) < set(operation.statuses):
        problems.append("succeeded ⊆ terminal ⊂ statuses does not hold")
    status_op = contract.operations["operation_status"]
    if status_op.operation_id != "retrieveBatchOperation":
        problems.append("operation_status is not retrieveBatchOperation")
    return problems


def error_example_problems(spec: dict[str, Any]) -> list[str]:
    """Every documented error appears as an example of its status; every located 400 example names its
    order both ways (message prefix and `index`), and the two agree."""
    problems = []
    contract = contract_from_document(spec)
    examples: dict[str, list[dict[str, Any]]] = {}
    for (_path, _method), op in operations(spec).items():
        for code, response in op["responses"].items():
            if code.startswith("2"):
                continue
            for value in media_examples(response, spec).values():
                examples.setdefault(code, []).extend(value["errors"])
    for name, documented in contract.errors.documented.items():
        messages = {
            e["message"] for e in examples.get(str(documented.status), []) if e["code"] == documented.code
        }
        placeholders = documented.placeholders
        if not placeholders and documented.detail not in messages:
            problems.append(
                f"documented error {name}: no {documented.status} example says {documented.detail!r}"
            )
        if placeholders:
            pattern = re.escape(documented.detail)
            for placeholder in placeholders:
                pattern = pattern.replace(re.escape("{" + placeholder + "}"), ".+")
            if not any(re.fullmatch(pattern, m) for m in messages):
                problems.append(f"documented error {name}: no {documented.status} example matches")
    for error in examples.get("400", []):
        index = contract.errors.index_of(error)
        prefix = re.match(r"orders\[(\d+)\]", error["message"])
        if prefix is None:
            if "index" in error:
                problems.append(f"{error['message']!r}: an index without a located message")
            continue
        if index is None or error.get("index") != int(prefix.group(1)) or index != error["index"]:
            problems.append(f"{error['message']!r}: index {error.get('index')} disagrees with the message")
        if not error["message"].startswith(contract.errors.locate(int(prefix.group(1)))[: prefix.end()]):
            problems.append(f"{error['message']!r} does not follow the location template")
    return problems


CHECKS: dict[str, Check] = {
    "examples": example_problems,
    "operations": operation_problems,
    "links": link_problems,
    "vocabulary": vocabulary_problems,
    "agreement": agreement_problems,
    "error examples": error_example_problems,
}


# ----- the spec passes every check ----------------------------------------------------------------------


def test_openapi_spec_validator_accepts_it_and_rejects_a_broken_copy(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    broken = mutated(spec, lambda s: s["paths"]["/v1/orders/{id}"].pop("parameters"))
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def text_problems(text: str) -> list[str]:
    """Duplicate YAML keys (PyYAML keeps the last silently), tabs, trailing blanks, no final newline."""
    problems = []
    try:
        yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        problems.append(str(exc).splitlines()[0])
    problems += ["tab"] if "\t" in text else []
    problems += ["no single final newline"] if not text.endswith("\n") or text.endswith("\n\n") else []
    problems += [
        f"line {n}: trailing blank" for n, line in enumerate(text.splitlines(), 1) if line.endswith(" ")
    ]
    return problems


def test_spec_text_is_tidy() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    assert text_problems(text) == []
    assert text_problems(text.replace("  /v1/orders:\n", "  /v1/orders:\n    get: {}\n", 1))
    assert text_problems(text + "\n")
    assert text_problems(text.replace("openapi: 3.1.0", "openapi: 3.1.0 ", 1))


def test_schemas_are_3_1_style(spec: dict[str, Any]) -> None:
    """No 3.0 `nullable`, no titles (they rename generated classes), no type list beside a $ref."""
    assert [p for p, n in walk(spec) if isinstance(n, dict) and "nullable" in n] == []
    assert [p for p, n in schema_nodes(spec) if "title" in n] == []
    assert [p for p, n in schema_nodes(spec) if "$ref" in n and "type" in n] == []


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_spec_passes_check(spec: dict[str, Any], name: str) -> None:
    assert CHECKS[name](spec) == []


def test_examples_are_many_and_cover_every_answer(spec: dict[str, Any]) -> None:
    assert len(example_cases(spec)) >= 30
    responses = batch_responses(spec)
    assert set(media_examples(responses["400"], spec)) >= {
        "EmptyBatch",
        "OrdersNotAList",
        "BodyNotAnObject",
        "MissingLineItems",
        "NestedFieldError",
        "MultipleErrors",
    }
    status_examples = media_examples(
        spec["paths"]["/v1/batches/operations/{id}"]["get"]["responses"]["200"], spec
    )
    statuses = {value["status"] for value in status_examples.values()}
    assert statuses == {"running", "completed", "completed_with_errors", "failed"}
    assert [v["status"] for v in media_examples(responses["201"], spec).values()] == ["queued"]


def test_batch_answers_and_error_envelope(spec: dict[str, Any]) -> None:
    responses = batch_responses(spec)
    assert set(responses) == {"201", "400", "401", "413", "415"}
    assert responses["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BatchOperation"
    }
    for code in ("400", "401", "413", "415"):
        body = resolve(spec, responses[code])["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ErrorResponse"}, code
    error = spec["components"]["schemas"]["APIError"]
    assert set(error["required"]) == {"code", "message"}
    assert set(error["properties"]) == {"code", "message", "level", "details", "index"}


def test_security_is_token_in_the_authorization_header(spec: dict[str, Any]) -> None:
    assert spec["security"] == [{"Token": []}]
    assert spec["components"]["securitySchemes"] == {
        "Token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": spec["components"]["securitySchemes"]["Token"]["description"],
        }
    }
    auth = contract_from_document(spec).auth
    assert auth.credentials_header("key_123") == ("Authorization", "Token key_123")


def test_servers_include_local_reference_server(spec: dict[str, Any]) -> None:
    urls = [server["url"] for server in spec["servers"]]
    assert "http://127.0.0.1:{port}" in urls
    assert all(path.startswith("/v1/") for path in spec["paths"])


def test_contract_semantics(spec: dict[str, Any]) -> None:
    contract = contract_from_document(spec)
    assert contract.dialect == "karrio-batch-orders"
    assert contract.package == "karrio_batches"
    assert contract.key.key_of({"order_id": "1002"}) == ("1002", "API")
    assert contract.key.key_of({"order_id": "1002", "source": "Shopify"}) == ("1002", "Shopify")
    assert contract.key.existing == "reuse"
    assert contract.errors.locate(1, ("line_items",)) == "orders[1].line_items: "
    assert contract.errors.locate(2, ("line_items", 1, "weight")) == "orders[2].line_items.1.weight: "
    assert contract.errors.index_of({"message": "orders[7].order_id: x", "index": 7}) == 7
    assert contract.errors.index_of({"message": "orders: This list may not be empty."}) is None


# ----- the spec as openapi-core sees it -----------------------------------------------------------------


def test_openapi_core_enforces_the_batch_rules(spec: dict[str, Any]) -> None:
    from openapi_core import OpenAPI
    from openapi_core.testing import MockRequest
    from openapi_core.validation.request.exceptions import InvalidRequestBody, SecurityValidationError

    contract = contract_from_document(spec)
    url_path = contract.base_path + contract.batch_write.path
    sent = spec["paths"][contract.batch_write.path]["post"]["requestBody"]["content"]["application/json"]
    order = sent["examples"]["SingleOrder"]["value"]["orders"][0]
    auth = {"Authorization": "Token key_123", "Content-Type": "application/json"}
    api = OpenAPI.from_dict(spec)

    def request(body: Any, headers: dict[str, str] = auth) -> MockRequest:
        data = json.dumps(body).encode()
        kind = "application/json"
        return MockRequest(
            "http://127.0.0.1:8000", "post", url_path, headers=headers, data=data, content_type=kind
        )

    for example in sent["examples"].values():
        api.validate_request(request(example["value"]))
    no_items = {k: v for k, v in order.items() if k != "line_items"}
    bad_bodies = {
        "empty": ({"orders": []}, ["orders"]),
        "no orders": ({}, []),
        "not a list": ({"orders": order}, ["orders"]),
        "a bare list": ([order], []),
        "no line_items": ({"orders": [order, no_items]}, ["orders", 1]),
        "empty line_items": ({"orders": [{**order, "line_items": []}]}, ["orders", 0, "line_items"]),
        "lower-case country": (
            {"orders": [{**order, "shipping_to": {**order["shipping_to"], "country_code": "ca"}}]},
            ["orders", 0, "shipping_to", "country_code"],
        ),
        "unknown weight unit": (
            {"orders": [{**order, "line_items": [{**order["line_items"][0], "weight_unit": "KGS"}]}]},
            ["orders", 0, "line_items", 0, "weight_unit"],
        ),
    }
    for label, (body, path) in bad_bodies.items():
        with pytest.raises(InvalidRequestBody) as info:
            api.validate_request(request(body))
        errors = info.value.__cause__.schema_errors  # type: ignore[union-attr]
        assert [list(e.absolute_path) for e in errors] == [path], label
    with pytest.raises(SecurityValidationError):
        api.validate_request(request({"orders": [order]}, {"Content-Type": "application/json"}))


# ----- mutations: every check catches what it is there to catch -----------------------------------------


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _batch_example(spec: dict[str, Any], name: str) -> dict[str, Any]:
    examples = resolve(spec, batch_responses(spec)["400"])["content"]["application/json"]["examples"]
    value: dict[str, Any] = examples[name]["value"]
    return value


def _created_link(spec: dict[str, Any]) -> dict[str, Any]:
    link: dict[str, Any] = batch_responses(spec)["201"]["links"]["GetOperation"]
    return link


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "example breaks its schema": (
        lambda s: s["paths"]["/v1/orders/{id}"]["get"]["responses"]["200"]["content"]["application/json"][
            "examples"
        ]["StoredOrder"]["value"].update(created_at="yesterday"),
        "examples",
    ),
    "operation status outside the enum": (
        lambda s: _schemas(s)["BatchStatus"]["enum"].remove("completed_with_errors"),
        "examples",
    ),
    "operationId dropped": (
        lambda s: s["paths"]["/v1/orders"]["get"].pop("operationId"),
        "operations",
    ),
    "401 dropped": (
        lambda s: s["paths"]["/v1/batches/operations"]["get"]["responses"].pop("401"),
        "operations",
    ),
    "per-operation security": (
        lambda s: s["paths"]["/v1/orders"]["get"].update(security=[]),
        "operations",
    ),
    "link dropped": (
        lambda s: s["paths"]["/v1/orders"]["get"]["responses"]["200"].pop("links"),
        "links",
    ),
    "link to an unknown operation": (
        lambda s: s["paths"]["/v1/batches/orders"]["post"]["responses"]["201"]["links"][
            "GetOperation"
        ].update(operationId="getOperation"),
        "links",
    ),
    "link through a missing member": (
        lambda s: s["paths"]["/v1/batches/orders"]["post"]["responses"]["201"]["links"][
            "GetOperation"
        ].update(parameters={"id": "$response.body#/operation_id"}),
        "links",
    ),
    "link parameter by name only": (
        lambda s: s["paths"]["/v1/orders"]["get"]["responses"]["200"]["links"]["GetFirstOrder"].update(
            parameters={"id": "results.0.id"}
        ),
        "links",
    ),
    "unknown x-contract member": (lambda s: s["x-contract"].update(extra=True), "vocabulary"),
    "x-contract pagination misspelt": (
        lambda s: s["x-contract"]["list"].update(pagination="pages"),
        "vocabulary",
    ),
    "x-contract moved into the operation": (
        lambda s: s["paths"]["/v1/batches/orders"]["post"].update({"x-contract": s.pop("x-contract")}),
        "vocabulary",
    ),
    "empty batch allowed by the schema": (
        lambda s: _schemas(s)["BatchOrderData"]["properties"]["orders"].pop("minItems"),
        "agreement",
    ),
    "a batch-size limit": (
        lambda s: _schemas(s)["BatchOrderData"]["properties"]["orders"].update(maxItems=100),
        "agreement",
    ),
    "source default differs": (
        lambda s: _schemas(s)["OrderData"]["properties"]["source"].update(default="api"),
        "agreement",
    ),
    "terminal status not in the enum": (
        lambda s: s["x-contract"]["processing"]["operation"]["terminal"].append("done"),
        "agreement",
    ),
    "documented message without an example": (
        lambda s: s["x-contract"]["errors"]["documented"]["too_few"].update(detail="orders: empty."),
        "error examples",
    ),
    "index disagrees with the message": (
        lambda s: _batch_example(s, "MissingLineItems")["errors"][0].update(index=0),
        "error examples",
    ),
    "located error without an index": (
        lambda s: _batch_example(s, "NestedFieldError")["errors"][0].pop("index"),
        "error examples",
    ),
}


@pytest.mark.parametrize("label", sorted(MUTATIONS))
def test_mutation_is_caught(spec: dict[str, Any], label: str) -> None:
    change, check = MUTATIONS[label]
    try:
        problems = CHECKS[check](mutated(spec, change))
    except ContractError as exc:  # the contract model refusing the block counts too
        problems = [repr(exc)]
    assert problems, f"{label}: the {check} check did not notice"
