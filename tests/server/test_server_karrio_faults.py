"""Every fault that applies to the Karrio dialect changes observable behaviour (a probe on a healthy and on a
faulty server), and a fault that does not apply is refused with a clear message."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from contracts.contract import load_contract
from contracts.server import (
    FaultNotApplicableError,
    RunningServer,
    ServerSettings,
    create_app,
    faults_for,
    running_server_in_thread,
)

SPEC = "karrio-batch-orders.yaml"
KARRIO_FAULTS = sorted(faults_for(load_contract(SPEC)))
Probe = Callable[[RunningServer], Any]


def _order(order_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "order_id": order_id or f"F-{uuid.uuid4().hex[:10]}",
        "shipping_to": {"city": "Oss", "country_code": "NL"},
        "line_items": [{"weight": 1, "weight_unit": "KG"}],
    }
    document.update(overrides)
    return document


def _c(s: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=s.api_url, headers=s.headers, timeout=30)


def _post(s: RunningServer, body: Any) -> httpx.Response:
    with _c(s) as c:
        return c.post("/v1/batches/orders", json=body)


def _finish(s: RunningServer, orders: list[dict[str, Any]], seconds: float = 3) -> dict[str, Any]:
    accepted = _post(s, {"orders": orders})
    assert accepted.status_code == 201, accepted.text
    deadline = time.monotonic() + seconds
    with _c(s) as c:
        while True:
            body: dict[str, Any] = c.get(f"/v1/batches/operations/{accepted.json()['id']}").json()
            if body["status"] not in ("queued", "running") or time.monotonic() > deadline:
                return body
            time.sleep(0.05)


def _count(s: RunningServer, order_id: str) -> int:
    with _c(s) as c:
        return int(c.get("/v1/orders", params={"order_id": order_id}).json()["count"])


def _read_codes(s: RunningServer, operation: dict[str, Any]) -> list[int]:
    with _c(s) as c:
        return [c.get(f"/v1/orders/{r['id']}").status_code for r in operation["resources"]]


def never_completes(s: RunningServer) -> str:
    return str(_finish(s, [_order()], seconds=1.5)["status"])


def loses_orders(s: RunningServer) -> list[int]:
    return _read_codes(s, _finish(s, [_order(), _order()]))


def updates_instead_of_reusing(s: RunningServer) -> str:
    first = _order()
    pk = _finish(s, [first])["resources"][0]["id"]
    _finish(s, [dict(first, shipping_to={"city": "Berlin", "country_code": "DE"})])
    with _c(s) as c:
        return str(c.get(f"/v1/orders/{pk}").json()["shipping_to"]["city"])


def key_ignores_source(s: RunningServer) -> bool:
    first = _order()
    done = _finish(s, [first, dict(first, source="POS")])
    return bool(done["resources"][0]["id"] == done["resources"][1]["id"])


def partial_commit(s: RunningServer) -> int:
    good, bad = _order(), _order()
    del bad["line_items"]
    assert _post(s, {"orders": [good, bad]}).status_code == 400
    time.sleep(0.2)
    return _count(s, good["order_id"])


def error_index_off_by_one(s: RunningServer) -> tuple[int, str]:
    bad = _order()
    del bad["line_items"]
    error = _post(s, {"orders": [_order(), bad]}).json()["errors"][0]
    return error["index"], error["message"]


def status_outside_enum(s: RunningServer) -> str:
    return str(_finish(s, [_order()])["status"])


def large_body_5xx(s: RunningServer) -> tuple[int, str]:
    orders = [_order(metadata={"note": "x" * 2000}) for _ in range(50)]
    response = _post(s, {"orders": orders})
    return response.status_code, response.headers["content-type"].split(";")[0]


def resources_name_nothing(s: RunningServer) -> list[int]:
    return _read_codes(s, _finish(s, [_order()]))


def duplicates_under_concurrency(s: RunningServer) -> int:
    same = _order()
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: _finish(s, [same], seconds=5), range(4)))
    assert all(d["status"] == "completed" for d in done)
    return _count(s, same["order_id"])


def empty_batch_accepted(s: RunningServer) -> int:
    return _post(s, {"orders": []}).status_code


def errors_without_array(s: RunningServer) -> list[str]:
    return sorted(_post(s, {"orders": []}).json())


def no_auth(s: RunningServer) -> int:
    return httpx.get(s.api_url + "/v1/orders", timeout=10).status_code


def list_ignores_filters(s: RunningServer) -> int:
    _finish(s, [_order()])
    return _count(s, "no-such-order")


def _walk(s: RunningServer) -> list[str]:
    orders = [_order() for _ in range(5)]
    _finish(s, orders)
    seen: list[str] = []
    with _c(s) as c:
        ids = ",".join(o["order_id"] for o in orders)
        page = c.get("/v1/orders", params={"order_id": ids, "limit": 2}).json()
        for _ in range(10):
            seen += [o["order_id"] for o in page["results"]]
            if not page["next"]:
                break
            page = c.get(page["next"]).json()
    return sorted(seen)


PROBES: dict[str, Probe] = {
    "never_completes": never_completes,
    "loses_orders": loses_orders,
    "updates_instead_of_reusing": updates_instead_of_reusing,
    "key_ignores_source": key_ignores_source,
    "partial_commit": partial_commit,
    "error_index_off_by_one": error_index_off_by_one,
    "status_outside_enum": status_outside_enum,
    "large_body_5xx": large_body_5xx,
    "resources_name_nothing": resources_name_nothing,
    "duplicates_under_concurrency": duplicates_under_concurrency,
    "empty_batch_accepted": empty_batch_accepted,
    "errors_without_array": errors_without_array,
    "no_auth": no_auth,
    "list_ignores_filters": list_ignores_filters,
    "pagination_repeats": _walk,
    "pagination_skips": _walk,
}


@pytest.fixture(scope="module")
def healthy() -> Iterator[RunningServer]:
    with running_server_in_thread(spec_path=SPEC) as started:
        yield started


def test_every_fault_of_the_dialect_has_a_probe() -> None:
    assert set(PROBES) == set(KARRIO_FAULTS)
    assert len(KARRIO_FAULTS) >= 10


@pytest.mark.parametrize("fault", KARRIO_FAULTS)
def test_fault_changes_behaviour(fault: str, healthy: RunningServer) -> None:
    probe = PROBES[fault]
    expected = probe(healthy)
    with running_server_in_thread(spec_path=SPEC, faults=frozenset({fault})) as broken:
        observed = probe(broken)
    assert observed != expected, f"{fault}: {observed!r} (same as the healthy server)"


@pytest.mark.parametrize("fault", ["results_reversed", "no_batch_limit", "foreign_owned_accepted"])
def test_a_fault_of_another_dialect_is_refused(fault: str, tmp_path: Any) -> None:
    settings = ServerSettings(db_path=str(tmp_path / "k.sqlite3"), spec_path=SPEC, faults=frozenset({fault}))
    with pytest.raises(FaultNotApplicableError, match=f"fault '{fault}' does not apply to dialect"):
        create_app(settings)


def test_cli_refuses_a_fault_of_another_dialect() -> None:
    import typer
    from typer.testing import CliRunner

    from contracts.server.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["serve", "--spec", SPEC, "--fault", "status_200"])
    assert result.exit_code == 2
    assert "error: fault 'status_200' does not apply to dialect 'karrio-batch-orders'" in result.output
    listed = CliRunner().invoke(app, ["serve", "--spec", SPEC, "--list-faults"])
    assert listed.exit_code == 0 and "loses_orders" in listed.output and "status_200" not in listed.output
