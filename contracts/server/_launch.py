"""Running the server: in the foreground (``serve``), in a subprocess or in a thread (for tests)."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette

from contracts.contract import Contract, load_contract

from ._app import create_app
from ._protocol import http_protocol
from ._settings import DEFAULT_DB_PATH, ServerSettings
from ._shape import shape_of
from ._storage import Store

__all__ = [
    "SETTINGS_ENV",
    "RunningServer",
    "app_from_env",
    "prepare_database",
    "running_server",
    "running_server_in_thread",
    "serve",
    "uvicorn_options",
]

SETTINGS_ENV = "ORDERS_CONTRACT_SERVER_SETTINGS"
_REPO = Path(__file__).resolve().parents[2]
# So the subprocess finds this checkout (and its generated package) even without `pip install -e .`.
_SOURCE_PATHS = [str(_REPO), str(_REPO / "generated")]


@dataclass(frozen=True)
class RunningServer:
    """A started server: where it listens and how to log in (first account = demo, second = other)."""

    base_url: str
    settings: ServerSettings
    db_path: str
    pid: int | None = None  # the server process (subprocess launcher only)

    @property
    def contract(self) -> Contract:
        return load_contract(self.settings.spec_path)

    @property
    def api_url(self) -> str:
        """The base URL the spec's paths are relative to (the server URL plus the spec's base path)."""
        return self.base_url + self.contract.base_path

    @property
    def username(self) -> str:
        return self.settings.accounts[0].username

    @property
    def password(self) -> str:
        return self.settings.accounts[0].password

    @property
    def auth(self) -> tuple[str, str]:
        return self.username, self.password

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate the first account the way the contract's scheme says."""
        return self.headers_for(0) or {}

    @property
    def other_headers(self) -> dict[str, str] | None:
        return self.headers_for(1)

    def headers_for(self, position: int) -> dict[str, str] | None:
        if position >= len(self.settings.accounts):
            return None
        account = self.settings.accounts[position]
        auth = self.contract.auth
        secret = (account.username, account.password) if auth.kind == "basic" else (account.token,)
        name, value = auth.credentials_header(*secret)
        return {name: value}

    @property
    def owned(self) -> tuple[Any, ...]:
        """The values the first account owns (the contract's ownership member)."""
        return self.settings.accounts[0].owns

    @property
    def other_owned(self) -> tuple[Any, ...]:
        return self.settings.accounts[1].owns if len(self.settings.accounts) > 1 else ()

    @property
    def integrations(self) -> tuple[Any, ...]:  # older name of `owned`
        return self.owned

    @property
    def partner_ids(self) -> tuple[str, ...]:  # older name of the first account's tenants
        return self.settings.accounts[0].tenants

    @property
    def other_auth(self) -> tuple[str, str] | None:
        if len(self.settings.accounts) < 2:
            return None
        other = self.settings.accounts[1]
        return other.username, other.password

    @property
    def other_integrations(self) -> tuple[Any, ...]:  # older name of `other_owned`
        return self.other_owned


def app_from_env() -> Starlette:
    """uvicorn factory for worker processes: the settings travel in an environment variable."""
    return _settled(create_app(ServerSettings.from_json_dict(orjson.loads(os.environ[SETTINGS_ENV]))))


def _settled(app: Starlette) -> Starlette:
    """In a process that only serves: the objects alive once the app is built (modules, validators, the
    spec) leave the garbage collector's view.  A full collection otherwise walks them all, 12-35 ms
    with every request of that moment waiting (seen as the p99 under load); requests' own objects are
    still collected as before."""
    gc.collect()
    gc.freeze()
    return app


def prepare_database(settings: ServerSettings) -> None:
    """Create the data folder and schema once, before any worker starts."""
    if settings.db_path == ":memory:":
        return
    folder = Path(settings.db_path).parent
    fresh = not folder.exists()
    contract = load_contract(settings.spec_path)
    store = Store(settings.db_path, shape_of(contract), background_checkpoint=False)
    try:
        operation = contract.processing.operation
        if operation is not None:  # before any worker starts: what a dead server was running is queued again
            from ._operations import statuses_of

            queued, running = statuses_of(contract)[:2]
            store.reset_unfinished(running, queued)
    finally:
        store.close()
    if fresh and settings.db_path == DEFAULT_DB_PATH:
        (folder / ".gitignore").write_text("*\n", encoding="utf-8")


