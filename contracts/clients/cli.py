"""`orders-contract proxy` and `orders-contract clients report`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ._operations import DEFAULT_MIN_POLL_INTERVAL

if TYPE_CHECKING:
    from contracts.contract import Contract

__all__ = ["register", "register_clients"]

clients_app = typer.Typer(help="Check that API clients send what the spec expects.", no_args_is_help=True)


SpecOption = Annotated[
    str | None,
    typer.Option(
        help="Spec file or packaged spec name (e.g. karrio-batch-orders); default: the default spec."
    ),
]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _contract_of(spec: str | None) -> Contract:
    from contracts.contract import ContractError, load_contract

    try:
        return load_contract(spec)
    except ContractError as exc:
        raise _fail(str(exc)) from None


@clients_app.command("report")
def report_command(
    server: Annotated[str, typer.Option(help="Base URL of `serve --check-clients` or of the proxy.")],
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the violations as JSON here.")
    ] = None,
    junit_xml: Annotated[Path | None, typer.Option("--junit-xml", help="Write JUnit XML here.")] = None,
    report_html: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here (one file, works offline).")
    ] = None,
    spec: Annotated[
        str | None,
        typer.Option(help="Make sure the checks judge by this spec (file or packaged name); exit 2 if not."),
    ] = None,
) -> None:
    """Print what the checks recorded; exit 1 when there are violations, 0 when none, 2 when unreachable."""
    from ._report import ReportUnavailable, fetch_report, render_table, write_html, write_json, write_junit

    expected = _contract_of(spec) if spec is not None else None
    try:
        report = fetch_report(server)
    except ReportUnavailable as exc:
        raise _fail(str(exc)) from None
    if expected is not None and report.spec.get("sha256") != expected.spec_sha256:
        judged = report.spec.get("spec", "an unnamed spec")
        raise _fail(
            f"the checks at {server} judge by {judged}, not {expected.spec_name}; "
            f"start them with --spec {spec} or leave out --spec"
        )
    console = Console()
    if not console.is_terminal:  # CI logs: do not fold rule ids and messages at 80 columns
        console = Console(width=200)
    render_table(console, report)
    if json_path is not None:
        write_json(json_path, report)
    if junit_xml is not None:
        write_junit(junit_xml, report)
    if report_html is not None:
        try:
            write_html(report_html, report, server=server)
        except OSError as exc:
            typer.echo(f"error: cannot write the HTML report: {exc} (check --report-html)", err=True)
            raise typer.Exit(2) from None
    raise typer.Exit(1 if report.violations else 0)


def proxy_command(
    upstream: Annotated[str, typer.Option(help="Server to forward to, e.g. http://127.0.0.1:8000.")],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8010,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    script: Annotated[
        list[str] | None,
        typer.Option(help="Scripted answer, e.g. conflict:2 or server_error:1 (repeatable)."),
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="Write JSON + JUnit reports here on shutdown.")
    ] = None,
    store: Annotated[Path, typer.Option(help="SQLite file for violations and scripts.")] = Path(
        ".orders-contract/proxy-checks.sqlite3"
    ),
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    spec: SpecOption = None,
    min_poll_interval: Annotated[
        float,
        typer.Option(help="Asynchronous APIs: fewest seconds between two polls of one operation."),
    ] = DEFAULT_MIN_POLL_INTERVAL,
) -> None:
    """Forward a client's traffic unchanged to UPSTREAM, checking requests and the upstream's answers."""
    if not upstream.startswith(("http://", "https://")):
        raise _fail(f"--upstream {upstream!r} must be an http:// or https:// URL")
    if not 0 <= min_poll_interval <= 3600:
        raise _fail(f"--min-poll-interval must be between 0 and 3600 seconds, got {min_poll_interval:g}")
    _contract_of(spec)  # a bad spec: one line now rather than a traceback from the server
    from ._serve import run_proxy

    run_proxy(
        upstream,
        host=host,
        port=port,
        scripts=script or [],
        report_dir=str(report_dir) if report_dir else None,
        store_path=str(store),
        log_level=log_level,
        spec=spec,
        min_poll_interval=min_poll_interval,
    )


def register_clients(app: typer.Typer) -> None:
    """Add `proxy` and `clients report` to the `orders-contract` command."""
    app.command("proxy")(proxy_command)
    app.add_typer(clients_app, name="clients")


register = register_clients
