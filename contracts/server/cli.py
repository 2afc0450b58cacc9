"""``orders-contract serve``: run the reference server under uvicorn."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from ._faults import FAULTS, UnknownFaultError, parse_faults
from ._settings import DEFAULT_DB_PATH, ConfigError, ServerSettings, load_config

__all__ = ["register"]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def serve_command(
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
    """Run the reference server (Sendcloud Orders v3 shape) on SQLite."""
    if list_faults:
        for name, description in FAULTS.items():
            typer.echo(f"{name:30} {description}")
        return
    values: dict[str, Any] = {"log_level": log_level}
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
    except (ConfigError, UnknownFaultError) as exc:
        raise _fail(f"{exc}") from None
    from ._launch import prepare_database, serve

    try:
        prepare_database(settings)
    except (OSError, sqlite3.Error) as exc:
        raise _fail(
            f"cannot open the database {settings.db_path}: {exc} (pass a writable --db file)"
        ) from None
    _announce(settings, custom_accounts=config is not None and "accounts" in values)
    if check_clients or script:
        from contracts.clients import serve_with_checks

        serve_with_checks(settings, scripts=script or [], report_dir=str(report_dir) if report_dir else None)
        return
    serve(settings)


def _announce(settings: ServerSettings, *, custom_accounts: bool) -> None:
    typer.echo(
        f"orders-contract reference server: http://{settings.host}:{settings.port}/api/v3/orders "
        f"(db {settings.db_path}, {settings.workers} worker(s))"
    )
    if not custom_accounts:
        for account in settings.accounts:
            integrations = ", ".join(str(i) for i in account.integrations)
            typer.echo(
                f"  demo account: user {account.username!r} password {account.password!r} "
                f"integrations {integrations}"
            )
    if settings.faults:
        typer.echo(f"  FAULTS ON (deliberately broken): {', '.join(sorted(settings.faults))}")
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo("  warning: listening beyond localhost with demo credentials", err=True)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``orders-contract`` command."""
    app.command("serve")(serve_command)
