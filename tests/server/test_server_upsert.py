"""POST /orders over real HTTP: upsert semantics, request-ordered results, atomic batches, error pointers."""

from __future__ import annotations

import httpx
from sendcloud_orders.models import OrderList, OrderResponse, OrderUpsertResponse
from srv_helpers import assert_error_shape, client, db_rows, details, make_order, pointers, unique

from contracts.server import RunningServer


def _count(server: RunningServer, order_id: str) -> int:
    return int(
        db_rows(server, "SELECT COUNT(*) FROM items WHERE json_extract(body, '$.order_id') = ?", (order_id,))[
            0
        ][0]
    )


def test_create_then_upsert_same_key_updates_same_order(server: RunningServer) -> None:
    order = make_order()
    with client(server) as c:
        first = c.post("/orders", json=[order])
        assert first.status_code == 201, first.text
        [created] = first.json()["data"]
        assert isinstance(created["id"], int)
        assert created["order_id"] == order["order_id"]
        changed = dict(order, order_number="CHANGED")
        second = c.post("/orders", json=[changed])
        assert second.status_code == 201
        assert second.json()["data"][0]["id"] == created["id"]
        got = c.get(f"/orders/{created['id']}").json()["data"]
    assert got["order_number"] == "CHANGED"
    assert _count(server, order["order_id"]) == 1


def test_same_order_id_other_integration_is_another_order(server: RunningServer) -> None:
    order_id = unique()
    with client(server) as c:
        response = c.post("/orders", json=[make_order(order_id, 7), make_order(order_id, 739283)])
    assert response.status_code == 201, response.text
    ids = [d["id"] for d in response.json()["data"]]
    assert len(set(ids)) == 2
    assert _count(server, order_id) == 2


def test_results_follow_request_order_and_get_returns_what_was_sent(server: RunningServer) -> None:
    orders = [make_order() for _ in range(5)]
    with client(server) as c:
        existing = c.post("/orders", json=[orders[3]]).json()["data"][0]["id"]
        response = c.post("/orders/", json=orders)  # the older guide's trailing slash works too
        assert response.status_code == 201
        OrderUpsertResponse.model_validate(response.json())
        OrderList.model_validate(c.get("/orders").json())
        data = response.json()["data"]
        assert [d["order_id"] for d in data] == [o["order_id"] for o in orders]
        assert [d["order_number"] for d in data] == [o["order_number"] for o in orders]
        assert data[3]["id"] == existing
        for sent, result in zip(orders, data, strict=True):
            body = c.get(f"/orders/{result['id']}").json()
            OrderResponse.model_validate(body)
            got = body["data"]
            assert got["id"] == str(result["id"])
            assert {"created_at", "modified_at"} <= set(got)
            assert {k: got[k] for k in sent} == sent


def test_explicit_id_targets_that_order(server: RunningServer) -> None:
    order = make_order()
    with client(server) as c:
        pk = c.post("/orders", json=[order]).json()["data"][0]["id"]
        response = c.post("/orders", json=[dict(order, id=str(pk), order_number="BY-ID")])
        assert response.status_code == 201, response.text
        assert response.json()["data"][0]["id"] == pk
        assert c.get(f"/orders/{pk}").json()["data"]["order_number"] == "BY-ID"


def test_batch_of_100_is_accepted_and_101_rejected(server: RunningServer) -> None:
    with client(server) as c:
        ok = c.post("/orders", json=[make_order() for _ in range(100)])
        assert ok.status_code == 201 and len(ok.json()["data"]) == 100
        too_many = [make_order() for _ in range(101)]
        errors = assert_error_shape(c.post("/orders", json=too_many), 400)
    assert errors == [
        {
            "status": "400",
            "code": "invalid",
            "detail": "Orders list should have at most 100 items, not 101",
            "source": {"pointer": "/data/attributes/"},
        }
    ]
    assert _count(server, too_many[0]["order_id"]) == 0


def test_not_a_list_and_empty_list(server: RunningServer) -> None:
    with client(server) as c:
        errors = assert_error_shape(c.post("/orders", json=make_order()), 400)
        assert errors[0]["code"] == "non_field_errors"
        assert errors[0]["detail"] == "Wrong request format, expected list of objects"
        empty = assert_error_shape(c.post("/orders", json=[]), 400)
    assert empty[0]["source"]["pointer"] == "/data/attributes/"
    assert "at least 1" in empty[0]["detail"]


def test_every_validation_error_is_reported_with_its_pointer(server: RunningServer) -> None:
    good = make_order()
    no_integration = make_order()
    del no_integration["order_details"]["integration"]
    zero_quantity = make_order()
    zero_quantity["order_details"]["order_items"][1]["quantity"] = 0
    int_id = dict(make_order(), id=5)
    with client(server) as c:
        response = c.post("/orders", json=[good, no_integration, zero_quantity, int_id])
    assert_error_shape(response, 400)
    assert pointers(response) == [
        "/data/attributes/[1]/order_details/integration",
        "/data/attributes/[2]/order_details/order_items/1/quantity",
        "/data/attributes/[3]/id",
    ]
    assert details(response)[0] == "Field required"
    assert details(response)[1] == "Input should be greater than 0"  # the documented detail, word for word
    assert details(response)[2] == "Input should be a valid string"
    assert _count(server, good["order_id"]) == 0  # all-or-nothing


