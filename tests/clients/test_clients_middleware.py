"""ClientCheckMiddleware around the reference app, in process (httpx ASGITransport)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree import ElementTree as ET

import httpx
import pytest
from clients_support import BASE, basic, body, headers, order

from contracts.clients import CheckOptions, CheckStore, ClientChecker, ClientCheckMiddleware, Script
from contracts.server import ServerSettings, create_app


@pytest.fixture
def store(tmp_path: Path) -> CheckStore:
    return CheckStore(tmp_path / "checks.sqlite3")


@pytest.fixture
def middleware(tmp_path: Path, store: CheckStore) -> ClientCheckMiddleware:
    app = create_app(ServerSettings(db_path=str(tmp_path / "ref.sqlite3")))
    options = CheckOptions(report_dir=str(tmp_path / "reports"))
    return ClientCheckMiddleware(
        app, store=store, checker=ClientChecker(min_retry_delay=0.3), options=options
    )


@pytest.fixture
async def client(middleware: ClientCheckMiddleware) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield http


async def violations(client: httpx.AsyncClient) -> list[dict[str, object]]:
    response = await client.get("/_contract/violations")
    assert response.status_code == 200
    data: list[dict[str, object]] = response.json()["violations"]
    return data


async def test_conforming_traffic_passes_through_unchanged_and_is_not_flagged(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    created = await client.post(BASE + "/orders", content=body([order(0), order(1)]), headers=headers())
    assert created.status_code == 201
    ids = [item["id"] for item in created.json()["data"]]
    listed = await client.get(
        BASE + "/orders", params={"integration": "7"}, headers={"Authorization": basic()}
    )
    assert listed.status_code == 200
    # the same request straight to an unwrapped app over the same database answers the same
    plain = create_app(ServerSettings(db_path=str(tmp_path / "ref.sqlite3")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://x") as direct:
        again = await direct.get(
            BASE + "/orders", params={"integration": "7"}, headers={"Authorization": basic()}
        )
    assert again.json() == listed.json() and again.headers.get("link") == listed.headers.get("link")
    fetched = await client.get(f"{BASE}/orders/{ids[0]}", headers={"Authorization": basic()})
    assert fetched.status_code == 200
    report = (await client.get("/_contract/violations")).json()
    assert report["violations"] == [] and report["checked_requests"] == 3


async def test_violations_are_recorded_with_the_request_that_caused_them(client: httpx.AsyncClient) -> None:
    answer = await client.post(BASE + "/orders/5", headers={"Authorization": basic()})
    assert answer.status_code in (404, 405)  # the app still answers: the middleware only watches
    await client.get(BASE + "/orders", params=[("integration[0]", "7")], headers={"Authorization": basic()})
    found = await violations(client)
    assert [v["rule"] for v in found] == ["client.known_operation", "client.query_params"]
    request = found[0]["request"]
    assert isinstance(request, dict) and request["method"] == "POST" and request["path"] == BASE + "/orders/5"
    assert request["identity"] == "demo"
    cleared = await client.delete("/_contract/violations")
    assert cleared.json() == {"cleared": 2} and await violations(client) == []


async def test_scripted_conflict_answers_then_passes_and_backoff_is_checked(
    client: httpx.AsyncClient,
) -> None:
    script = {"match": {"method": "POST", "path": BASE + "/orders"}, "answer": "conflict", "count": 2}
    assert (await client.post("/_contract/script", json=script)).status_code == 201
    data = body([order(0)])
    first = await client.post(BASE + "/orders", content=data, headers=headers())
    assert first.status_code == 400
    error = first.json()["errors"][0]
    assert error["source"] == {"pointer": "/data"} and "still processing" in error["detail"]
    second = await client.post(BASE + "/orders", content=data, headers=headers())  # too soon
    assert second.status_code == 400
    assert [v["rule"] for v in await violations(client)] == ["client.conflict_backoff"]
    remaining = (await client.get("/_contract/script")).json()["scripts"]
    assert remaining == []
    time.sleep(0.35)
    third = await client.post(BASE + "/orders", content=data, headers=headers())
    assert third.status_code == 201
    assert len(await violations(client)) == 1  # the patient retry is not flagged


async def test_scripted_server_error_and_delay(client: httpx.AsyncClient) -> None:
    await client.post("/_contract/script", json={"answer": "server_error", "status": 503})
    failed = await client.get(BASE + "/orders", headers={"Authorization": basic()})
    assert failed.status_code == 503
    assert failed.json()["errors"][0]["status"] == "503"
    await client.post(
        "/_contract/script", json={"answer": "delay", "delay_s": 0.3, "match": {"method": "GET"}}
    )
    started = time.monotonic()
    slow = await client.get(BASE + "/orders", headers={"Authorization": basic()})
    assert slow.status_code == 200 and time.monotonic() - started >= 0.28
    fast = await client.get(BASE + "/orders", headers={"Authorization": basic()})
    assert fast.status_code == 200


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"answer": "teapot"}, "/answer"),
        ({"answer": "delay", "delay_s": 31}, "/delay_s"),
        ({"answer": "conflict", "count": 0}, "/count"),
        ({"answer": "server_error", "status": 404}, "/status"),
        ({"answer": "conflict", "match": {"path": "orders"}}, "/match/path"),
        ([], ""),
    ],
)
async def test_bad_scripts_are_refused_with_a_pointer(
    client: httpx.AsyncClient, payload: object, pointer: str
) -> None:
    answer = await client.post("/_contract/script", content=json.dumps(payload))
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["source"]["pointer"] == pointer
    assert (await client.get("/_contract/script")).json()["scripts"] == []


async def test_a_failing_check_store_does_not_break_the_traffic(
    middleware: ClientCheckMiddleware, store: CheckStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(store, "record", broken)
    monkeypatch.setattr(store, "take_script", broken)
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        created = await http.post(BASE + "/orders", content=body([order(0)]), headers=headers())
    assert created.status_code == 201 and created.json()["data"][0]["order_id"] == order(0)["order_id"]


def _conflict_detail() -> str:
    conflict = ClientChecker().spec.conflict
    assert conflict is not None
    return conflict.detail


async def test_a_conflict_from_the_app_itself_counts_for_backoff(store: CheckStore, tmp_path: Path) -> None:
    conflict_body = json.dumps(
        {"errors": [{"status": "400", "code": "invalid", "detail": _conflict_detail()}]}
    ).encode()

    async def busy_app(scope: dict[str, object], receive: object, send: object) -> None:
        assert callable(send)
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": conflict_body})

    wrapped = ClientCheckMiddleware(busy_app, store=store, checker=ClientChecker(min_retry_delay=5))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://x") as http:
        for _ in range(2):
            await http.post(BASE + "/orders", content=body([order(0)]), headers=headers())
    assert [v.rule for v in store.violations()] == ["client.conflict_backoff"]


async def test_reports_are_written_at_lifespan_shutdown(
    middleware: ClientCheckMiddleware, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=middleware), base_url="http://x") as http:
        await http.delete(BASE + "/orders/abc", headers={"Authorization": basic()})
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await middleware({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)  # type: ignore[arg-type]
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    report = json.loads((tmp_path / "reports" / "client-violations.json").read_text())
    assert report["by_rule"] == {"client.id_string": 1}
    suite = ET.parse(tmp_path / "reports" / "client-violations.junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    failing = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failing == ["client.id_string"]
    names = [c.get("name") for c in suite.iter("testcase")]
    assert (
        len(names) == 11 and "server.response_schema" not in names
    )  # the client rules, none of the server's
    skipped = {c.get("name") for c in suite.iter("testcase") if c.find("skipped") is not None}
    assert skipped == {"client.poll_interval", "client.resubmit_running"}  # not applicable: synchronous


def test_store_takes_each_scripted_answer_once(store: CheckStore) -> None:
    store.add_script(Script("conflict", count=2, method="POST", path=BASE + "/orders"))
    taken = [store.take_script("POST", BASE + "/orders") for _ in range(3)]
    assert [s.answer if s else None for s in taken] == ["conflict", "conflict", None]
    assert store.take_script("GET", BASE + "/orders") is None


def _take_many(path: str, attempts: int) -> int:
    store = CheckStore(path)
    return sum(1 for _ in range(attempts) if store.take_script("POST", BASE + "/orders") is not None)


def test_scripted_counts_are_shared_exactly_across_processes(tmp_path: Path) -> None:
    import multiprocessing

    path = str(tmp_path / "shared.sqlite3")
    CheckStore(path).add_script(Script("conflict", count=50, method="POST", path=BASE + "/orders"))
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        taken = pool.starmap(_take_many, [(path, 30)] * 4)
    assert sum(taken) == 50  # 120 attempts from 4 processes, exactly 50 answers handed out
    assert CheckStore(path).scripts() == []
