"""``orders-contract run`` (the suite against any server), ``orders-contract conformance`` (against the
embedded reference server) and ``orders-contract list-rules``.

Only typer and rich are imported here: the engine, Hypothesis and Schemathesis load when a command runs,
so `orders-contract --help` stays fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from .._settings import PROFILES

if TYPE_CHECKING:
    from ._engine import RunConfig

__all__ = ["config_defaults", "execute", "register"]

_ENV = "ORDERS_CONTRACT_"


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
    stopped_server: str = "",
) -> int:
    """Run the suite with one progress display and the final table; write the reports; return the exit
    code (0 passed, 1 failed, 2 usage or preflight, 130 interrupted by SIGINT / SIGTERM)."""
    from ._engine import UsageError, run_suite, select_rules
    from ._interrupt import StopSignal
    from ._preflight import PreflightFailed
    from ._progress import Progress
    from ._report import print_report, write_json, write_junit

    out = console or Console()
    try:
        total = len(select_rules(config.rules, config.exclude))
    except UsageError as exc:
        raise _fail(str(exc)) from None
    stop = StopSignal()
    with stop.installed():
        progress = Progress(out, total)
        try:
            report = run_suite(config, progress=progress, stop=stop)
        except (UsageError, PreflightFailed) as exc:
            raise _fail(str(exc)) from None
        finally:
            progress.close()
        print_report(report, out)
        if stopped_server and any(r.reproduction for r in report.results if r.status == "failed"):
            out.print(
                f"{stopped_server} has stopped; --keep-server keeps it to replay the reproductions",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
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
    return 130 if stop.is_set() else report.exit_code


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
        raise _fail(
            "give --username and --password (HTTP Basic), or --token (API key / bearer); "
            f"or set {_ENV}USERNAME / {_ENV}PASSWORD / {_ENV}TOKEN"
        )
    return username, password or ""


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(i.strip() for i in (value or "").split(",") if i.strip())


def _check_profile(profile: str | None) -> None:
    if profile is not None and profile not in PROFILES:
        raise _fail(f"unknown --profile {profile!r}; choose one of: {', '.join(PROFILES)}")


_SPEC_HELP = "OpenAPI spec with an x-contract block: a path, or a packaged spec's name."
_OWNED_HELP = "A value of the contract's ownership member the account owns (repeat for two)."
_FOREIGN_HELP = (
    "A value of the ownership member another account owns; without it ownership.enforced uses a value "
    "no account can own."
)
_LEGACY = {"owned": "--integration-id", "foreign": "--foreign-integration-id"}  # old names, hidden

# Options shared by `run` and `conformance` (names follow Schemathesis where it has one).
Rules = Annotated[str | None, typer.Option(help="Comma-separated rule ids to run (default: all).")]
Exclude = Annotated[str | None, typer.Option(help="Comma-separated rule ids to leave out.")]
MaxExamples = Annotated[int | None, typer.Option(min=1, help="Examples per property rule.")]
Seed = Annotated[int | None, typer.Option(help="Seed for a reproducible run (printed at the end).")]
Deadline = Annotated[
    float | None,
    typer.Option(min=1, help="Seconds the whole run may take (default by profile: 180/300/3600)."),
]
RequestTimeout = Annotated[float, typer.Option(min=0.1, help="Seconds per request.")]
MaxFailures = Annotated[int | None, typer.Option(min=1, help="Stop after this many failed rules.")]
ExitFirst = Annotated[bool, typer.Option("--exitfirst", "-x", help="Stop at the first failed rule.")]
ReportJson = Annotated[Path | None, typer.Option(help="Write the JSON report here.")]
JunitXml = Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")]
ReportHtml = Annotated[
    Path | None, typer.Option(help="Write a self-contained HTML report here (one file, works offline).")
]
Profile = Annotated[str | None, typer.Option(help=f"Hypothesis profile: {', '.join(PROFILES)}.")]


def _max_failures(max_failures: int | None, exitfirst: bool) -> int | None:
    return 1 if exitfirst else max_failures


def run_command(
    base_url: Annotated[
        str, typer.Option(envvar=f"{_ENV}BASE_URL", help="API root the spec's paths are appended to.")
    ],
    username: Annotated[
        str | None, typer.Option(envvar=f"{_ENV}USERNAME", help="HTTP Basic username (API key).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar=f"{_ENV}PASSWORD", help="HTTP Basic password; prefer the environment variable."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar=f"{_ENV}TOKEN", help="API key or bearer token (token auth schemes).")
    ] = None,
    owned: Annotated[
        list[str] | None, typer.Option("--owned", envvar=f"{_ENV}OWNED", help=_OWNED_HELP)
    ] = None,
    foreign: Annotated[list[str] | None, typer.Option("--foreign", help=_FOREIGN_HELP)] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="'Name: value' sent with every request.")
    ] = None,
    legacy_owned: Annotated[list[str] | None, typer.Option(_LEGACY["owned"], hidden=True)] = None,
    legacy_foreign: Annotated[str | None, typer.Option(_LEGACY["foreign"], hidden=True)] = None,
    rules: Rules = None,
    exclude: Exclude = None,
    max_examples: MaxExamples = None,
    seed: Seed = None,
    deadline: Deadline = None,
    request_timeout: RequestTimeout = 10.0,
    max_failures: MaxFailures = None,
    exitfirst: ExitFirst = False,
    report_json: ReportJson = None,
    junit_xml: JunitXml = None,
    report_html: ReportHtml = None,
    spec: Annotated[str | None, typer.Option(envvar=f"{_ENV}SPEC", help=_SPEC_HELP)] = None,
    profile: Profile = None,
) -> None:
    """Check, rule by rule, that the server at --base-url keeps the contract of its spec."""
    from ._engine import RunConfig

    _check_profile(profile)
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
        rules=_split(rules),
        exclude=_split(exclude),
        max_examples=max_examples,
        seed=seed,
        deadline_s=deadline,
        request_timeout_s=request_timeout,
        spec_path=spec,
        profile=profile,
        max_failures=_max_failures(max_failures, exitfirst),
    )
    raise typer.Exit(execute(config, report_json=report_json, junit_xml=junit_xml, report_html=report_html))


def conformance_command(
    rules: Rules = None,
    exclude: Exclude = None,
    max_examples: MaxExamples = None,
    seed: Seed = None,
    deadline: Deadline = None,
    request_timeout: RequestTimeout = 10.0,
    max_failures: MaxFailures = None,
    exitfirst: ExitFirst = False,
    profile: Profile = None,
    fault: Annotated[
        list[str] | None, typer.Option(help="Switch on a server fault (to see the suite catch it).")
    ] = None,
    spec: Annotated[
        str | None, typer.Option(envvar=f"{_ENV}SPEC", help=_SPEC_HELP + " The embedded server serves it.")
    ] = None,
    keep_server: Annotated[
        bool,
        typer.Option(
            help="Keep the server running after the run (reproductions stay valid); Ctrl-C stops it."
        ),
    ] = False,
    report_json: ReportJson = None,
    junit_xml: JunitXml = None,
    report_html: ReportHtml = None,
) -> None:
    """Start the embedded reference server for the spec (free 127.0.0.1 port, fresh SQLite), run the
    suite against it, stop it."""
    from ..contract import ContractError, resolve_spec
    from ..server import FAULTS, running_server
    from ._engine import RunConfig

    _check_profile(profile)
    unknown = sorted(set(fault or ()) - set(FAULTS))
    if unknown:
        raise _fail(f"unknown fault(s) {', '.join(unknown)}; see `orders-contract serve --list-faults`")
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
        faults = f"; faults on: {', '.join(fault)}" if fault else ""
        console.print(
            f"reference server ({spec_path.name}) on {server.api_url}{faults}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        config = RunConfig.against(
            server,
            rules=_split(rules),
            exclude=_split(exclude),
            max_examples=max_examples,
            seed=seed,
            deadline_s=deadline,
            request_timeout_s=request_timeout,
            max_failures=_max_failures(max_failures, exitfirst),
            profile=profile,
            spec_path=str(spec_path),
        )
        code = execute(
            config,
            report_json=report_json,
            junit_xml=junit_xml,
            console=console,
            report_html=report_html,
            stopped_server="" if keep_server else server.api_url,
        )
        if keep_server and code != 130:
            _wait_for_signal(console, server.api_url)
    raise typer.Exit(code)


def _wait_for_signal(console: Console, url: str) -> None:
    from ._interrupt import StopSignal

    console.print(
        f"server kept running on {url}; Ctrl-C (or SIGTERM) stops it", markup=False, highlight=False
    )
    stop = StopSignal()
    with stop.installed():
        while not stop.event.wait(0.5):
            pass


def list_rules_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the rules as JSON (one object per rule).")
    ] = False,
    spec: Annotated[
        str | None, typer.Option(envvar=f"{_ENV}SPEC", help=_SPEC_HELP + " Says which rules apply.")
    ] = None,
) -> None:
    """List the contract rules in run order: id, what each checks, where the promise comes from."""
    from ..rules import RULES

    contract = None
    if spec is not None:
        from ..contract import ContractError, load_contract

        try:
            contract = load_contract(spec)
        except ContractError as exc:
            raise _fail(str(exc)) from None
    rows = [
        {
            "id": rule.id,
            "order": rule.order,
            "checks": rule.description,
            "source": rule.source,
            **({"not_applicable": rule.not_applicable(contract)} if contract is not None else {}),
        }
        for rule in RULES
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    _rules_table(rows)


def _rules_table(rows: list[dict[str, Any]]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Contract rules (run order)", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("checks", overflow="fold", ratio=3)
    table.add_column("source (spec location)", overflow="fold", ratio=2)
    for row in rows:
        checks = escape(row["checks"])
        if row.get("not_applicable"):
            checks += f" [dim](not applicable: {escape(row['not_applicable'])})[/]"
        table.add_row(row["id"], checks, escape(row["source"]))
    Console().print(table)


def config_defaults(command: str, params: list[Any]) -> dict[str, Any]:
    """Defaults for ``command`` from orders-contract.toml / pyproject.toml (a click ``default_map``);
    typer.Exit(2) with one line when the file is wrong. ``params`` are the command's click parameters."""
    if command not in ("run", "conformance"):
        return {}
    from ._config import ConfigFileError
    from ._config import config_defaults as read

    names = {p.name for p in params if p.name and not getattr(p, "hidden", False)}
    multiple = {p.name for p in params if getattr(p, "multiple", False)}
    others = {
        "base_url",
        "username",
        "password",
        "token",
        "owned",
        "foreign",
        "header",
        "fault",
        "keep_server",
    }
    try:
        return read(command, names, multiple, others - names)
    except ConfigFileError as exc:
        raise _fail(str(exc)) from None


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("conformance")(conformance_command)
    app.command("list-rules")(list_rules_command)
