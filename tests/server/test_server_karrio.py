"""The Karrio dialect over real HTTP: async batch operations, reuse by key, located validation, token auth,
page-style lists — all served from spec/karrio-batch-orders.yaml by the same server code."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.server import Account, RunningServer, running_server_in_thread

SPEC = "karrio-batch-orders.yaml"
TERMINAL = {"failed", "completed", "completed_with_errors"}


def order(order_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "order_id": order_id or f"K-{uuid.uuid4().hex[:10]}",
        "shipping_to": {"person_name": "Ann", "city": "Oss", "country_code": "NL"},
        "line_items": [{"title": "Candle", "quantity": 2, "weight": 0.5, "weight_unit": "KG"}],
    }
    document.update(overrides)
    return document


@pytest.fixture(scope="module")
def karrio() -> Iterator[RunningServer]:
    with running_server_in_thread(spec_path=SPEC, processing_delay=0.2) as started:
        yield started


def client(server: RunningServer, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.api_url, headers=headers or server.headers, timeout=30)


def wait(c: httpx.Client, operation_id: str, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body: dict[str, Any] = c.get(f"/v1/batches/operations/{operation_id}").json()
        if body["status"] in TERMINAL:
            return body
        time.sleep(0.05)
    raise AssertionError(f"operation {operation_id} did not finish within {seconds} s")


def test_accepted_batch_is_queued_then_completed_with_one_readable_resource_per_order(
    karrio: RunningServer,
) -> None:
    orders = [order(), order(), order(source="POS")]
    with client(karrio) as c:
        accepted = c.post("/v1/batches/orders", json={"orders": orders})
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["status"] == "queued" and accepted.json()["resources"] == []
        assert c.get(f"/v1/batches/operations/{accepted.json()['id']}").json()["status"] in {
            "queued",
            "running",
        }
        done = wait(c, accepted.json()["id"])
        assert done["status"] == "completed"
        assert [r["status"] for r in done["resources"]] == ["completed"] * 3
        for sent, resource in zip(orders, done["resources"], strict=True):
            stored = c.get(f"/v1/orders/{resource['id']}").json()
            assert stored["order_id"] == sent["order_id"]
            assert stored["source"] == sent.get("source", "API")  # the key's default is stored
            assert stored["status"] == "unfulfilled" and stored["line_items"] == sent["line_items"]


def test_a_known_key_is_reused_unchanged_and_another_source_is_another_order(karrio: RunningServer) -> None:
    first = order()
    with client(karrio) as c:
        before = wait(c, c.post("/v1/batches/orders", json={"orders": [first]}).json()["id"])
        changed = dict(first, shipping_to={"city": "Berlin", "country_code": "DE"}, source="API")
        other = dict(first, source="ERP")
        again = wait(c, c.post("/v1/batches/orders", json={"orders": [changed, other]}).json()["id"])
        pk = before["resources"][0]["id"]
        assert again["resources"][0]["id"] == pk
        assert again["resources"][1]["id"] != pk
        assert c.get(f"/v1/orders/{pk}").json()["shipping_to"]["city"] == "Oss"  # reused, not updated
        listed = c.get("/v1/orders", params={"order_id": first["order_id"]}).json()
        assert listed["count"] == 2 and {o["source"] for o in listed["results"]} == {"API", "ERP"}


def test_an_invalid_order_refuses_the_whole_batch_located_by_index_and_path(karrio: RunningServer) -> None:
    good, missing = order(), order()
    del missing["line_items"]
    nested = order(line_items=[{"weight": 1, "weight_unit": "KG"}, {"weight_unit": "KG"}])
    with client(karrio) as c:
        count = c.get("/v1/orders").json()["count"]
        refused = c.post("/v1/batches/orders", json={"orders": [good, missing, nested, "x"]})
        assert refused.status_code == 400
        errors = refused.json()["errors"]
        assert [(e["index"], e["message"]) for e in errors] == [
            (1, "orders[1].line_items: This field is required."),
            (2, "orders[2].line_items.1.weight: This field is required."),
            (3, "orders[3]: Expected an order object."),
        ]
        time.sleep(0.3)
        assert c.get("/v1/orders").json()["count"] == count  # nothing stored
        assert c.get("/v1/orders", params={"order_id": good["order_id"]}).json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"orders": []}, "orders: This list may not be empty."),
        ({"orders": {"a": 1}}, "orders: Expected a list of orders."),
        ({}, "orders: Expected a list of orders."),
    ],
)
def test_whole_batch_errors(karrio: RunningServer, body: Any, message: str) -> None:
    with client(karrio) as c:
        response = c.post("/v1/batches/orders", json=body)
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [message]
    assert "index" not in response.json()["errors"][0]


def test_token_auth(karrio: RunningServer) -> None:
    assert karrio.headers == {"Authorization": "Token demo-secret"}
    with client(karrio, {"Authorization": "Token wrong"}) as c:
        wrong = c.get("/v1/orders")
    with client(karrio, {"Authorization": "Basic ZGVtbzpkZW1vLXNlY3JldA=="}) as c:
        basic = c.get("/v1/orders")
    missing = httpx.get(karrio.api_url + "/v1/orders")
    assert (wrong.status_code, basic.status_code, missing.status_code) == (401, 401, 401)
    assert wrong.json() == {"errors": [{"code": "authentication_failed", "message": "Invalid token."}]}
    assert missing.json()["errors"][0]["message"] == "Authentication credentials were not provided."


def test_accounts_do_not_see_each_other(karrio: RunningServer) -> None:
    mine = order()
    with client(karrio) as c:
        done = wait(c, c.post("/v1/batches/orders", json={"orders": [mine]}).json()["id"])
    assert karrio.other_headers is not None
    with client(karrio, karrio.other_headers) as other:
        assert other.get(f"/v1/orders/{done['resources'][0]['id']}").status_code == 404
        assert other.get(f"/v1/batches/operations/{done['id']}").status_code == 404
        assert other.get("/v1/orders", params={"order_id": mine["order_id"]}).json()["count"] == 0


def test_pages_walk_every_operation_once(karrio: RunningServer) -> None:
    with client(karrio) as c:
        for _ in range(3):
            assert c.post("/v1/batches/orders", json={"orders": [order()]}).status_code == 201
        page = c.get("/v1/batches/operations", params={"limit": 2}).json()
        seen = [o["id"] for o in page["results"]]
        while page["next"]:
            page = c.get(page["next"]).json()
            seen += [o["id"] for o in page["results"]]
        assert len(seen) == len(set(seen)) == page["count"]
        assert c.get("/v1/orders", params={"limit": "x"}).status_code == 400
        assert c.get("/v1/orders/ord_nothing").status_code == 404
        assert c.get("/v1/batches/operations/999999").status_code == 404


@pytest.mark.parametrize("failures", [1, 99])
def test_a_run_that_raises_is_retried_then_failed_never_left_running(
    karrio: RunningServer, monkeypatch: pytest.MonkeyPatch, failures: int
) -> None:
    """An exception in the worker used to leave the operation `running` until the server restarted."""
    from contracts.server import _operations

    real = vars(_operations)["write_items"]
    left = [failures]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if left[0] > 0:
            left[0] -= 1
            raise RuntimeError("disk trouble")
        return real(*args, **kwargs)

    monkeypatch.setattr(_operations, "write_items", flaky)
    mine = order()
    with client(karrio) as c:
        done = wait(c, c.post("/v1/batches/orders", json={"orders": [mine]}).json()["id"], seconds=15)
        stored = c.get("/v1/orders", params={"order_id": mine["order_id"]}).json()["count"]
    if failures == 1:  # the second try stores the order, once
        assert done["status"] == "completed" and stored == 1
    else:  # every try raised: failed, one resource per order, nothing stored
        assert done["status"] == "failed" and len(done["resources"]) == 1 and stored == 0


def test_a_resumed_operation_stores_its_orders_in_its_own_account(tmp_path: Path) -> None:
    """Restarted without the operation's account configured, the worker used to store the orders in the
    first configured account (another tenant could then read them)."""
    db = str(tmp_path / "karrio.sqlite3")
    alice = Account("alice", "alice-secret")
    mine = order()
    with running_server_in_thread(
        spec_path=SPEC, db_path=db, accounts=(alice,), processing_delay=60
    ) as first:
        headers = {"Authorization": "Token alice-secret"}
        with client(first, headers) as c:
            assert c.post("/v1/batches/orders", json={"orders": [mine]}).status_code == 201
    with running_server_in_thread(spec_path=SPEC, db_path=db) as second:  # the demo accounts only
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _rows(db, "SELECT id FROM operations WHERE pending = 1"):
            time.sleep(0.05)
        assert not _rows(db, "SELECT id FROM operations WHERE pending = 1")
        with client(second) as c:
            assert c.get("/v1/orders", params={"order_id": mine["order_id"]}).json()["count"] == 0
    assert _rows(db, "SELECT account FROM items") == [("alice",)]


def _rows(db: str, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_an_integer_outside_64_bits_is_refused_not_rounded(karrio: RunningServer) -> None:
    """orjson reads 18446744073709551616 as 1.8446744073709552e+19: metadata, stored as sent, was rounded."""
    with client(karrio) as c:
        for number in ("18446744073709551616", "-9223372036854775809", "9" * 5000):
            mine = order(metadata={"n": "NUMBER"})
            body = json.dumps({"orders": [mine]}).replace('"NUMBER"', number)
            refused = c.post("/v1/batches/orders", content=body, headers={"Content-Type": "application/json"})
            assert refused.status_code == 400, refused.text
            assert refused.json()["errors"][0]["code"] == "parse_error"  # the documented malformed_json
            assert c.get("/v1/orders", params={"order_id": mine["order_id"]}).json()["count"] == 0
        kept = order(metadata={"n": 18446744073709551615, "ref": "12345678901234567890123"})
        done = wait(c, c.post("/v1/batches/orders", json={"orders": [kept]}).json()["id"])
        stored = c.get(f"/v1/orders/{done['resources'][0]['id']}").json()
        assert stored["metadata"] == kept["metadata"]
