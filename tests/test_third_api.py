"""Acceptance of issue 8: an API of the family that no code was written for, end to end from its spec alone.

``tests/fixtures/specs/third_api/depot-stock-items.yaml`` was written only from docs/x-contract.md: a
warehouse's stock items, the list wrapped under ``stock_items``, a three-member key with a default
(``warehouse_code``, ``sku``, ``lot`` = ``NONE``), bearer auth with an optional tenant header, synchronous
results under ``results``, errors that name the failing item by an ``index`` member, ``Link`` pagination and a
string ownership member. Everything below goes through the ``orders-contract`` command line and the generated
package, as a team with that API would: ``lint``, ``generate`` + import, the generated client against
``serve --spec`` (uvicorn on 127.0.0.1, a SQLite file), ``run --spec`` against that server and
``conformance --spec``. No Python of the project names this API.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

SPEC = Path(__file__).resolve().parent / "fixtures" / "specs" / "third_api" / "depot-stock-items.yaml"
CLI = str(Path(sys.executable).with_name("orders-contract"))
PACKAGE = "depot_stock"
BASE_PATH = "/depot/v2"
TOKEN, OTHER_TOKEN = "depot-token-7f3a", "other-token-19c2"
OWNED, FOREIGN = ("AMS1", "RTM2"), "LHR3"
TENANT = "6a0f4a52-3f7e-4c55-9d8e-0b5f2a7c1e11"
ACCOUNTS = f"""
[[accounts]]
username = "depot"
api_key = "{TOKEN}"
owns = ["{OWNED[0]}", "{OWNED[1]}"]
tenants = ["{TENANT}"]

[[accounts]]
username = "other"
api_key = "{OTHER_TOKEN}"
owns = ["{FOREIGN}"]
"""
START_SECONDS = 30
SUITE_SECONDS = 900


def _cli(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *(str(a) for a in args)], capture_output=True, text=True, timeout=timeout, check=False
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, f"{' '.join(map(str, done.args))} → exit {done.returncode}\n{output[-6000:]}"
    assert "Traceback" not in output, output[-6000:]
    return output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    """``orders-contract generate --spec`` into a temporary folder, imported from there."""
    out = tmp_path_factory.mktemp("third_api_generated")
    _ok(_cli("generate", "--spec", SPEC, "--out", out))
    assert (out / PACKAGE / "__init__.py").exists(), sorted(p.name for p in out.iterdir())
    sys.path.insert(0, str(out))
    try:
        module = importlib.import_module(PACKAGE)
        assert Path(str(module.__file__)).is_relative_to(out)
        yield module
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def server(generated: types.ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``orders-contract serve --spec`` under uvicorn on a free 127.0.0.1 port; its base URL.

    The generated package is importable by the server (as after ``generate`` into a folder on the path), so
    it validates items with the package's pydantic models, as docs/x-contract.md promises.
    """
    folder = tmp_path_factory.mktemp("third_api_server")
    config = folder / "accounts.toml"
    config.write_text(ACCOUNTS, encoding="utf-8")
    port = _free_port()
    command = [CLI, "serve", "--spec", str(SPEC), "--port", str(port), "--db", str(folder / "depot.sqlite3")]
    packages = str(Path(str(generated.__file__)).parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [packages, os.environ.get("PYTHONPATH")])),
    }
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([*command, "--config", str(config)], stdout=log, stderr=log, env=env)
    base_url = f"http://127.0.0.1:{port}{BASE_PATH}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve --spec exited {process.returncode}: {log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/stock-items", timeout=1).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve --spec did not answer within {START_SECONDS} s"
            time.sleep(0.2)
        said = log_path.read_text()
        assert "not importable" not in said and "Traceback" not in said, said
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _item(sku: str, quantity: int = 5, **extra: Any) -> dict[str, Any]:
    return {"warehouse_code": OWNED[0], "sku": sku, "quantity": quantity, **extra}


def _refused(answer: httpx.Response, code: str) -> dict[str, Any]:
    """The one documented error of a refused batch: status 400, the code, an ErrorList envelope."""
    assert answer.status_code == 400, answer.text
    errors = answer.json()["errors"]
    matching = [e for e in errors if e["code"] == code]
    assert matching, errors
    first: dict[str, Any] = matching[0]
    return first


def test_lint_accepts_the_spec() -> None:
    _ok(_cli("lint", SPEC))


def test_generated_client_round_trip_against_the_served_spec(
    generated: types.ModuleType, server: str
) -> None:
    sku = f"BOLT-{uuid.uuid4().hex[:8]}"
    with generated.DepotStockClient(server, token=TOKEN) as client:
        stored = client.upsert_stock_items({"stock_items": [_item(sku), _item(sku, 7, lot="L1")]}).results
        assert [r.sku for r in stored] == [sku, sku] and [r.lot for r in stored] == ["NONE", "L1"]
        assert stored[0].id != stored[1].id
        # A stored key is updated in place (existing: update): same id, new content. Absent lot == "NONE".
        again = client.upsert_stock_items({"stock_items": [_item(sku, 40, lot="NONE")]}).results
        assert again[0].id == stored[0].id and again[0].quantity == 40
        deadline = time.monotonic() + 10
        while client.get_stock_item(stored[0].id).quantity != 40:
            assert time.monotonic() < deadline, "the update was not readable within the documented delay"
            time.sleep(0.2)
        listed = client.list_stock_items(sku=sku, warehouse=OWNED[0]).root
        assert sorted(i.id for i in listed) == sorted(r.id for r in stored)
        # The batch helper validates and chunks to max_items (50) before anything is sent.
        many = client.upsert_stock_items_chunked([_item(f"{sku}-{n}") for n in range(60)])
        assert len(many) == 60 and len({i.id for i in many}) == 60
        # 51 items are refused before sending: by the spec's maxItems (model validation) or max_items.
        with pytest.raises((generated.BatchSizeError, generated.RequestValidationError)):
            client.upsert_stock_items({"stock_items": [_item(f"{sku}-x{n}") for n in range(51)]})
        # A refusal only the server can make comes back located: the item's index, the documented code.
        with pytest.raises(generated.ApiError) as refused:
            client.upsert_stock_items(
                {"stock_items": [_item(sku), {**_item(sku), "warehouse_code": FOREIGN}]}
            )
        assert [(e.code, e.batch_index) for e in refused.value.errors] == [("unknown_warehouse", 1)]
        client.delete_stock_item(stored[1].id)
        with pytest.raises(generated.ApiError) as missing:
            client.get_stock_item(stored[1].id)
        assert missing.value.status_code == 404