def test_unknown_and_foreign_integrations_are_rejected(server: RunningServer) -> None:
    orders = [make_order(), make_order(integration=99999), make_order(integration=8)]  # 8 = other account
    with client(server) as c:
        response = c.post("/orders", json=orders)
    assert_error_shape(response, 400)
    assert pointers(response) == [
        "/data/attributes/[1]/order_details/integration/id",
        "/data/attributes/[2]/order_details/integration/id",
    ]
    assert details(response) == [
        "Integration with id 99999 does not exist",
        "Integration with id 8 does not exist",
    ]
    assert _count(server, orders[0]["order_id"]) == 0


def test_order_id_of_an_order_targeted_by_id_cannot_change(server: RunningServer) -> None:
    order = make_order()
    with client(server) as c:
        pk = c.post("/orders", json=[order]).json()["data"][0]["id"]
        other = make_order()
        response = c.post(
            "/orders", json=[other, dict(order, id=str(pk), order_id="NEW-" + order["order_id"])]
        )
        assert_error_shape(response, 400)
        assert pointers(response) == ["/data/attributes/[1]/order_id"]
        assert details(response) == [f"Order id {order['order_id']} cannot be changed"]
        assert c.get(f"/orders/{pk}").json()["data"]["order_id"] == order["order_id"]
    assert _count(server, other["order_id"]) == 0  # the valid first order was not written either


def test_unknown_explicit_id_is_rejected(server: RunningServer) -> None:
    with client(server) as c:
        response = c.post("/orders", json=[dict(make_order(), id="987654321")])
    assert_error_shape(response, 400)
    assert pointers(response) == ["/data/attributes/[0]/id"]
    assert "987654321" in details(response)[0]


def test_duplicate_upsert_key_in_one_batch_is_rejected_at_the_later_index(server: RunningServer) -> None:
    order = make_order()
    with client(server) as c:
        response = c.post("/orders", json=[order, make_order(), dict(order, order_number="again")])
    assert_error_shape(response, 400)
    assert pointers(response) == ["/data/attributes/[2]/order_id"]
    assert "index 0" in details(response)[0]
    assert _count(server, order["order_id"]) == 0


def test_other_account_cannot_see_or_touch_orders(server: RunningServer) -> None:
    assert server.other_auth is not None
    with client(server) as c:
        pk = c.post("/orders", json=[make_order()]).json()["data"][0]["id"]
    with client(server, auth=server.other_auth) as other:
        assert_error_shape(other.get(f"/orders/{pk}"), 404)
        assert_error_shape(other.patch(f"/orders/{pk}", json={"order_number": "x"}), 404)
        assert_error_shape(other.delete(f"/orders/{pk}"), 404)
        listed = other.get("/orders").json()["data"]
        assert all(o["order_details"]["integration"]["id"] == 8 for o in listed)
        own = other.post("/orders", json=[make_order(integration=8)])
        assert own.status_code == 201
    with client(server) as c:
        assert c.get(f"/orders/{pk}").status_code == 200


def test_unknown_fields_are_kept_and_server_fields_are_not_taken_from_the_request(
    server: RunningServer,
) -> None:
    order = dict(make_order(), created_at="1999-01-01T00:00:00Z", extra_field={"a": 1})
    with client(server) as c:
        pk = c.post("/orders", json=[order]).json()["data"][0]["id"]
        got = c.get(f"/orders/{pk}").json()["data"]
    assert got["created_at"] != "1999-01-01T00:00:00Z"
    assert got["extra_field"] == {"a": 1}


def test_health_needs_no_credentials(server: RunningServer) -> None:
    assert httpx.get(server.base_url + "/health").json() == {"status": "ok"}


def test_timestamps_must_be_strings(server: RunningServer) -> None:
    """JSON-mode strict validation: 12345 is not a date-time (lax pydantic would read it as Unix time)."""
    order = make_order()
    order["order_details"]["order_created_at"] = 12345
    with client(server) as c:
        response = c.post("/orders", json=[order])
    assert_error_shape(response, 400)
    assert pointers(response) == ["/data/attributes/[0]/order_details/order_created_at"]


def test_an_update_keeps_the_indexed_list_columns_right_whether_they_change_or_not(
    server: RunningServer,
) -> None:
    """Updates leave an indexed column alone when its value is unchanged (a cheaper statement) and rewrite
    it when it changes: the list filter on it must follow, in one batch holding both kinds."""
    same, renamed = make_order(), make_order()
    number = unique("NUM")
    same["order_number"], renamed["order_number"] = number + "-S", number + "-R"
    with client(server) as c:
        assert c.post("/orders", json=[same, renamed]).status_code == 201
        same["order_details"]["status"]["code"] = "cancelled"
        again = [same, dict(renamed, order_number=number + "-NEW")]
        ids = [str(r["id"]) for r in c.post("/orders", json=again).json()["data"]]

        def listed(value: str) -> list[str]:
            return [str(o["id"]) for o in c.get("/orders", params={"order_number": value}).json()["data"]]

        assert listed(number + "-S") == [ids[0]]
        assert c.get(f"/orders/{ids[0]}").json()["data"]["order_details"]["status"]["code"] == "cancelled"
        assert listed(number + "-R") == []
        assert listed(number + "-NEW") == [ids[1]]
