"""`orders-contract` console script: each area registers its own subcommands.

A command's module is imported only when that command runs or shows its help: `orders-contract --help`
lists the commands from the short table below (a test keeps it equal to the commands' own help), so
start-up does not pay for openapi-core, Hypothesis and Schemathesis unless the command uses them."""

from __future__ import annotations

import gc
import importlib
import signal
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["COMMANDS", "app", "main"]

# command -> (module that registers it, its short help as `orders-contract --help` shows it)
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": (
        "codegen.cli",
        "Generate models + client packages from OpenAPI specs (spec/*.yaml → generated/<package>/).",
    ),
    "lint": (
        "codegen.cli",
        "Print validation errors, normaliser rewrites and examples that fail their own schema.",
    ),
    "serve": (
        "contracts.server.cli",
        "Run the reference server of a spec's API on SQLite (default: the packaged default spec).",
    ),
    "proxy": (
        "contracts.clients.cli",
        "Forward a client's traffic unchanged to UPSTREAM, checking requests and the upstream's answers.",
    ),
    "run": (
        "contracts.runner.cli",
        "Check, rule by rule, that the server at --base-url keeps the contract of its spec.",
    ),
    "conformance": (
        "contracts.runner.cli",
        "Start the embedded reference server for the spec (free 127.0.0.1 port, fresh SQLite), run the "
        "suite against it, stop it.",
    ),
    "list-rules": (
        "contracts.runner.cli",
        "List the contract rules in run order: id, what each checks, where the promise comes from.",
    ),
    "clients": ("contracts.clients.cli", "Check that API clients send what the spec expects."),
}


def _serve_with_checks(*args: Any, **kwargs: Any) -> None:
    from contracts.clients import serve_with_checks

    serve_with_checks(*args, **kwargs)


def _register(module_name: str, target: typer.Typer) -> Any:
    module = importlib.import_module(module_name)
    if module_name == "contracts.server.cli":
        module.register(target, check_clients=_serve_with_checks)
    elif module_name == "contracts.clients.cli":
        module.register_clients(target)
    else:
        module.register(target)
    return module


# Commands that end soon after they start: run from the console script, they keep the cyclic garbage
# collector off to the end (``main``); `generate` collects once between two specs.
SHORT_COMMANDS = frozenset({"generate", "lint", "list-rules"})
_console_script = False  # set by ``main``: this process runs one command, then ends


def _imported_without_collections(register: Any, module_name: str, target: typer.Typer) -> Any:
    """``register(module_name, target)`` with the cyclic garbage collector paused, then frozen.

    Importing a command's modules (datamodel-code-generator, Hypothesis, Schemathesis, ...) creates tens of
    thousands of objects that live as long as the process; collections meanwhile walk them again and
    again for nothing. In the console script, ``gc.freeze()`` then keeps them out of every later collection,
    which also spares a long ``run`` or ``serve`` from re-walking them (not when the app is used in another
    program, whose own objects would be frozen with them). The collector's state comes back afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return register(module_name, target)
    finally:
        if _console_script:
            gc.freeze()
        if enabled:
            gc.enable()


class _PlainFlag:
    def coerce(self, value: Any, **_: Any) -> bool:
        return bool(value)


class LazyGroup(TyperGroup):
    """The root group: commands come from their area's module on first use; the help listing of the
    root is built from ``COMMANDS`` without importing any of them."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        module_name, summary = COMMANDS[cmd_name]
        if self._listing:
            return TyperCommand(name=cmd_name, help=summary)
        if cmd_name not in self.commands:
            area = typer.Typer(rich_markup_mode=None)
            module = _imported_without_collections(_register, module_name, area)
            group = typer.main.get_group(area)
            for name, command in group.commands.items():
                command.__dict__["_area_module"] = module
                self.commands[name] = command
        return self.commands.get(cmd_name)

    def get_help_option(self, ctx: Any) -> Any:
        # typer coerces the root's unset --help (None) through pydantic, 0.25 s of imports for nothing:
        # the flag is a plain bool
        option = super().get_help_option(ctx)
        if option is not None and getattr(option, "_runtime_param", "") is None:
            option._runtime_param = _PlainFlag()  # type: ignore[assignment]
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        hook = getattr(getattr(command, "_area_module", None), "config_defaults", None)
        if hook is not None and name is not None and command is not None and "--help" not in rest:
            ctx.default_map = {**(ctx.default_map or {}), name: hook(name, command.params)}
        return name, command, rest


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"orders-contract {version('orders-contract')}")
        except PackageNotFoundError:
            typer.echo("orders-contract (not installed: version unknown)")
        raise typer.Exit(0)


app = typer.Typer(
    name="orders-contract",
    help="Spec-first models, client, reference server and conformance suite for batch-order APIs.",
    no_args_is_help=True,
    add_completion=False,
    cls=LazyGroup,
    rich_markup_mode=None,  # plain help: rich's help renderer alone costs 0.2 s of every --help
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Spec-first models, client, reference server and conformance suite for batch-order APIs."""


class _Interrupted(BaseException):  # noqa: N818 - not an error: the user asked to stop
    """SIGINT / SIGTERM outside a run (which handles them itself): unwind, say so, exit 130."""


class _EarlySignals:
    """The handler until a command installs its own; ``received`` tells that command (and ``main``) that
    a signal came, even when the exception it raised was swallowed (a gc callback, a broad except)."""

    received = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.received += 1
        raise _Interrupted(signum)


_EARLY = _EarlySignals()


def _quiet(hook: Any) -> Any:
    def quiet(info: Any) -> None:
        if not isinstance(info.exc_value, _Interrupted):
            hook(info)

    return quiet


def _collector_for(args: list[str]) -> None:
    """Off for a short command (see SHORT_COMMANDS), else on: a short command's garbage goes with the
    process, which saves it ~10 % (BENCHMARKS.md, codegen)."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command in SHORT_COMMANDS:
        gc.disable()
    else:
        gc.enable()


def main() -> None:
    global _console_script
    _console_script = True
    _collector_for(sys.argv[1:])
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:  # `nohup` and `cmd &` ignore some: keep that
            signal.signal(sig, _EARLY)
    sys.unraisablehook = _quiet(sys.unraisablehook)
    try:
        app()
    except (_Interrupted, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit as exc:
        if _EARLY.received and exc.code in (0, None):  # never 0 after a signal
            print("interrupted", file=sys.stderr)
            sys.exit(130)
        raise