def uvicorn_options(settings: ServerSettings) -> dict[str, Any]:
    """``uvicorn.run`` options shared by ``serve`` and ``serve --check-clients``."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": 5,
        "access_log": False,
        "http": http_protocol(settings),  # connection-level HTTP (lingering close, JSON 400s): _protocol.py
    }


def serve(settings: ServerSettings) -> None:
    """Run uvicorn in the foreground until SIGINT / SIGTERM (graceful shutdown)."""
    prepare_database(settings)
    common = uvicorn_options(settings)
    if settings.workers == 1:
        uvicorn.run(_settled(create_app(settings)), **common)
        return
    os.environ[SETTINGS_ENV] = orjson.dumps(settings.to_json_dict()).decode()
    uvicorn.run("contracts.server._launch:app_from_env", factory=True, workers=settings.workers, **common)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _settings_from(
    settings_or_kwargs: ServerSettings | Mapping[str, Any] | None, **kwargs: Any
) -> ServerSettings:
    if isinstance(settings_or_kwargs, ServerSettings):
        settings = settings_or_kwargs.replace(**kwargs) if kwargs else settings_or_kwargs
    else:
        values = dict(settings_or_kwargs or {}, **kwargs)
        if "faults" in values:
            values["faults"] = frozenset(values["faults"])
        settings = ServerSettings(**values)
    return settings


def _wait_healthy(url: str, deadline: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before becoming healthy")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url + "/health", timeout=2.0) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.02)
    raise TimeoutError(f"server at {url} did not answer /health in time")


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM (uvicorn shuts down gracefully, workers included); after `timeout`, SIGKILL the whole
    process group the launcher created, so no worker is left behind."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)


@contextlib.contextmanager
def running_server(
    settings_or_kwargs: ServerSettings | Mapping[str, Any] | None = None,
    *,
    workers: int | None = None,
    startup_timeout: float = 20.0,
    **kwargs: Any,
) -> Iterator[RunningServer]:
    """Start the server in a subprocess on a free 127.0.0.1 port with a fresh SQLite file; stop it on exit.

    ``running_server(faults={"no_upsert"})`` or ``running_server(ServerSettings(...), workers=2)``;
    ``workers`` defaults to the settings' value (1).
    """
    settings = _settings_from(settings_or_kwargs, **kwargs)
    tmp = tempfile.mkdtemp(prefix="orders-contract-server-")
    try:
        db_path = settings.db_path
        if db_path == DEFAULT_DB_PATH:
            db_path = str(Path(tmp) / "reference.sqlite3")
        last_error: Exception | None = None
        for _attempt in range(3):
            settings = settings.replace(
                host="127.0.0.1", port=_free_port(), workers=workers or settings.workers, db_path=db_path
            )
            env = dict(os.environ, **{SETTINGS_ENV: orjson.dumps(settings.to_json_dict()).decode()})
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [*_SOURCE_PATHS, env.get("PYTHONPATH", "")]))
            log_path = Path(tmp) / "server.log"
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "contracts.server"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: see _stop
                )
            base_url = f"http://127.0.0.1:{settings.port}"
            try:
                _wait_healthy(base_url, time.monotonic() + startup_timeout, proc)
            except (RuntimeError, TimeoutError) as exc:
                _stop(proc)
                last_error = exc
                continue
            except BaseException:  # Ctrl-C while waiting: the server has its own session, so stop it here
                _stop(proc)
                raise
            try:
                yield RunningServer(base_url, settings, db_path, proc.pid)
            finally:
                _stop(proc)
            return
        tail = (Path(tmp) / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"reference server did not start: {last_error}\n{tail}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def running_server_in_thread(
    settings_or_kwargs: ServerSettings | Mapping[str, Any] | None = None, **kwargs: Any
) -> Iterator[RunningServer]:
    """The same, but uvicorn runs in a thread of this process (quicker start; one worker only)."""
    settings = _settings_from(settings_or_kwargs, **kwargs)
    tmp = tempfile.mkdtemp(prefix="orders-contract-server-")
    try:
        if settings.db_path == DEFAULT_DB_PATH:
            settings = settings.replace(db_path=str(Path(tmp) / "reference.sqlite3"))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        settings = settings.replace(host="127.0.0.1", port=port)
        config = uvicorn.Config(create_app(settings), log_level=settings.log_level, access_log=False,
                                timeout_graceful_shutdown=5, http=http_protocol(settings))  # fmt: skip
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            _wait_healthy(f"http://127.0.0.1:{port}", time.monotonic() + 20.0)
            yield RunningServer(f"http://127.0.0.1:{port}", settings, settings.db_path)
        finally:
            server.should_exit = True
            thread.join(15)
            sock.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
