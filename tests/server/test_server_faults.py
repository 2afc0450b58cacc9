"""Every fault of the catalogue changes observable behaviour (probe on a healthy and on a faulty server)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from srv_helpers import client, make_order, unique

from contracts.contract import load_contract
from contracts.server import (
    FAULTS,
    RunningServer,
    UnknownFaultError,
    faults_for,
    parse_faults,
    running_server_in_thread,
)

SENDCLOUD_FAULTS = sorted(faults_for(load_contract("sendcloud-orders-v3.yaml")))

Probe = Callable[[RunningServer], Any]


def _post(server: RunningServer, batch: Any) -> httpx.Response:
    with client(server) as c:
        return c.post("/orders", json=batch)


def _lookup(server: RunningServer, order_id: str) -> int:
    with client(server) as c:
        return len(c.get("/orders", params={"order_id": order_id}).json()["data"])


def no_upsert(s: RunningServer) -> bool:
    order = make_order()
    return bool(_post(s, [order]).json()["data"][0]["id"] == _post(s, [order]).json()["data"][0]["id"])


def upsert_ignores_key_member(s: RunningServer) -> bool:
    order_id = unique()
    first = _post(s, [make_order(order_id, 7)]).json()["data"][0]["id"]
    return bool(first == _post(s, [make_order(order_id, 739283)]).json()["data"][0]["id"])


def no_batch_limit(s: RunningServer) -> int:
    return _post(s, [make_order() for _ in range(150)]).status_code


def limit_off_by_one(s: RunningServer) -> tuple[int, int]:
    return _post(s, [make_order() for _ in range(101)]).status_code, _post(
        s, [make_order() for _ in range(102)]
    ).status_code


def partial_commit(s: RunningServer) -> int:
    good, bad = make_order(), make_order()
    del bad["order_number"]
    assert _post(s, [good, bad]).status_code == 400
    return _lookup(s, good["order_id"])


def _bad_pointer(s: RunningServer) -> str:
    bad = make_order()
    del bad["order_details"]["status"]
    return str(_post(s, [make_order(), bad]).json()["errors"][0]["source"]["pointer"])


def results_reversed(s: RunningServer) -> list[str]:
    orders = [make_order(), make_order()]
    return [d["order_id"] for d in _post(s, orders).json()["data"]] == [o["order_id"] for o in orders]  # type: ignore[return-value]


def id_as_string(s: RunningServer) -> str:
    return type(_post(s, [make_order()]).json()["data"][0]["id"]).__name__


def integer_id_accepted(s: RunningServer) -> int:
    order = make_order()
    pk = _post(s, [order]).json()["data"][0]["id"]
    return _post(s, [dict(order, id=int(pk))]).status_code


def no_conflict_detection(s: RunningServer) -> int:
    batch = [make_order()]
    barrier = threading.Barrier(4, timeout=10)

    def send(_: int) -> int:
        with client(s) as c:
            barrier.wait()
            return c.post("/orders", json=batch).status_code

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(4), timeout=30))
    return _lookup(s, batch[0]["order_id"])


def no_auth(s: RunningServer) -> int:
    return httpx.get(s.api_url + "/orders").status_code


def foreign_owned_accepted(s: RunningServer) -> int:
    return _post(s, [make_order(integration=8)]).status_code


def order_id_change_allowed(s: RunningServer) -> tuple[int, str]:
    order = make_order()
    pk = _post(s, [order]).json()["data"][0]["id"]
    new_id = unique()
    status = _post(s, [dict(order, id=str(pk), order_id=new_id)]).status_code
    with client(s) as c:
        stored = c.get(f"/orders/{pk}").json()["data"]["order_id"]
    return status, "renamed" if stored == new_id else "kept"


def status_200(s: RunningServer) -> int:
    return _post(s, [make_order()]).status_code


def delete_noop(s: RunningServer) -> tuple[int, int]:
    pk = _post(s, [make_order()]).json()["data"][0]["id"]
    with client(s) as c:
        return c.delete(f"/orders/{pk}").status_code, c.get(f"/orders/{pk}").status_code


def patch_ignores_fields(s: RunningServer) -> str:
    pk = _post(s, [make_order()]).json()["data"][0]["id"]
    with client(s) as c:
        assert c.patch(f"/orders/{pk}", json={"order_number": "PATCHED"}).status_code == 200
        return str(c.get(f"/orders/{pk}").json()["data"]["order_number"])


def list_ignores_filters(s: RunningServer) -> int:
    orders = [make_order(), make_order()]
    _post(s, orders)
    return _lookup(s, orders[0]["order_id"])


def _walk(s: RunningServer) -> list[str]:
    prefix = unique("P")
    _post(s, [make_order(f"{prefix}-{i}", status=prefix) for i in range(9)])
    seen: list[str] = []
    with client(s) as c:
        response = c.get("/orders", params={"status": prefix, "page_size": 4})
        for _ in range(10):
            seen.extend(o["order_id"] for o in response.json()["data"])
            nxt = response.links.get("next")
            if not nxt:
                break
            response = c.get(nxt["url"])
    return sorted(seen)


def errors_without_array(s: RunningServer) -> list[str]:
    return sorted(_post(s, {"not": "a list"}).json())


def large_body_5xx(s: RunningServer) -> tuple[int, str]:
    batch = [make_order(notes="x" * 1000) for _ in range(80)]  # ~100 KB, within the batch limit
    response = _post(s, batch)
    return response.status_code, response.headers["content-type"].split(";")[0]


def empty_batch_accepted(s: RunningServer) -> int:
    return _post(s, []).status_code


PROBES: dict[str, Probe] = {
    "large_body_5xx": large_body_5xx,
    "empty_batch_accepted": empty_batch_accepted,
    "no_upsert": no_upsert,
    "upsert_ignores_key_member": upsert_ignores_key_member,
    "no_batch_limit": no_batch_limit,
    "limit_off_by_one": limit_off_by_one,
    "partial_commit": partial_commit,
    "pointer_index_off_by_one": _bad_pointer,
    "pointer_without_path": _bad_pointer,
    "results_reversed": results_reversed,
    "id_as_string": id_as_string,
    "integer_id_accepted": integer_id_accepted,
    "no_conflict_detection": no_conflict_detection,
    "no_auth": no_auth,
    "foreign_owned_accepted": foreign_owned_accepted,
    "order_id_change_allowed": order_id_change_allowed,
    "status_200": status_200,
    "delete_noop": delete_noop,
    "patch_ignores_fields": patch_ignores_fields,
    "list_ignores_filters": list_ignores_filters,
    "pagination_repeats": _walk,
    "pagination_skips": _walk,
    "errors_without_array": errors_without_array,
}


@pytest.fixture(scope="module")
def healthy() -> Iterator[RunningServer]:
    with running_server_in_thread() as started:
        yield started


def test_every_fault_of_the_dialect_has_a_probe() -> None:
    assert set(PROBES) == set(SENDCLOUD_FAULTS)
    assert set(SENDCLOUD_FAULTS) <= set(FAULTS)


@pytest.mark.parametrize("fault", SENDCLOUD_FAULTS)
def test_fault_changes_behaviour(fault: str, healthy: RunningServer) -> None:
    probe = PROBES[fault]
    expected = probe(healthy)
    with running_server_in_thread(faults=frozenset({fault})) as broken:
        observed = probe(broken)
    assert observed != expected, f"{fault}: {observed!r} (same as the healthy server)"


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(UnknownFaultError, match="no_such_fault"):
        parse_faults(["no_upsert", "no_such_fault"])
    assert parse_faults(["no_upsert,status_200"]) == {"no_upsert", "status_200"}
