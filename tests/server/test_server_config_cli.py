"""Configuration (TOML accounts), the `serve` command's error messages, graceful shutdown, the catch-all."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from srv_helpers import assert_error_shape, client, db_rows, make_order
from typer.testing import CliRunner

from contracts.server import ConfigError, ServerSettings, create_app, load_config, running_server

CONFIG = """
[[accounts]]
username = "shop-a"
password = "secret-a"
integrations = [101, 102]
partner_ids = ["7bdd5bfd-76bc-4654-9d40-5d5d49f1cd6c"]

[[accounts]]
username = "shop-b"
password = "secret-b"
integrations = [201]

[server]
batch_latency = 0.0
"""


def test_accounts_from_toml_are_used_and_isolated(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text(CONFIG)
    settings = ServerSettings(**load_config(path))
    assert [a.username for a in settings.accounts] == ["shop-a", "shop-b"]
    with running_server(settings) as server, client(server) as c:
        assert server.auth == ("shop-a", "secret-a")
        created = c.post(
            "/orders",
            json=[make_order(integration=101)],
            headers={"Sendcloud-Partner-Id": server.partner_ids[0]},
        )
        assert created.status_code == 201, created.text
        assert_error_shape(
            c.post("/orders", json=[make_order(integration=7)]), 400
        )  # demo integration: not configured
        assert httpx.get(server.api_url + "/orders", auth=("demo", "demo-secret")).status_code == 401
        with client(server, auth=("shop-b", "secret-b")) as b:
            assert b.get("/orders").json()["data"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[accounts]]\nusername = 'a'\npassword = 'b'\nintegrations = ['x']\n", "positive integers"),
        (
            "[[accounts]]\nusername = 'a'\npassword = 'b'\nintegrations = [1]\npartner_ids = ['nope']\n",
            "not a UUID",
        ),
        ("[[accounts]]\nusername = 'a'\npassword = 'b'\nintegrations = [1]\ncolour = 1\n", "unknown keys"),
        ("[server]\nspeed = 3\n", "unknown [server] key"),
        ("[server]\nfaults = ['bogus']\n", "unknown fault"),
        ("accounts = 3\n", "array of tables"),
        ("[[accounts]\n", "not valid TOML"),
    ],
)
def test_bad_config_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        ServerSettings(**load_config(path))


def test_settings_checks() -> None:
    with pytest.raises(ConfigError, match="twice"):
        ServerSettings(accounts=(*ServerSettings().accounts, ServerSettings().accounts[0]))
    with pytest.raises(ConfigError, match=":memory:"):
        ServerSettings(db_path=":memory:", workers=2)
    with pytest.raises(ConfigError, match="batch-latency"):
        ServerSettings(batch_latency=-1)
    with pytest.raises(ConfigError, match="unknown fault 'typo'"):
        ServerSettings(faults=frozenset({"no_upsert", "typo"}))


def test_serve_command_refuses_unknown_fault_and_bad_config(tmp_path: Path) -> None:
    import typer

    from contracts.server.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # keep `serve` a subcommand
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--fault", "no_upsert", "--fault", "nonsense"])
    assert result.exit_code == 2
    assert "unknown fault 'nonsense'" in result.output and "no_upsert" in result.output
    result = runner.invoke(app, ["serve", "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["serve", "--list-faults"])
    assert result.exit_code == 0 and "pagination_skips" in result.output
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("hello, this is no SQLite file\n" * 100)
    for db in (str(not_a_database), str(not_a_database / "sub" / "x.sqlite3")):
        result = runner.invoke(app, ["serve", "--db", db, "--port", "1"])
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines()[-1].startswith(f"error: cannot open the database {db}:")


def test_sigterm_finishes_the_running_batch(tmp_path: Path) -> None:
    with running_server(batch_latency=0.8) as server:
        order = make_order()
        answer: dict[str, httpx.Response] = {}

        def post() -> None:
            with client(server) as c:
                answer["r"] = c.post("/orders", json=[order])

        thread = threading.Thread(target=post)
        thread.start()
        time.sleep(0.3)  # the batch now holds its claims and sleeps
        assert server.pid is not None
        subprocess.run(["kill", "-TERM", str(server.pid)], check=True)
        thread.join(15)
        assert answer["r"].status_code == 201, answer["r"].text
        assert db_rows(server, "SELECT json_extract(body, '$.order_id') FROM items") == [(order["order_id"],)]
        assert db_rows(server, "SELECT COUNT(*) FROM processing_claims") == [(0,)]


def test_unexpected_exception_becomes_a_json_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process ASGI on purpose: a server bug cannot be provoked from outside."""
    from contracts.server import _app

    def boom(*args: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(_app, "list_items", boom)
    app = create_app(ServerSettings(db_path=str(tmp_path / "x.sqlite3")))
    transport = httpx.ASGITransport(app=app)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/api/v3/orders", auth=("demo", "demo-secret"))

    import asyncio

    response = asyncio.run(call())
    errors = assert_error_shape(response, 500)
    assert "simulated bug" not in errors[0]["detail"]


def test_a_locked_database_answers_the_retryable_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process ASGI on purpose: a write lock held past busy_timeout is hard to stage from outside."""
    import asyncio
    import sqlite3

    from contracts.server import _app

    async def locked(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(_app, "upsert_batch", locked)
    app = create_app(ServerSettings(db_path=str(tmp_path / "x.sqlite3")))

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            return await c.post("/api/v3/orders", json=[make_order()], auth=("demo", "demo-secret"))

    errors = assert_error_shape(asyncio.run(call()), 400)
    assert errors[0]["source"] == {"pointer": "/data"} and "still processing" in errors[0]["detail"]


def test_public_api() -> None:
    import contracts.server as server

    assert sorted(server.__all__) == sorted(set(server.__all__))
    for name in server.__all__:
        assert getattr(server, name) is not None
    assert {"create_app", "ServerSettings", "Account", "FAULTS", "running_server"} <= set(server.__all__)


def test_in_memory_database_works_with_one_worker() -> None:
    from contracts.server import running_server_in_thread

    with running_server_in_thread(db_path=":memory:") as server, client(server) as c:
        pk = c.post("/orders", json=[make_order()]).json()["data"][0]["id"]
        assert c.get(f"/orders/{pk}").status_code == 200


def test_interrupt_during_startup_stops_the_server_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from contracts.server import _launch

    started: list[subprocess.Popen[bytes]] = []

    def interrupted(url: str, deadline: float, proc: subprocess.Popen[bytes] | None = None) -> None:
        assert proc is not None
        started.append(proc)
        raise KeyboardInterrupt

    monkeypatch.setattr(_launch, "_wait_healthy", interrupted)
    with pytest.raises(KeyboardInterrupt), running_server():
        pass  # pragma: no cover - never entered
    assert len(started) == 1
    assert started[0].poll() is not None  # its own session: nobody else would ever stop it
