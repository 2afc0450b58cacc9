"""The intermediate representation: names, batch detection, pagination, x-contract."""

from __future__ import annotations

from typing import Any

from codegen_support import FIXTURES, REPO, VENDOR_SPEC

from codegen import build_ir, load_spec, normalise, prepare


def ir_of(document: dict[str, Any]) -> Any:
    doc, _ = normalise(document)
    return build_ir(doc)


def batch_spec(max_items: int | None) -> dict[str, Any]:
    body_schema: dict[str, Any] = {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
    if max_items is not None:
        body_schema["maxItems"] = max_items
    op: dict[str, Any] = {
        "operationId": "putThings",
        "requestBody": {"content": {"application/json": {"schema": body_schema}}},
        "responses": {"200": {"description": "ok"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/things": {"post": op}},
        "components": {"schemas": {"Thing": {"type": "object"}}},
    }


def test_without_a_contract_the_batch_max_is_max_items_else_a_warning() -> None:
    ir, notes = ir_of(batch_spec(7))
    assert (ir.batch.max_items, ir.batch.min_items, ir.batch.body_arg) == (7, 1, "things") and not notes
    ir, notes = ir_of(batch_spec(None))
    assert ir.batch.max_items is None
    assert [(n.rule, n.location) for n in notes] == [("batch", "/paths/~1things/post/requestBody")]
    assert ir.conflict is None and ir.polling is None and ir.errors.head is None


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
    assert ir.errors.style == "pointer" and ir.errors.pointer_at == "/source/pointer"
    assert ir.errors.head is not None and ir.errors.head.endswith("[") and ir.errors.middle == "]"
    assert ir.error_model == "ErrorResponse" and ir.basic_auth
    assert [o.name for o in ir.header_options] == ["Sendcloud-Partner-Id"]
    assert ops["upsertOrders"].idempotent and not ops["deleteOrder"].idempotent  # keyed upsert: safe
    assert not ops["updateOrder"].idempotent and ops["getOrder"].idempotent
    get_id = next(p for p in ops["getOrder"].params if p.name == "id")
    assert get_id.annotation == "int | str"  # Order.id is a string, the upsert result's id an integer


def test_karrio_ir_takes_the_wrapped_list_and_the_async_operation_from_the_contract() -> None:
    _doc, ir, findings = prepare(load_spec(REPO / "spec" / "karrio-batch-orders.yaml"))
    assert ir.batch is not None
    assert (ir.batch.items_field, ir.batch.item_model, ir.batch.max_items) == ("orders", "OrderData", None)
    assert ir.batch.result_field is None  # asynchronous: the answer is an operation
    assert not any(f.rule == "batch" for f in findings)  # the contract states "no limit"
    assert ir.polling is not None and ir.polling.status_method == "retrieve_batch_operation"
    assert "completed_with_errors" in ir.polling.terminal and ir.polling.succeeded == ("completed",)
    assert (ir.errors.style, ir.errors.head, ir.errors.index_at) == ("message_path", "orders[", "/index")
    assert [(s.kind, s.option, s.header, s.prefix) for s in ir.security] == [
        ("api_key", "api_key", "Authorization", "Token")
    ]
    assert ir.header_options == ()
    assert {o.pagination.iter_name for o in ir.operations if o.pagination} == {
        "iter_orders",
        "iter_batch_operations",
    }


def test_vendor_spec_gets_generic_equivalents() -> None:
    if not VENDOR_SPEC.is_file():
        import pytest

        pytest.skip(f"vendor spec not found at {VENDOR_SPEC}")
    _doc, ir, findings = prepare(load_spec(VENDOR_SPEC))
    names = {op.method_name for op in ir.operations}
    assert "retrieve_order" in names  # sc-public-v3-orders-get-retrieve_order, by the documented rule
    by_name = {op.method_name: op for op in ir.operations}
    assert "operationId ``sc-public-v3-orders-get-retrieve_order``" in by_name["retrieve_order"].docstring
    assert ir.batch is not None and ir.batch.method_name == "create_orders"
    assert ir.batch.max_items is None and ir.batch.body_arg == "orders"  # no maxItems upstream: warned
    assert any(f.rule == "batch" for f in findings)
    assert ir.conflict is None  # no contract: only 429/5xx/transport retries
    listing = next(op for op in ir.operations if op.pagination)
    assert listing.pagination is not None and listing.pagination.iter_name == "iter_orders"


def test_parameters_never_shadow_generated_locals() -> None:
    document = load_spec(FIXTURES / "messy_shop.yaml").document
    params = document["paths"]["/items"]["get"]["parameters"]
    params += [
        {"name": n, "in": "query", "schema": {"type": "string"}} for n in ("params", "self", "class", "id")
    ]
    ir, _ = ir_of(document)
    names = {p.py_name for op in ir.operations for p in op.params}
    assert {"params2", "self2", "class_", "id"} <= names and not {"params", "self", "class"} & names


def test_header_options_never_shadow_constructor_arguments_or_security_options() -> None:
    header = {"in": "header", "schema": {"type": "string"}}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {
                "get": {
                    "operationId": "getA",
                    "parameters": [
                        {"$ref": "#/components/parameters/T"},
                        {"$ref": "#/components/parameters/K"},
                    ],
                    "responses": {"204": {"description": "ok"}},
                }
            }
        },
        "components": {
            "parameters": {"T": {**header, "name": "Timeout"}, "K": {**header, "name": "Api-Key"}},
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        },
    }
    ir, _ = ir_of(document)
    assert [s.option for s in ir.security] == ["api_key"]
    assert sorted((o.name, o.py_name) for o in ir.header_options) == [
        ("Api-Key", "api_key2"),
        ("Timeout", "timeout2"),
    ]
