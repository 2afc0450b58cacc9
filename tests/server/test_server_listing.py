"""GET /orders: filters, sorting, page size, cursor pagination through Link headers."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from srv_helpers import assert_error_shape, client, make_order, unique

from contracts.server import RunningServer, running_server

_LINK = re.compile(r'<([^>]+)>; rel="(next|prev)"')


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server() as started:
        with client(started) as c:
            batch = []
            for i in range(30):
                batch.append(
                    make_order(
                        f"L-{i:03d}",
                        integration=7 if i % 3 else 739283,
                        order_number=f"NUM-{i:03d}",
                        status="shipped" if i % 2 else "Unshipped",
                        created=f"2024-01-{1 + i % 10:02d}T12:00:00+00:00",
                        updated=f"2024-02-{1 + i % 5:02d}T23:30:00-02:00",
                    )
                )
            assert c.post("/orders", json=batch).status_code == 201
        yield started


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in _LINK.findall(response.headers.get("link", ""))}


def _ids(c: httpx.Client, **params: Any) -> list[str]:
    response = c.get("/orders", params=params)
    assert response.status_code == 200, response.text
    return [o["order_id"] for o in response.json()["data"]]


def test_default_sort_is_newest_first(server: RunningServer) -> None:
    with client(server) as c:
        ids = _ids(c)
    assert ids == [f"L-{i:03d}" for i in reversed(range(30))]


def test_filters(server: RunningServer) -> None:
    with client(server) as c:
        assert set(_ids(c, integration="739283")) == {f"L-{i:03d}" for i in range(0, 30, 3)}
        assert len(_ids(c, integration="7,739283")) == 30
        assert len(_ids(c, integration=["7", "739283"])) == 30  # repeated parameter: accepted too
        assert _ids(c, order_id="l-004") == ["L-004"]
        assert _ids(c, order_number="num-005") == ["L-005"]
        assert set(_ids(c, status="UNSHIPPED")) == {f"L-{i:03d}" for i in range(0, 30, 2)}
        assert set(_ids(c, order_created_at="2024-01-03")) == {"L-002", "L-012", "L-022"}
        assert len(_ids(c, order_created_at_min="2024-01-09")) == 6
        assert len(_ids(c, order_created_at_max="2024-01-02")) == 6
        # 23:30 at -02:00 is the next day in UTC: dates are compared in UTC
        assert set(_ids(c, order_updated_at="2024-02-02")) == {f"L-{i:03d}" for i in range(0, 30, 5)}
        assert len(_ids(c, order_updated_at_min="2024-02-05", order_updated_at_max="2024-02-05")) == 6
        assert _ids(c, order_id="L-001", integration="739283") == []


def test_bad_filter_values_name_the_parameter(server: RunningServer) -> None:
    with client(server) as c:
        for params, name in [
            ({"integration": "abc"}, "integration"),
            ({"integration": "8"}, "integration"),
            ({"order_created_at": "2024-13-01"}, "order_created_at"),
            ({"order_updated_at_min": "yesterday"}, "order_updated_at_min"),
            ({"page_size": "0"}, "page_size"),
            ({"page_size": "201"}, "page_size"),
            ({"page_size": "ten"}, "page_size"),
        ]:
            errors = assert_error_shape(c.get("/orders", params=params), 400)
            assert errors[0]["source"] == {"parameter": name}, params
        choice = assert_error_shape(c.get("/orders", params={"integration": "128"}), 400)
        assert choice == [
            {
                "status": "400",
                "code": "invalid_choice",
                "title": "Invalid Choice",
                "detail": "Select a valid choice. 128 is not one of the available choices.",
                "source": {"parameter": "integration"},
            }
        ]


def test_sorting(server: RunningServer) -> None:
    with client(server) as c:
        assert _ids(c, sort="order_number")[:3] == ["L-000", "L-001", "L-002"]
        assert _ids(c, sort="pk")[:2] == ["L-000", "L-001"]
        assert _ids(c, sort="-order_number,order_number")[:2] == ["L-029", "L-028"]  # contradiction ignored
        assert _ids(c, sort="bogus,order_number") == _ids(c)  # unsupported → default -pk
        by_integration = c.get("/orders", params={"sort": "integration,-order_created_at"}).json()["data"]
        keys = [
            (o["order_details"]["integration"]["id"], o["order_details"]["order_created_at"])
            for o in by_integration
        ]
        assert [k[0] for k in keys] == sorted(k[0] for k in keys)
        for (a_int, a_created), (b_int, b_created) in zip(keys, keys[1:], strict=False):
            if a_int == b_int:
                assert a_created >= b_created


@pytest.mark.parametrize(
    "sort", ["-pk", "order_number", "integration,-order_created_at", "-order_updated_at"]
)
def test_cursor_walk_forward_and_back_visits_every_order_once(server: RunningServer, sort: str) -> None:
    with client(server) as c:
        expected = _ids(c, sort=sort)
        seen: list[str] = []
        pages: list[list[str]] = []
        response = c.get("/orders", params={"sort": sort, "page_size": 7})
        for _ in range(10):
            page = [o["order_id"] for o in response.json()["data"]]
            seen.extend(page)
            pages.append(page)
            links = _links(response)
            if "next" not in links:
                break
            response = c.get(links["next"])
        assert seen == expected
        assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
        for _ in range(10):  # walk back from the last page with the prev links
            links = _links(response)
            if "prev" not in links:
                break
            response = c.get(links["prev"])
            pages.pop()
            assert [o["order_id"] for o in response.json()["data"]] == pages[-1]
        assert len(pages) == 1


def test_cursor_is_stable_when_orders_are_inserted(server: RunningServer) -> None:
    with client(server) as c:
        first = c.get("/orders", params={"page_size": 5, "integration": "7"})
        nxt = _links(first)["next"]
        before = [o["order_id"] for o in c.get(nxt).json()["data"]]
        assert c.post("/orders", json=[make_order(unique("NEW"))]).status_code == 201
        after = [o["order_id"] for o in c.get(nxt).json()["data"]]
    assert before == after


def test_bad_cursor_is_a_json_error(server: RunningServer) -> None:
    with client(server) as c:
        for cursor in ("!!!", "bm90IGpzb24", "eyJzIjpbXX0"):
            errors = assert_error_shape(c.get("/orders", params={"cursor": cursor}), 404)
            assert errors[0]["detail"] == "Invalid cursor"
        good = _links(c.get("/orders", params={"page_size": 3}))["next"]
        cursor = httpx.URL(good).params["cursor"]
        assert_error_shape(c.get("/orders", params={"cursor": cursor, "sort": "order_number"}), 404)


@pytest.mark.parametrize("name", ["integration", "page_size"])
@pytest.mark.parametrize(
    "value", ["\u00b2", "\uff15", "1\u00b9"]
)  # superscript 2, fullwidth 5, 1 + superscript 1
def test_non_ascii_digits_are_not_integers(server: RunningServer, name: str, value: str) -> None:
    with client(server) as c:
        errors = assert_error_shape(c.get("/orders", params={name: value}), 400)
    assert errors[0]["source"] == {"parameter": name}
    assert errors[0]["detail"].startswith("A valid integer is required")


def test_cursor_with_an_integer_past_sqlite_range_is_invalid_not_a_500(server: RunningServer) -> None:
    with client(server) as c:
        for value in (2**63, 2**64 - 1, -(2**63) - 1):
            raw = b'{"s":[["id",true]],"r":0,"p":[%d]}' % value
            cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            errors = assert_error_shape(c.get("/orders", params={"cursor": cursor}), 404)
            assert errors[0]["detail"] == "Invalid cursor"


def test_items_written_with_a_processing_delay_stay_out_of_lists_until_visible() -> None:
    """Lists skip the visibility test once nothing can be hidden; with a delay, hidden items stay out."""
    from contracts.server import running_server_in_thread

    with running_server_in_thread(processing_delay=1.5) as delayed, client(delayed) as c:
        order = make_order(unique("VIS"))
        assert c.post("/orders", json=[order]).status_code == 201
        listed = c.get("/orders", params={"order_id": order["order_id"]}).json()["data"]
        assert listed == []
        assert c.get("/orders").json()["data"] == []
        deadline = time.monotonic() + 10
        while not c.get("/orders").json()["data"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [o["order_id"] for o in c.get("/orders").json()["data"]] == [order["order_id"]]


def test_page_counts_follow_writes_and_match_filtered_counts(tmp_path: Any) -> None:
    """The ``page`` listing's unfiltered count is kept in the write transactions (not counted per request):
    it must equal the rows listed, after inserts and reused keys, and after a restart."""
    import uuid

    from contracts.server import running_server_in_thread

    spec = "karrio-batch-orders.yaml"

    def order(order_id: str) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "shipping_to": {"person_name": "Ann", "city": "Oss", "country_code": "NL"},
            "line_items": [{"title": "Candle", "quantity": 1, "weight": 0.5, "weight_unit": "KG"}],
        }

    db = str(tmp_path / "counts.sqlite3")
    with running_server_in_thread(spec_path=spec, db_path=db) as karrio:
        with httpx.Client(base_url=karrio.api_url, headers=karrio.headers, timeout=30) as c:
            ids = [f"C-{uuid.uuid4().hex[:8]}" for _ in range(5)]
            for batch in ([order(i) for i in ids[:3]], [order(i) for i in ids[1:]]):
                operation = c.post("/v1/batches/orders", json={"orders": batch}).json()
                deadline = time.monotonic() + 20
                while c.get(f"/v1/batches/operations/{operation['id']}").json()["status"] not in (
                    "completed", "failed", "completed_with_errors",
                ) and time.monotonic() < deadline:  # fmt: skip
                    time.sleep(0.05)

            def counts() -> tuple[int, int]:
                page = c.get("/v1/orders", params={"limit": 100}).json()
                return page["count"], len(page["results"])

            assert counts() == (5, 5)
            filtered = c.get("/v1/orders", params={"order_id": ids[0]}).json()
            assert filtered["count"] == 1
    with running_server_in_thread(spec_path=spec, db_path=db) as again:  # the count survives a restart
        with httpx.Client(base_url=again.api_url, headers=again.headers, timeout=30) as c:
            page = c.get("/v1/orders", params={"limit": 100}).json()
            assert page["count"] == len(page["results"]) == 5


def test_a_database_from_before_the_kept_counts_is_counted_once_when_opened(tmp_path: Any) -> None:
    """A file written before ``item_counts`` existed: its rows are counted at open, and lists keep testing
    visibility for an hour (such a file may hold items written with a processing delay)."""
    import sqlite3

    from contracts.contract import load_contract
    from contracts.server._shape import shape_of
    from contracts.server._storage import Store

    path = str(tmp_path / "old.sqlite3")
    shape = shape_of(load_contract("sendcloud-orders-v3.yaml"))
    store = Store(path, shape, background_checkpoint=False)
    row = ("demo", '["A",7]', 0, b"{}", "t", "t", 0.0) + ("",) * len(shape.columns)
    with store.write() as conn:
        store.insert_many(conn, [row, ("demo", '["B",7]', *row[2:]), ("other", '["C",8]', *row[2:])])
    store.close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE item_counts")
    raw.execute("DELETE FROM layout WHERE name = 'hidden_until'")
    raw.commit()
    raw.close()
    reopened = Store(path, shape, background_checkpoint=False)
    try:
        assert reopened.item_count(reopened.conn, "demo") == 2
        assert reopened.item_count(reopened.conn, "other") == 1
        assert not reopened.all_visible(time.time())
        assert reopened.all_visible(time.time() + 3601)
    finally:
        reopened.close()
