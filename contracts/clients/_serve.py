"""Running with client checks: the reference server behind the middleware, or the proxy, under uvicorn."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from starlette.types import ASGIApp

from ._checker import DEFAULT_MIN_RETRY_DELAY, ClientChecker
from ._middleware import CheckOptions, ClientCheckMiddleware
from ._model import SERVER_RULES
from ._operations import DEFAULT_MIN_POLL_INTERVAL
from ._proxy import create_proxy_app
from ._report import Report, write_reports
from ._scripts import Script, ScriptError, parse_script_flag
from ._store import CheckStore

if TYPE_CHECKING:
    from contracts.server import ServerSettings

__all__ = [
    "CHECKS_ENV",
    "CheckConfig",
    "checked_app_from_env",
    "parse_scripts",
    "run_proxy",
    "serve_with_checks",
]

CHECKS_ENV = "ORDERS_CONTRACT_CLIENT_CHECKS"


@dataclass(frozen=True)
class CheckConfig:
    """Which spec the checks judge by, where they keep their state, and the timings the stateful rules
    expect (back-off after a conflict, minimum interval between polls of one operation)."""

    store_path: str
    min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY
    spec: str | None = None  # a spec file or a packaged spec's name; None: the default spec
    min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL

    def checker(self) -> ClientChecker:
        return ClientChecker(
            self.spec, min_retry_delay=self.min_retry_delay, min_poll_interval=self.min_poll_interval
        )

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str) -> CheckConfig:
        return cls(**json.loads(text))


def parse_scripts(flags: Sequence[str], checker: ClientChecker) -> list[Script]:
    """Read every `--script` flag (a conflict matches the spec's batch endpoint unless told otherwise); on
    a bad one print one line saying how to write it and exit 2."""
    spec = checker.spec
    batch = (spec.batch_operation.method, spec.batch_url_path)
    conflicts = checker.contract.conflict is not None
    try:
        return [parse_script_flag(flag, default_conflict=batch, conflicts=conflicts) for flag in flags]
    except ScriptError as exc:
        print(f"error: --script: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def fresh_store(config: CheckConfig, scripts: Sequence[Script]) -> CheckStore:
    """Open the store, forget the last session's violations and scripts, and seed the new scripts once."""
    store = CheckStore(config.store_path)
    store.clear()
    store.clear_scripts()
    for script in scripts:
        store.add_script(script)
    return store


def wrap(
    app: ASGIApp,
    config: CheckConfig,
    store: CheckStore | None = None,
    checker: ClientChecker | None = None,
) -> ClientCheckMiddleware:
    return ClientCheckMiddleware(
        app,
        store=store or CheckStore(config.store_path),
        checker=checker or config.checker(),
        options=CheckOptions(),
    )


def checked_app_from_env() -> ASGIApp:
    """uvicorn factory for worker processes: the reference app from its env settings, wrapped."""
    from contracts.server import app_from_env

    return wrap(app_from_env(), CheckConfig.from_env(os.environ[CHECKS_ENV]))


def _default_store_path(db_path: str) -> str:
    folder = Path(".orders-contract") if db_path == ":memory:" else Path(db_path).parent
    return str(folder / "client-checks.sqlite3")


@contextlib.contextmanager
def _signals_end_the_run() -> Iterator[None]:
    """uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown, which would kill the process before
    the reports are written; handle them here (the shutdown has already happened) and carry on."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: None)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _finish(
    store: CheckStore, report_dir: str | None, checker: ClientChecker, *, responses: bool = False
) -> None:
    rules = (*checker.rules, *SERVER_RULES) if responses else checker.rules
    violations, checked = store.violations(), store.checked_requests()
    report = Report(violations, checked, rules, checker.not_applicable, checker.spec_info)
    print(f"client checks: {len(report.violations)} violation(s) in {report.checked} checked request(s)")
    if report_dir:
        json_path, junit_path = write_reports(Path(report_dir), report)
        print(f"client checks: reports written to {json_path} and {junit_path}")


def serve_with_checks(
    settings: ServerSettings,
    *,
    scripts: Sequence[str] = (),
    report_dir: str | None = None,
    store_path: str | None = None,
    min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY,
    min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL,
) -> None:
    """`orders-contract serve --check-clients`: like `serve`, behind the client checks of the spec it
    serves; on shutdown the totals are printed and, with `report_dir`, the JSON and JUnit reports are
    written."""
    from contracts.server import SETTINGS_ENV, create_app, prepare_database, uvicorn_options

    store_file = store_path or _default_store_path(settings.db_path)
    config = CheckConfig(store_file, min_retry_delay, settings.spec_path, min_poll_interval)
    checker = config.checker()
    store = fresh_store(config, parse_scripts(scripts, checker))
    prepare_database(settings)
    common = uvicorn_options(settings)
    spec = f" --spec {settings.spec_path}" if settings.spec_path else ""
    print(
        f"client checks on: http://{settings.host}:{settings.port}/_contract/violations "
        f"(store {config.store_path}); report with `orders-contract clients report --server "
        f"http://{settings.host}:{settings.port}{spec}`"
    )
    sys.stdout.flush()
    try:
        with _signals_end_the_run():
            if settings.workers == 1:
                uvicorn.run(wrap(create_app(settings), config, store, checker), **common)
            else:
                import orjson

                os.environ[SETTINGS_ENV] = orjson.dumps(settings.to_json_dict()).decode()
                os.environ[CHECKS_ENV] = config.to_env()
                factory = "contracts.clients._serve:checked_app_from_env"
                uvicorn.run(factory, factory=True, workers=settings.workers, **common)
    finally:
        _finish(store, report_dir, checker)


def run_proxy(
    upstream: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8010,
    scripts: Sequence[str] = (),
    report_dir: str | None = None,
    store_path: str = str(Path(".orders-contract") / "proxy-checks.sqlite3"),
    min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY,
    log_level: str = "warning",
    spec: str | None = None,
    min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL,
) -> None:
    """`orders-contract proxy`: forward to ``upstream`` behind the checks of ``spec``; on shutdown the
    totals are printed and, with ``report_dir``, the reports are written."""
    config = CheckConfig(store_path, min_retry_delay, spec, min_poll_interval)
    checker = config.checker()
    store = fresh_store(config, parse_scripts(scripts, checker))
    app = create_proxy_app(upstream, store=store, checker=checker)
    print(f"proxy http://{host}:{port} -> {upstream} (checks: http://{host}:{port}/_contract/violations)")
    sys.stdout.flush()
    try:
        with _signals_end_the_run():
            uvicorn.run(
                app, host=host, port=port, log_level=log_level, access_log=False, timeout_graceful_shutdown=5
            )
    finally:
        _finish(store, report_dir, checker, responses=True)
