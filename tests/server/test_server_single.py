"""GET / PATCH / DELETE /orders/{id}."""

from __future__ import annotations

from srv_helpers import assert_error_shape, client, db_rows, make_order, pointers

from contracts.server import RunningServer


def _create(server: RunningServer) -> tuple[int, dict[str, object]]:
    order = make_order(customer_details={"name": "Ann", "email": "ann@example.com"})
    with client(server) as c:
        pk = c.post("/orders", json=[order]).json()["data"][0]["id"]
    return pk, order


def test_patch_deep_merges_and_matches_items_by_name(server: RunningServer) -> None:
    pk, order = _create(server)
    patch = {
        "id": str(pk),
        "order_id": order["order_id"],
        "order_details": {
            "status": {"code": "cancelled"},
            "order_items": [{"name": "Candle", "quantity": 5}],
        },
        "customer_details": {"phone_number": "0612345678"},
    }
    with client(server) as c:
        response = c.patch(f"/orders/{pk}", json=patch)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "data": {"id": pk, "order_id": order["order_id"], "order_number": order["order_number"]}
        }
        got = c.get(f"/orders/{pk}").json()["data"]
    assert got["order_details"]["status"] == {"code": "cancelled", "message": "Fulfilled"}
    items = {i["name"]: i for i in got["order_details"]["order_items"]}
    assert items["Candle"]["quantity"] == 5 and items["Candle"]["total_price"]["value"] == 7.0
    assert items["Orange"]["quantity"] == 1
    assert got["customer_details"] == {
        "name": "Ann",
        "email": "ann@example.com",
        "phone_number": "0612345678",
    }
    assert got["modified_at"] >= got["created_at"]
    assert db_rows(
        server, "SELECT json_extract(body, '$.order_details.status.code') FROM items WHERE id = ?", (pk,)
    ) == [("cancelled",)]


def test_patch_errors_use_pointers_without_batch_index(server: RunningServer) -> None:
    pk, order = _create(server)
    with client(server) as c:
        bad = c.patch(
            f"/orders/{pk}", json={"order_details": {"order_items": [{"name": "Candle", "quantity": 0}]}}
        )
        assert_error_shape(bad, 400)
        assert pointers(bad) == ["/order_details/order_items/0/quantity"]
        unknown_item = c.patch(f"/orders/{pk}", json={"order_details": {"order_items": [{"name": "Nope"}]}})
        assert pointers(unknown_item) == [
            "order/order_details/order_items"
        ]  # as the spec's example writes it
        assert unknown_item.json()["errors"][0]["detail"] == "Could not find specified item."
        changed_id = c.patch(f"/orders/{pk}", json={"order_id": "different"})
        assert_error_shape(changed_id, 400)
        assert pointers(changed_id) == ["/order_id"]
        assert_error_shape(c.patch(f"/orders/{pk}", json=[1]), 400)
        null_integration = c.patch(f"/orders/{pk}", json={"order_details": {"integration": None}})
        assert_error_shape(null_integration, 400)
        assert pointers(null_integration) == ["/order_details/integration"]
        other_integration = c.patch(f"/orders/{pk}", json={"order_details": {"integration": {"id": 739283}}})
        assert pointers(other_integration) == ["/order_details/integration/id"]
        assert_error_shape(c.patch(f"/orders/{pk}", json={"order_number": None}), 400)
        assert c.get(f"/orders/{pk}").json()["data"]["order_number"] == order["order_number"]


def test_delete_then_404(server: RunningServer) -> None:
    pk, _ = _create(server)
    with client(server) as c:
        assert c.delete(f"/orders/{pk}").status_code == 204
        assert_error_shape(c.get(f"/orders/{pk}"), 404)
        assert_error_shape(c.delete(f"/orders/{pk}"), 404)
        assert_error_shape(c.patch(f"/orders/{pk}", json={"order_number": "x"}), 404)
        assert c.get(f"/orders/{pk}/").status_code == 404
    assert db_rows(server, "SELECT COUNT(*) FROM items WHERE id = ?", (pk,)) == [(0,)]


def test_deleted_ids_are_not_reused(server: RunningServer) -> None:
    pk, _ = _create(server)
    with client(server) as c:
        assert c.delete(f"/orders/{pk}").status_code == 204
        new_pk = c.post("/orders", json=[make_order()]).json()["data"][0]["id"]
    assert new_pk > pk
