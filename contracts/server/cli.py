"""``orders-contract serve``: run the reference server under uvicorn."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from contracts.contract import Contract, ContractError, load_contract

from ._faults import FaultNotApplicableError, UnknownFaultError, check_faults, faults_for, parse_faults
from ._settings import DEFAULT_DB_PATH, ConfigError, ServerSettings, load_config
from ._storage import StoreLayoutError

__all__ = ["CheckedServe", "register"]

# `serve --check-clients`: whoever registers the command may pass the runner that serves behind the client
# checks (the clients package has it); the server package itself does not import the clients package.
CheckedServe = Callable[..., None]
_checked_serve: list[CheckedServe] = []


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def serve_command(
    spec: Annotated[
        str | None,
        typer.Option(
            help="OpenAPI spec (a file or a packaged spec's name) whose API to serve "
            "(default: the packaged default spec)."
        ),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8000).")] = None,
    db: Annotated[
        str | None,
        typer.Option(help=f"SQLite file or :memory: (default {DEFAULT_DB_PATH}, created on first start)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="TOML file with accounts tables and an optional server table (see README)."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="uvicorn worker processes sharing the database.")
    ] = None,
    processing_delay: Annotated[
        float | None, typer.Option(help="Seconds before a new order becomes visible to reads.")
    ] = None,
    batch_latency: Annotated[
        float | None, typer.Option(help="Seconds a batch holds its processing claims (reproduces conflicts).")
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Switch on a deliberate bug (repeatable); --list-faults shows them."),
    ] = None,
    list_faults: Annotated[
        bool, typer.Option("--list-faults", help="Print the fault catalogue and exit.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    check_clients: Annotated[
        bool, typer.Option("--check-clients", help="Check every client request against the spec.")
    ] = False,
    script: Annotated[
        list[str] | None,
        typer.Option(help="Scripted answer, e.g. conflict:2 (repeatable; implies --check-clients)."),
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="With --check-clients: reports written on shutdown.")
    ] = None,
) -> None:
    """Run the reference server of a spec's API on SQLite (default: the packaged default spec)."""
    try:
        contract = load_contract(spec)
    except ContractError as exc:
        raise _fail(f"{exc}") from None
    if list_faults:
        for name, description in faults_for(contract).items():
            typer.echo(f"{name:30} {description}")
        return
    values: dict[str, Any] = {"log_level": log_level, "spec_path": str(contract.spec_path) if spec else None}
    try:
        if config is not None:
            values.update(load_config(config))
        flags = {
            "host": host,
            "port": port,
            "db_path": db,
            "workers": workers,
            "processing_delay": processing_delay,
            "batch_latency": batch_latency,
        }
        values.update({key: value for key, value in flags.items() if value is not None})
        if fault:
            values["faults"] = frozenset(values.get("faults", frozenset())) | parse_faults(fault)
        settings = ServerSettings(**values)
        check_faults(settings.faults, contract)
    except (ConfigError, UnknownFaultError, FaultNotApplicableError) as exc:
        raise _fail(f"{exc}") from None
    from ._launch import prepare_database, serve

    try:
        prepare_database(settings)
    except StoreLayoutError as exc:
        raise _fail(f"{exc}") from None
    except (OSError, sqlite3.Error) as exc:
        raise _fail(
            f"cannot open the database {settings.db_path}: {exc} (pass a writable --db file)"
        ) from None
    if (check_clients or script) and not _checked_serve:
        raise _fail("--check-clients is not available here; run it through the `orders-contract` command")
    busy = _cannot_listen(settings.host, settings.port)
    if busy:  # before the banner: one line and exit 2, not uvicorn's exit 3 after it
        raise _fail(
            f"cannot listen on {settings.host}:{settings.port}: {busy} (stop what uses it, or pass --port)"
        )
    _announce(settings, contract, custom_accounts=config is not None and "accounts" in values)
    if check_clients or script:
        _checked_serve[0](settings, scripts=script or [], report_dir=str(report_dir) if report_dir else None)
        return
    serve(settings)


def _cannot_listen(host: str, port: int) -> str:
    """Why ``host:port`` cannot be bound ("" when it can); bound the way uvicorn binds (SO_REUSEADDR)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return ""


def _announce(settings: ServerSettings, contract: Contract, *, custom_accounts: bool) -> None:
    write = contract.batch_write
    typer.echo(
        f"orders-contract reference server ({contract.dialect}): {write.method} "
        f"http://{settings.host}:{settings.port}{contract.base_path}{write.path} "
        f"(db {settings.db_path}, {settings.workers} worker(s))"
    )
    if not custom_accounts:
        for account in settings.accounts:
            if contract.auth.kind == "basic":
                secret = f"user {account.username!r} password {account.password!r}"
            else:
                header, value = contract.auth.credentials_header(account.token)
                secret = f"{account.username!r}: {header}: {value}"
            owned = ""
            if contract.ownership is not None:
                owned = f" owns {contract.ownership.member} " + ", ".join(str(v) for v in account.owns)
            typer.echo(f"  demo account: {secret}{owned}")
    if settings.faults:
        typer.echo(f"  FAULTS ON (deliberately broken): {', '.join(sorted(settings.faults))}")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo("  warning: listening beyond localhost with demo credentials", err=True)


def register(app: typer.Typer, *, check_clients: CheckedServe | None = None) -> None:
    """Add ``serve`` to the ``orders-contract`` command; ``check_clients`` runs ``serve --check-clients``
    (``contracts.clients.serve_with_checks``)."""
    if check_clients is not None:
        _checked_serve[:] = [check_clients]
    app.command("serve")(serve_command)
