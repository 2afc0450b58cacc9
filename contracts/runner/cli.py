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
            style = {"passed": "green", "failed": "red", "skipped": "yellow"}.get(result.status, "dim")
            label = "not applicable" if result.status == "not_applicable" else result.status
            out.print(f"  [{style}]{label}[/] {rule.id} ({result.duration_s:.2f}s)", highlight=False)

    try:
        report: RunReport = run_suite(config, progress=progress)
    except UsageError as exc:
        raise _fail(str(exc)) from None
    except TargetUnreachable as exc:
        raise _fail(
            f"{exc} (is the server running? check --base-url: the API root the spec's paths go under)"
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


def _headers(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    found = []
    for raw in values or ():
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            raise _fail(f"--header takes 'Name: value', got {raw!r}")
        found.append((name.strip(), value.strip()))
    return tuple(found)


def _credentials(username: str | None, password: str | None, token: str | None) -> tuple[str, str]:
    if token is not None:
        return token, ""
    if username is None:
        raise _fail("give --username and --password (HTTP Basic), or --token (API key / bearer)")
    return username, password or ""


_SPEC_HELP = "OpenAPI spec with an x-contract block: a path, or a packaged spec's name (see `lint`)."
_OWNED_HELP = "A value of the contract's ownership member the account owns (repeat for two)."
_FOREIGN_HELP = "A value of the ownership member another account owns (enables ownership.enforced)."
_LEGACY = {"owned": "--integration-id", "foreign": "--foreign-integration-id"}  # old names, hidden


def run_command(
    base_url: Annotated[str, typer.Option(help="API root the spec's paths are appended to.")],
    username: Annotated[str | None, typer.Option(help="HTTP Basic username (API key).")] = None,
    password: Annotated[str | None, typer.Option(help="HTTP Basic password (API secret).")] = None,
    token: Annotated[str | None, typer.Option(help="API key or bearer token (token auth schemes).")] = None,
    owned: Annotated[list[str] | None, typer.Option("--owned", help=_OWNED_HELP)] = None,
    foreign: Annotated[list[str] | None, typer.Option("--foreign", help=_FOREIGN_HELP)] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="'Name: value' sent with every request.")
    ] = None,
    legacy_owned: Annotated[list[str] | None, typer.Option(_LEGACY["owned"], hidden=True)] = None,
    legacy_foreign: Annotated[str | None, typer.Option(_LEGACY["foreign"], hidden=True)] = None,
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
    spec: Annotated[str | None, typer.Option(help=_SPEC_HELP)] = None,
    profile: Annotated[str | None, typer.Option(help=f"Hypothesis profile: {', '.join(PROFILES)}.")] = None,
) -> None:
    """Check, rule by rule, that the server at --base-url keeps the contract of its spec."""
    if profile is not None and profile not in PROFILES:
        raise _fail(f"unknown --profile {profile!r}; choose one of: {', '.join(PROFILES)}")
    if not base_url.startswith(("http://", "https://")):
        raise _fail(f"--base-url must start with http:// or https://, got {base_url!r}")
    user, secret = _credentials(username, password, token)
    config = RunConfig(
        base_url=base_url,
        username=user,
        password=secret,
        owned=tuple([*(owned or ()), *(legacy_owned or ())]),
        foreign=tuple([*(foreign or ()), *([legacy_foreign] if legacy_foreign else [])]),
        headers=_headers(header),
        rules=tuple(rules.split(",")) if rules else (),
        max_examples=max_examples,
        seed=seed,
        deadline_s=deadline,
        request_timeout_s=request_timeout,
        spec_path=spec,
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
    spec: Annotated[str | None, typer.Option(help=_SPEC_HELP + " The embedded server serves it.")] = None,
    report_json: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    junit_xml: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    report_html: Annotated[
        Path | None, typer.Option(help="Write a self-contained HTML report here (one file, works offline).")
    ] = None,
) -> None:
    """Start the embedded reference server for the spec (free 127.0.0.1 port, fresh SQLite), run the
    suite against it, stop it."""
    from ..contract import ContractError, resolve_spec
    from ..server import FAULTS, running_server

    unknown = sorted(set(fault or ()) - set(FAULTS))
    if unknown:
        raise _fail(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    try:
        spec_path = resolve_spec(spec)
    except ContractError as exc:
        raise _fail(str(exc)) from None
    if not spec_path.exists():
        raise _fail(
            f"cannot read spec {spec}: no such file or packaged spec (pass a path or a packaged name)"
        )
    console = Console()
    options: dict[str, object] = {"faults": set(fault or ())}
    if spec is not None:
        options["spec_path"] = str(spec_path)
    with running_server(**options) as server:  # type: ignore[arg-type]
        console.print(
            f"reference server for {spec_path.name} on {server.api_url} "
            f"(faults: {', '.join(fault or ()) or 'none'})",
            markup=False,
        )
        config = RunConfig.against(
            server,
            rules=tuple(rules.split(",")) if rules else (),
            seed=seed,
            profile=profile,
            spec_path=str(spec_path),
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
