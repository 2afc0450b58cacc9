"""`orders-contract` console script: each area registers its own subcommands here."""

from __future__ import annotations

import typer

from codegen.cli import register as register_codegen
from contracts.clients import serve_with_checks
from contracts.clients.cli import register_clients
from contracts.runner.cli import register as register_runner
from contracts.server.cli import register as register_server

app = typer.Typer(
    name="orders-contract",
    help="Spec-first models, client, reference server and conformance suite for batch-order APIs.",
    no_args_is_help=True,
    add_completion=False,
)
register_codegen(app)
register_server(app, check_clients=serve_with_checks)
register_clients(app)
register_runner(app)


def main() -> None:
    app()
