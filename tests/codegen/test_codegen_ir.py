"""The intermediate representation: names, batch detection, pagination, x-contract."""

from __future__ import annotations

from typing import Any

from codegen_support import FIXTURES, REPO, VENDOR_SPEC

from codegen import build_ir, load_spec, normalise, prepare


def ir_of(document: dict[str, Any]) -> Any:
    doc, _ = normalise(document)
    return build_ir(doc)


def batch_spec(max_items: int | None, contract: dict[str, Any] | None) -> dict[str, Any]:
    body_schema: dict[str, Any] = {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
    if max_items is not None:
        body_schema["maxItems"] = max_items
    op: dict[str, Any] = {
        "operationId": "putThings",
        "requestBody": {"content": {"application/json": {"schema": body_schema}}},
        "responses": {"200": {"description": "ok"}},
    }
    if contract is not None:
        op["x-contract"] = contract
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": op}},
        "components": {"schemas": {"Thing": {"type": "object"}}},
    }


def test_batch_max_comes_from_x_contract_then_max_items_then_a_warning() -> None:
    ir, notes = ir_of(batch_spec(7, {"batch": {"max_items": 3, "min_items": 2}}))
    assert (ir.batch.max_items, ir.batch.min_items, ir.batch.body_arg) == (3, 2, "things") and not notes
    ir, notes = ir_of(batch_spec(7, None))
    assert (ir.batch.max_items, ir.batch.min_items) == (7, 1) and not notes
    ir, notes = ir_of(batch_spec(None, None))
    assert ir.batch.max_items is None
    assert [(n.rule, n.location) for n in notes] == [("batch", "/paths/~1things/post/requestBody")]


def test_our_spec_ir_matches_spec_shape() -> None:
    _doc, ir, _ = prepare(load_spec(REPO / "spec" / "sendcloud-orders-v3.yaml"))
    ops = {op.operation_id: op for op in ir.operations}
    assert {op.method_name for op in ir.operations} == {
        "upsert_orders",
        "list_orders",
        "get_order",
        "update_order",
        "delete_order",
    }
    upsert = ops["upsertOrders"]
    assert (upsert.body_model, upsert.body_item_model, upsert.body_is_list) == (
        "OrderUpsertBatch",
        "OrderUpsert",
        True,
    )
    assert upsert.success is not None and upsert.success.model == "OrderUpsertResponse"
    assert {link.operation_id for link in upsert.links} >= {"getOrder", "updateOrder", "deleteOrder"}
    assert ops["deleteOrder"].success is not None and ops["deleteOrder"].success.empty
    listing = ops["listOrders"]
    assert listing.pagination is not None and listing.pagination.iter_name == "iter_orders"
    assert listing.pagination.item_model == "Order"
    integration = next(p for p in listing.params if p.name == "integration")
    assert integration.annotation == "list[int]" and integration.comma_list
    assert ir.batch is not None and (ir.batch.max_items, ir.batch.result_item_model) == (
        100,
        "OrderUpsertResult",
    )
    assert (
        ir.conflict is not None
        and ir.conflict.pointer == "/data"
        and "still processing" in ir.conflict.detail
    )
    assert ir.pointer_prefix == "/data/attributes/"
    assert ir.error_model == "ErrorResponse" and ir.basic_auth and ir.partner_header == "Sendcloud-Partner-Id"
    assert '"max_items": 100' in ir.contract_json


def test_vendor_spec_gets_generic_equivalents() -> None:
    if not VENDOR_SPEC.is_file():
        import pytest

        pytest.skip(f"vendor spec not found at {VENDOR_SPEC}")
    _doc, ir, findings = prepare(load_spec(VENDOR_SPEC))
    names = {op.method_name for op in ir.operations}
    assert "sc_public_v3_orders_get_retrieve_order" in names
    assert ir.batch is not None and ir.batch.method_name == "sc_public_v3_orders_post_create_orders"
    assert ir.batch.max_items is None and ir.batch.body_arg == "orders"  # no maxItems upstream: warned
    assert any(f.rule == "batch" for f in findings)
    assert ir.conflict is None  # no x-contract: only 5xx/transport retries
    listing = next(op for op in ir.operations if op.pagination)
    assert (
        listing.pagination is not None
        and listing.pagination.iter_name == "iter_sc_public_v3_orders_get_list_orders"
    )


def test_parameters_never_shadow_generated_locals() -> None:
    document = load_spec(FIXTURES / "messy_shop.yaml").document
    params = document["paths"]["/items"]["get"]["parameters"]
    params += [
        {"name": n, "in": "query", "schema": {"type": "string"}} for n in ("params", "self", "class", "id")
    ]
    ir, _ = ir_of(document)
    names = {p.py_name for op in ir.operations for p in op.params}
    assert {"params2", "self2", "class_", "id"} <= names and not {"params", "self", "class"} & names