def test_the_served_spec_keeps_the_documented_promises(server: str) -> None:
    """Raw HTTP, so the server's answers are seen as they are (the generated client would refuse early)."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{server}/stock-items/batch"
    sku = f"PAINT-{uuid.uuid4().hex[:8]}"
    with httpx.Client(headers=auth, timeout=30) as http:
        assert httpx.post(url, json={"stock_items": [_item(sku)]}, timeout=30).status_code == 401
        too_many = _refused(
            http.post(url, json={"stock_items": [_item(f"{sku}{n}") for n in range(51)]}), "batch_too_large"
        )
        assert too_many["message"] == "stock_items must hold at most 50 items, not 51"
        # The lot defaults to NONE, so these two items have one key: refused at the later index.
        duplicate = _refused(
            http.post(url, json={"stock_items": [_item(sku), _item(sku, lot="NONE")]}), "duplicate_item"
        )
        assert duplicate["index"] == 1
        assert duplicate["message"] == f"Item 1 repeats warehouse {OWNED[0]}, sku {sku}, lot NONE of item 0"
        # Atomic: one invalid item (index 1) rejects the batch, and item 0 is not stored either.
        invalid = http.post(url, json={"stock_items": [_item(sku), _item(f"{sku}-2", quantity=-1)]})
        assert invalid.status_code == 400 and [e.get("index") for e in invalid.json()["errors"]] == [1]
        assert http.get(f"{server}/stock-items", params={"sku": sku}).json() == []
        foreign = _refused(
            http.post(url, json={"stock_items": [{**_item(sku), "warehouse_code": FOREIGN}]}),
            "unknown_warehouse",
        )
        assert (
            foreign["index"] == 0
            and foreign["message"] == f"Warehouse {FOREIGN} is not one of your warehouses"
        )
        tenant = _refused(
            http.post(url, json={"stock_items": [_item(sku)]}, headers={"X-Depot-Tenant": "nope"}),
            "invalid_header",
        )
        assert tenant["message"] == "X-Depot-Tenant must be a UUID, not nope"
        assert (
            http.post(url, json={"stock_items": [_item(sku)]}, headers={"X-Depot-Tenant": TENANT}).status_code
            == 200
        )


def test_results_are_the_stored_items_and_reads_answer_documented_statuses(server: str) -> None:
    """A synchronous result is the stored item as the result schema describes it (timestamps included, the
    stored creation time kept by an update); a bad id and a refused tenant header on a read answer the
    read's documented 404, since it documents no 400."""
    url = f"{server}/stock-items/batch"
    sku = f"NUT-{uuid.uuid4().hex[:8]}"
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
        first = http.post(url, json={"stock_items": [_item(sku)]})
        assert first.status_code == 200, first.text
        (created,) = first.json()["results"]
        assert created["lot"] == "NONE" and created["unit"] == "each"
        assert created["created_at"] == created["updated_at"]
        (updated,) = http.post(url, json={"stock_items": [_item(sku, 9)]}).json()["results"]
        assert updated["id"] == created["id"] and updated["created_at"] == created["created_at"]
        assert updated["updated_at"] > created["updated_at"]
        read = http.get(f"{server}/stock-items/{created['id']}")
        assert read.status_code == 200 and read.json() == updated
        for bad in ("-1", "abc", "0"):
            missing = http.get(f"{server}/stock-items/{bad}")
            assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "not_found"
        refused = http.get(f"{server}/stock-items/{created['id']}", headers={"X-Depot-Tenant": "nope"})
        assert refused.status_code == 404, refused.text
        assert refused.json()["errors"][0]["code"] == "not_found"


def test_run_passes_against_the_served_spec(server: str) -> None:
    """The suite against a running server, as a team runs it against its own: the bearer token, the
    warehouses the account owns and one it does not (so ownership is checked too)."""
    owned = [a for value in OWNED for a in ("--owned", value)]
    target: list[str | Path] = [
        "--spec",
        SPEC,
        "--base-url",
        server,
        "--token",
        TOKEN,
        *owned,
        "--foreign",
        FOREIGN,
    ]
    _ok(_cli("run", *target, "--profile", "ci", "--seed", "1", timeout=SUITE_SECONDS))


def test_conformance_passes_against_the_embedded_server() -> None:
    _ok(_cli("conformance", "--spec", SPEC, "--profile", "ci", "--seed", "1", timeout=SUITE_SECONDS))
