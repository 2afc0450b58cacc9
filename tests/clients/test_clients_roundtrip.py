"""The generated sync and async clients against the reference server over real HTTP, behind the checks.

Every flow ends with zero recorded violations: what the generated client sends conforms to the spec."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from clients_support import order, serve_in_thread
from sendcloud_orders import ApiError, AsyncOrdersClient, OrderPartialUpdate, OrdersClient, RetryPolicy

from contracts.clients import CheckStore, ClientChecker, ClientCheckMiddleware
from contracts.server import ServerSettings, create_app

USER, PASSWORD, INTEGRATIONS = "demo", "demo-secret", (7, 739283)


class Checked:
    def __init__(self, url: str, store: CheckStore) -> None:
        self.url, self.store = url, store
        self.api = url + "/api/v3"

    def violations(self) -> list[str]:
        return [f"{v.rule}: {v.request.line()} {v.message}" for v in self.store.violations()]

    def script(self, **payload: Any) -> None:
        assert httpx.post(self.url + "/_contract/script", json=payload, timeout=5).status_code == 201


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checked]:
    folder: Path = tmp_path_factory.mktemp("roundtrip")
    store = CheckStore(folder / "checks.sqlite3")
    app = create_app(ServerSettings(db_path=str(folder / "ref.sqlite3")))
    with serve_in_thread(ClientCheckMiddleware(app, store=store, checker=ClientChecker())) as url:
        yield Checked(url, store)


@pytest.fixture
def server(checked: Checked) -> Checked:
    checked.store.clear()
    checked.store.clear_scripts()
    return checked


def batch(count: int, integration: int = INTEGRATIONS[0]) -> list[dict[str, Any]]:
    prefix = uuid.uuid4().hex[:8]
    return [order(i, integration=integration, order_id=f"{prefix}-{i}") for i in range(count)]


def counting_client(calls: list[str]) -> httpx.Client:
    return httpx.Client(timeout=30, event_hooks={"request": [lambda r: calls.append(f"{r.method} {r.url}")]})


def test_sync_upsert_reupsert_patch_delete(server: Checked) -> None:
    items = batch(3)
    with OrdersClient(server.api, username=USER, password=PASSWORD) as client:
        first = client.upsert_orders(items).data
        assert [r.order_id for r in first] == [i["order_id"] for i in items]
        assert all(isinstance(r.id, int) for r in first)
        again = client.upsert_orders(items).data
        assert [r.id for r in again] == [r.id for r in first]  # re-upsert: same orders, same ids
        target = first[1].id
        fetched = client.get_order(target).data
        assert fetched.order_id == items[1]["order_id"] and fetched.id == str(target)
        patch = OrderPartialUpdate.model_validate({"order_number": "PATCHED-1"})
        assert client.update_order(target, patch).data.id == target
        assert client.get_order(target).data.order_number == "PATCHED-1"
        client.delete_order(target)
        with pytest.raises(ApiError) as gone:
            client.get_order(target)
        assert gone.value.status_code == 404
    assert server.violations() == []


def test_sync_chunked_upsert_of_250_orders_in_input_order(server: Checked) -> None:
    items = batch(250, INTEGRATIONS[1])
    calls: list[str] = []
    with OrdersClient(
        server.api, username=USER, password=PASSWORD, http_client=counting_client(calls)
    ) as client:
        results = client.upsert_orders_chunked(items)
    assert len(calls) == 3 and all(c.startswith("POST ") for c in calls)
    assert [r.order_id for r in results] == [i["order_id"] for i in items]
    assert len({r.id for r in results}) == 250
    assert server.violations() == []


def test_sync_pagination_reaches_the_end(server: Checked) -> None:
    integration = INTEGRATIONS[0]
    items = batch(45, integration)
    status = f"paged-{uuid.uuid4().hex[:6]}"
    for item in items:
        item["order_details"]["status"] = {"code": status}
    with OrdersClient(server.api, username=USER, password=PASSWORD) as client:
        client.upsert_orders(items)
        seen = [
            o.order_id for o in client.iter_orders(integration=[integration], status=status, page_size=20)
        ]
    assert sorted(seen) == sorted(i["order_id"] for i in items)
    assert server.violations() == []


def test_sync_client_recovers_from_scripted_conflicts(server: Checked) -> None:
    server.script(match={"method": "POST", "path": "/api/v3/orders"}, answer="conflict", count=2)
    calls: list[str] = []
    http = counting_client(calls)
    with OrdersClient(server.api, username=USER, password=PASSWORD, http_client=http) as client:
        result = client.upsert_orders(batch(2)).data
    assert len(result) == 2 and len(calls) == 3  # two conflicts, then accepted
    with OrdersClient(
        server.api, username=USER, password=PASSWORD, retry=RetryPolicy(max_attempts=2)
    ) as client:
        server.script(answer="conflict", count=5)
        with pytest.raises(ApiError) as still:
            client.upsert_orders(batch(1))
    assert still.value.is_conflict  # bounded: gives up after max_attempts with the typed error
    assert server.violations() == []


def test_sync_client_retries_a_scripted_server_error(server: Checked) -> None:
    server.script(match={"method": "GET"}, answer="server_error", count=1, status=503)
    with OrdersClient(server.api, username=USER, password=PASSWORD) as client:
        assert client.list_orders(page_size=1).data is not None
    assert server.violations() == []


def test_sync_client_waits_long_enough_after_a_conflict(server: Checked) -> None:
    server.script(answer="conflict", count=1)
    with OrdersClient(server.api, username=USER, password=PASSWORD) as client:
        client.upsert_orders(batch(1))
    assert server.violations() == []


async def test_async_round_trip(server: Checked) -> None:
    items = batch(120, INTEGRATIONS[1])
    async with AsyncOrdersClient(server.api, username=USER, password=PASSWORD) as client:
        results = await client.upsert_orders_chunked(items, chunk_size=50)
        assert [r.order_id for r in results] == [i["order_id"] for i in items]
        again = (await client.upsert_orders(items[:3])).data
        assert [r.id for r in again] == [r.id for r in results[:3]]
        target = results[0].id
        await client.update_order(target, {"order_number": "ASYNC-PATCHED"})
        assert (await client.get_order(target)).data.order_number == "ASYNC-PATCHED"
        await client.delete_order(target)
        with pytest.raises(ApiError) as gone:
            await client.get_order(target)
        assert gone.value.status_code == 404
        server.script(answer="conflict", count=1)
        assert len((await client.upsert_orders(batch(1))).data) == 1
    assert server.violations() == []


async def test_async_pagination_reaches_the_end(server: Checked) -> None:
    items = batch(45, INTEGRATIONS[1])
    status = f"async-{uuid.uuid4().hex[:6]}"
    for item in items:
        item["order_details"]["status"] = {"code": status}
    async with AsyncOrdersClient(server.api, username=USER, password=PASSWORD) as client:
        await client.upsert_orders(items)
        pages = client.iter_orders(integration=[INTEGRATIONS[1]], status=status, page_size=20)
        seen = [o.order_id async for o in pages]
    assert sorted(seen) == sorted(i["order_id"] for i in items)
    assert server.violations() == []
