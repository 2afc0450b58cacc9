"""``orders-contract run`` (the suite against any server) and ``orders-contract conformance`` (against
the embedded reference server)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .._settings import PROFILES
from ..rules import Rule
from ._engine import RuleResult, RunConfig, RunReport, TargetUnreachable, UsageError, run_suite
from ._report import print_report, write_json, write_junit

__all__ = ["execute", "register"]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def execute(
    config: RunConfig,
    *,
    report_json: Path | None = None,
    junit_xml: Path | None = None,
    console: Console | None = None,
    report_html: Path | None = None,
) -> int:
    """Run the suite with progress and the final table; write the reports; return the exit code."""
    out = console or Console()
    total = [0]

    def progress(rule: Rule, result: RuleResult | None) -> None:
        if result is None:
            total[0] += 1
            out.print(f"[dim]running {rule.id} ...[/]", highlight=False)
        else:
            style = {"passed": "green", "failed": "red", "skipped": "yellow"}[result.status]
            out.print(f"  [{style}]{result.status}[/] {rule.id} ({result.duration_s:.2f}s)", highlight=False)

    try:
        report: RunReport = run_suite(config, progress=progress)
    except UsageError as exc:
        raise _fail(str(exc)) from None
    except TargetUnreachable as exc:
        raise _fail(
            f"{exc} (is the server running? check --base-url, e.g. http://127.0.0.1:8000/api/v3)"
        ) from None
    print_report(report, out)
    try:
        if report_json is not None:
            write_json(report, report_json)
        if junit_xml is not None:
            write_junit(report, junit_xml)
        if report_html is not None:
            from ._html import write_html

            write_html(report, report_html, config=config)
    except OSError as exc:
        raise _fail(
            f"cannot write the report: {exc} (check --report-json / --junit-xml / --report-html)"
        ) from None
    return report.exit_code


def run_command(
    base_url: Annotated[
        str, typer.Option(help="API root that /orders is appended to, e.g. http://127.0.0.1:8000/api/v3.")
    ],
    username: Annotated[str, typer.Option(help="HTTP Basic username (API key).")],
    password: Annotated[str, typer.Option(help="HTTP Basic password (API secret).")],
    integration_id: Annotated[
        list[int], typer.Option(help="Integration id of the account (repeat for two).")
    ],
    foreign_integration_id: Annotated[
        int | None, typer.Option(help="Integration id of ANOTHER account (enables integration.ownership).")
    ] = None,
    rules: Annotated[str | None, typer.Option(help="Comma-separated rule ids to run (default: all).")] = None,
    max_examples: Annotated[int | None, typer.Option(min=1, help="Examples per property rule.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible runs (printed at the end).")] = None,
    deadline: Annotated[
        float | None,
        typer.Option(min=1, help="Seconds the whole run may take (default by profile: 180/300/3600)."),
    ] = None,
    request_timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per request.")] = 10.0,
    report_json: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    junit_xml: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    report_html: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here (one file, works offline).")
    ] = None,
    spec: Annotated[Path | None, typer.Option(help="OpenAPI spec with the x-contract block.")] = None,
    profile: Annotated[str | None, typer.Option(help=f"Hypothesis profile: {', '.join(PROFILES)}.")] = None,
) -> None:
    """Check, rule by rule, that the server at --base-url implements the orders batch API contract."""
    if profile is not None and profile not in PROFILES:
        raise _fail(f"unknown --profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    if not base_url.startswith(("http://", "https://")):
        raise _fail(f"--base-url must start with http:// or https://, got {base_url!r}")
    config = RunConfig(
        base_url=base_url,
        username=username,
        password=password,
        integration_ids=tuple(integration_id),
        foreign_integration_id=foreign_integration_id,
        rules=tuple(rules.split(",")) if rules else (),
        max_examples=max_examples,
        seed=seed,
        deadline_s=deadline,
        request_timeout_s=request_timeout,
        spec_path=str(spec) if spec else None,
        profile=profile,
    )
    raise typer.Exit(execute(config, report_json=report_json, junit_xml=junit_xml, report_html=report_html))


def conformance_command(
    rules: Annotated[str | None, typer.Option(help="Comma-separated rule ids to run (default: all).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for reproducible runs.")] = None,
    profile: Annotated[str | None, typer.Option(help=f"Hypothesis profile: {', '.join(PROFILES)}.")] = None,
    fault: Annotated[
        list[str] | None, typer.Option(help="Switch on a server fault (to see the suite catch it).")
    ] = None,
    report_json: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    junit_xml: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    report_html: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here (one file, works offline).")
    ] = None,
) -> None:
    """Start the embedded reference server (free 127.0.0.1 port, fresh SQLite), run the suite, stop it."""
    from ..server import FAULTS, running_server

    unknown = sorted(set(fault or ()) - set(FAULTS))
    if unknown:
        raise _fail(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    console = Console()
    with running_server(faults=set(fault or ())) as server:
        console.print(
            f"reference server on {server.api_url} (faults: {', '.join(fault or ()) or 'none'})", markup=False
        )
        config = RunConfig.against(
            server, rules=tuple(rules.split(",")) if rules else (), seed=seed, profile=profile
        )
        code = execute(
            config, report_json=report_json, junit_xml=junit_xml, console=console, report_html=report_html
        )
    raise typer.Exit(code)


def list_rules_command() -> None:
    """List the contract rules: id, what each checks, and where the promise comes from."""
    from rich.markup import escape
    from rich.table import Table

    from ..rules import RULES

    table = Table(title="Contract rules (run order)", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("checks", overflow="fold")
    table.add_column("source", overflow="fold")
    for rule in RULES:
        table.add_row(rule.id, escape(rule.description), escape(rule.source))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("conformance")(conformance_command)
    app.command("list-rules")(list_rules_command)
