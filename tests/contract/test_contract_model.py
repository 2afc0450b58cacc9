"""The contract model: loading, validation findings with locations, and the typed helpers."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from contracts.contract import (
    ContractError,
    contract_from_document,
    load_contract,
    packaged_spec,
    packaged_specs,
    pointer_get,
    pointer_set,
    validate_block,
)

SPEC_DIR = Path(__file__).resolve().parents[2] / "spec"


def _document(name: str = "sendcloud-orders-v3.yaml") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPEC_DIR / name).read_text(encoding="utf-8"))
    return loaded


def test_every_spec_in_the_repo_has_a_valid_contract() -> None:
    specs = sorted(p for p in SPEC_DIR.glob("*.yaml"))
    assert specs
    for spec in specs:
        contract = load_contract(spec)
        assert contract.spec_name == spec.name
        assert contract.batch_write.method == "POST"


def test_packaged_specs_are_the_repo_specs() -> None:
    names = set(packaged_specs())
    assert {p.name for p in SPEC_DIR.glob("*.yaml")} <= names
    assert "x-contract.schema.json" not in names
    assert load_contract("sendcloud-orders-v3").dialect == load_contract(packaged_spec()).dialect


def test_sendcloud_contract_values() -> None:
    contract = load_contract(SPEC_DIR / "sendcloud-orders-v3.yaml")
    assert contract.base_path == "/api/v3"
    assert contract.operation("read_one").path == "/orders/{id}"
    assert contract.batch.items_of([{"a": 1}]) == [{"a": 1}]
    assert contract.batch.items_of({"orders": []}) is None
    assert contract.batch.max_items == 100
    item = {"order_id": "A-1", "order_details": {"integration": {"id": 7}}}
    assert contract.key.key_of(item) == ("A-1", 7)
    assert contract.errors.locate(1, ("order_details", "order_items", 0, "quantity")) == (
        "/data/attributes/[1]/order_details/order_items/0/quantity"
    )
    assert contract.errors.index_of({"source": {"pointer": "/data/attributes/[12]/order_id"}}) == 12
    assert contract.errors.index_of({"source": {"pointer": "/data"}}) is None
    assert contract.auth.credentials_header("u", "p") == ("Authorization", "Basic dTpw")
    duplicate = contract.errors.documented["duplicate_key"]
    assert duplicate.render(key=("A-1", 7), first=0).startswith("Order id A-1 with integration 7")
    assert contract.ownership is not None and contract.ownership.error.name == "unknown_integration"


def _wrapped_async(document: dict[str, Any]) -> dict[str, Any]:
    """The Sendcloud document restated as a wrapped, asynchronous, reuse-on-existing API with token auth."""
    doc = copy.deepcopy(document)
    doc["components"]["securitySchemes"]["Token"] = {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
    }
    schemas = doc["components"]["schemas"]  # the schemas say what the block says: a wrapped list, a source
    schemas["OrderUpsertBatch"] = {"type": "object", "properties": {"orders": schemas["OrderUpsertBatch"]}}
    schemas["OrderUpsert"]["properties"]["source"] = {"type": "string"}
    block = doc["x-contract"]
    block["batch"]["items"] = "/orders"
    del block["batch"]["max_items"]
    block["key"] = {"members": ["/order_id", "/source"], "defaults": {"/source": "API"}, "existing": "reuse"}
    block["processing"] = {
        "mode": "asynchronous",
        "operation": {
            "id": "/id",
            "status": "/status",
            "resources": "/resources",
            "statuses": ["queued", "completed"],
            "terminal": ["completed"],
            "succeeded": ["completed"],
        },
    }
    block["operations"]["operation_status"] = "getOrder"
    block["errors"]["detail"] = "/message"
    block["errors"]["location"] = {
        "style": "message_path",
        "template": "orders[{index}]{path}: ",
        "path_style": "dotted",
    }
    block["auth"] = {"scheme": "Token", "prefix": "Token"}
    return doc


def test_wrapped_asynchronous_contract() -> None:
    contract = contract_from_document(_wrapped_async(_document()), name="wrapped.yaml")
    assert contract.batch.wrap([{"x": 1}]) == {"orders": [{"x": 1}]}
    assert contract.batch.items_of({"orders": [1]}) == [1]
    assert contract.batch.max_items is None
    assert contract.key.key_of({"order_id": "1"}) == ("1", "API")
    assert contract.key.key_of({"order_id": "1", "source": "POS"}) == ("1", "POS")
    assert contract.processing.asynchronous and contract.processing.operation is not None
    assert contract.errors.locate(1, ("line_items",)) == "orders[1].line_items: "
    assert contract.errors.index_of({"message": "orders[3].line_items: This field is required."}) == 3
    assert contract.auth.credentials_header("key_1") == ("Authorization", "Token key_1")


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda b: b["batch"].__setitem__("max_items", 0), "/x-contract/batch/max_items"),
        (lambda b: b["batch"].update(min_items=5, max_items=2), "/x-contract/batch/max_items"),
        (lambda b: b["key"].__setitem__("existing", "merge"), "/x-contract/key/existing"),
        (lambda b: b["key"]["members"].__setitem__(0, "order_id"), "/x-contract/key/members/0"),
        (lambda b: b["batch"].__setitem__("surprise", 1), "/x-contract/batch"),
        (lambda b: b["operations"].__setitem__("list", "noSuchOperation"), "/x-contract/operations/list"),
        (lambda b: b["ownership"].__setitem__("error", "nope"), "/x-contract/ownership/error"),
        (lambda b: b["auth"].__setitem__("scheme", "nope"), "/x-contract/auth/scheme"),
        (lambda b: b["processing"].__setitem__("mode", "asynchronous"), "/x-contract/processing"),
    ],
)
def test_a_bad_block_is_one_located_finding(mutate: Any, where: str) -> None:
    doc = _document()
    mutate(doc["x-contract"])
    with pytest.raises(ContractError) as caught:
        contract_from_document(doc, name="bad.yaml")
    assert "\n" not in str(caught.value)
    assert any(f.pointer == where for f in caught.value.findings), caught.value.findings


def test_missing_block_and_unreadable_spec(tmp_path: Path) -> None:
    doc = _document()
    del doc["x-contract"]
    with pytest.raises(ContractError, match="no x-contract block"):
        contract_from_document(doc)
    with pytest.raises(ContractError, match="cannot read spec"):
        load_contract(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1,\n", encoding="utf-8")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(broken)


def test_the_published_schema_accepts_the_repo_blocks() -> None:
    for spec in SPEC_DIR.glob("*.yaml"):
        assert validate_block(_document(spec.name)["x-contract"]) == []


def test_pointer_helpers() -> None:
    doc: dict[str, Any] = {"a": [{"b~c/d": 1}]}
    assert pointer_get(doc, "/a/0/b~0c~1d") == 1
    assert pointer_get(doc, "/a/1", None) is None
    assert pointer_get(doc, "/a/²", None) is None
    pointer_set(doc, "/x/y", 2)
    assert doc["x"] == {"y": 2}


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda p: p["operation"].__setitem__("id", ""), "/x-contract/processing/operation/id"),
        (lambda p: p.__setitem__("result_id", ""), "/x-contract/processing/result_id"),
        (
            lambda p: p["operation"].__setitem__("terminal", ["zzz"]),
            "/x-contract/processing/operation/terminal/0",
        ),
        (
            lambda p: p["operation"].__setitem__("succeeded", ["queued"]),
            "/x-contract/processing/operation/succeeded/0",
        ),
        (
            lambda p: p["operation"].update(
                statuses=["completed"], terminal=["completed"], succeeded=["completed"]
            ),
            "/x-contract/processing/operation/statuses",
        ),
    ],
)
def test_an_inconsistent_operation_is_refused(mutate: Any, where: str) -> None:
    """The schema lets these through; a server built on them answered 500, left operations `running` for
    ever, reported statuses outside the list, or answered `completed` before storing anything."""
    doc = _document("karrio-batch-orders.yaml")
    contract_from_document(copy.deepcopy(doc), name="karrio.yaml")  # the repo's block passes
    mutate(doc["x-contract"]["processing"])
    with pytest.raises(ContractError) as caught:
        contract_from_document(doc, name="bad.yaml")
    assert where in [f.pointer for f in caught.value.findings], caught.value.findings


@pytest.mark.parametrize(
    "path", [("errors", "detail"), ("errors", "code"), ("processing", "operation", "resource_status")]
)
def test_a_member_pointer_naming_the_whole_value_is_refused(path: tuple[str, ...]) -> None:
    """errors.detail "" made the server die at start-up with a traceback."""
    doc = _document("karrio-batch-orders.yaml")
    node = doc["x-contract"]
    for name in path[:-1]:
        node = node[name]
    node[path[-1]] = ""
    with pytest.raises(ContractError) as caught:
        contract_from_document(doc, name="bad.yaml")
    assert [f.pointer for f in caught.value.findings] == ["/x-contract/" + "/".join(path)]


def test_hostile_error_messages_and_odd_placeholders_never_raise() -> None:
    contract = load_contract("karrio-batch-orders")
    errors = contract.errors
    assert errors.index_of({"message": "orders[" + "9" * 5000 + "].x: y"}) is None  # int() refused > 4300
    assert errors.index_of({"message": "orders[" + "9" * 19 + "].x: y"}) is None
    assert errors.index_of({"message": "orders[\u0663].x: y"}) is None
    assert errors.index_of({"message": "orders[12].x: y"}) == 12
    documented = next(iter(errors.documented.values()))
    for detail in ("{index[0]}", "{value:d}", "{value:,}", "{", "{nope}", "{value!x}"):
        assert dataclasses.replace(documented, detail=detail).render(index=1, value=None) == detail
    assert dataclasses.replace(documented, detail="at {index}").render(index=3) == "at 3"


def test_a_nul_in_the_spec_path_is_one_error() -> None:
    with pytest.raises(ContractError, match="cannot read spec"):
        load_contract("spec/a\x00b.yaml")
