"""`orders-contract generate` and `orders-contract lint` (typer + rich)."""

from __future__ import annotations

import gc
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from ._findings import Finding
    from ._load import LoadedSpec

# rich, PyYAML, datamodel-code-generator, jinja2 and ruff helpers are imported inside the commands:
# `orders-contract generate --help` must not pay for them (start-up time, see bench/startup.py).

__all__ = ["FIX_COMMAND", "GENERATED_DIR", "SPEC_DIR", "register"]

SPEC_DIR = Path("spec")
GENERATED_DIR = Path("generated")
FIX_COMMAND = "make generate"
_SPEC_SUFFIXES = (".yaml", ".yml", ".json")


@cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class _LazyConsole:
    """A rich Console made on first use (importing rich costs ~40 ms that `--help` should not pay)."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr

    def print(self, *objects: object, **options: object) -> None:
        _console(self._stderr).print(*objects, **options)  # type: ignore[arg-type]


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)


def _say(text: str) -> None:
    """One line to stdout as it is: the lines of a successful run need no rich (~30 ms to import)."""
    typer.echo(text)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


def _print_findings(findings: list[Finding] | tuple[Finding, ...], *, title: str) -> None:
    groups: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[finding.rule or finding.level].append(finding)
    if not findings:
        out.print(f"{title}: no findings")
        return
    out.print(f"{title}: {len(findings)} finding(s)")
    for rule in sorted(groups):
        items = sorted(groups[rule], key=lambda f: (f.level != "error", f.location))
        out.print(f"\n[bold]{rule}[/bold] ({len(items)})", markup=True)
        for f in items:
            colour = "red" if f.level == "error" else "yellow"
            out.print(f"  [{colour}]{f.level}[/{colour}] ", markup=True, end="")
            out.print(f"{f.location or '/'}: {f.message}", markup=False)
            if f.snippet:
                out.print(f"      {f.snippet}", markup=False)


def _specs_in(spec_dir: Path) -> list[Path]:
    if not spec_dir.is_dir():
        raise _fail(f"{spec_dir}/ not found; run from the repository root or pass --spec PATH --out DIR")
    specs = sorted(
        p
        for p in spec_dir.iterdir()
        if p.suffix in _SPEC_SUFFIXES and p.is_file() and not p.name.endswith(".schema.json")
    )
    if not specs:
        raise _fail(f"no *.yaml/*.yml/*.json spec in {spec_dir}/")
    return specs


def _load(path: Path) -> LoadedSpec:
    from ._load import SpecLoadError, load_spec

    try:
        return load_spec(path)
    except SpecLoadError as exc:
        raise _fail(str(exc)) from None


def _warning_summary(findings: tuple[Finding, ...], spec_path: Path) -> str:
    """`80 warning(s): nullable 40, hoist-inline 30, ...; details: orders-contract lint SPEC`."""
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        if finding.level == "warning":
            counts[finding.rule or "other"] += 1
    if not counts:
        return "no warnings"
    total = sum(counts.values())
    groups = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{total} warning(s): {groups}; details: orders-contract lint {spec_path}"


def _notable(findings: tuple[Finding, ...]) -> list[Finding]:
    """Warnings about something the generated client does not do (printed, not only counted)."""
    return [f for f in findings if f.level == "warning" and f.rule in ("security", "webhooks", "batch")]


def _generate_one(
    spec: LoadedSpec, spec_path: Path, out_dir: Path, names: tuple[str | None, str | None], check: bool
) -> bool:
    """Return True when (check mode) the tree on disk differs."""
    from ._findings import SpecError
    from ._format import FormatError
    from ._generate import build_tree, diff_tree, write_tree

    package, client = names
    try:
        tree = build_tree(spec, package, check_import=not check, client=client)
    except SpecError as exc:
        _print_findings(
            [f for f in exc.findings if f.level == "error"], title=f"{spec.name}: cannot generate"
        )
        raise typer.Exit(1) from None
    except (FormatError, SyntaxError) as exc:
        raise _fail(f"{spec.name}: generator produced invalid code ({exc}); please report this") from None
    except RuntimeError as exc:  # the import check failed: nothing was written
        raise _fail(f"{spec.name}: {exc}; nothing written") from None
    if check:
        diff = diff_tree(tree, out_dir)
        if diff:
            out.print(diff, markup=False, end="")
            err.print(f"{out_dir / tree.package}: generated code is out of date; run `{FIX_COMMAND}`")
            return True
        _say(f"{out_dir / tree.package}: up to date ({len(tree.files)} files)")
        return False
    try:
        written = write_tree(tree, out_dir)
    except OSError as exc:
        raise _fail(f"cannot write to {out_dir}: {exc.strerror}") from None
    summary = _warning_summary(tree.findings, spec_path)
    _say(f"{spec.name} → {out_dir / tree.package} ({len(written)} files; {summary})")
    for finding in _notable(tree.findings):
        _say(f"  warning: {finding.location or '/'}: {finding.message}")
    return False


def generate(
    check: Annotated[
        bool, typer.Option("--check", help="Regenerate in memory, print a diff, exit 1 on drift.")
    ] = False,
    spec: Annotated[
        Path | None, typer.Option("--spec", help="One spec file (default: every spec in spec/).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: generated/).")
    ] = None,
    package: Annotated[
        str | None,
        typer.Option("--package", help="Package name (default: the contract's, else from the file name)."),
    ] = None,
    client_name: Annotated[
        str | None,
        typer.Option(
            "--client-name", help="Client class name (default: the contract's, else from the package)."
        ),
    ] = None,
) -> None:
    """Generate models + client packages from OpenAPI specs (spec/*.yaml → generated/<package>/)."""
    if (package is not None or client_name is not None) and spec is None:
        raise _fail("--package/--client-name need --spec (each spec in spec/ maps to its own package)")
    if package is not None and not (
        package.isidentifier() and package.isascii() and package == package.lower()
    ):
        raise _fail(f"--package {package!r} is not a lowercase Python identifier (e.g. shop_api)")
    if client_name is not None and not (
        client_name.isidentifier() and client_name.isascii() and client_name[:1].isupper()
    ):
        raise _fail(f"--client-name {client_name!r} is not a Python class name (e.g. ShopClient)")
    paths = [spec] if spec is not None else _specs_in(SPEC_DIR)
    target = out_dir if out_dir is not None else GENERATED_DIR
    drift = False
    from ._models_child import warming_up

    for index, path in enumerate(paths):
        if index and not gc.isenabled():
            gc.collect()  # the console script runs without the collector: free the last spec's cycles once
        with warming_up():  # datamodel-code-generator warms up while the spec is read and checked
            drift |= _generate_one(_load(path), path, target, (package, client_name), check)
    if drift:
        raise typer.Exit(1)


def lint(
    spec: Annotated[Path, typer.Argument(help="OpenAPI spec file to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Print validation errors, normaliser rewrites and examples that fail their own schema."""
    from ._examples import check_examples
    from ._findings import SpecError, has_errors
    from ._generate import contract_of, package_name, prepare
    from ._load import validate

    loaded = _load(spec)
    findings = validate(loaded.document)
    package = "?"
    if not has_errors(findings):
        try:
            package = package_name(loaded, contract_of(loaded))
            _doc, _ir, findings = prepare(loaded)
        except SpecError as exc:
            findings = list(exc.findings)
        findings = [*findings, *check_examples(loaded.document)]
    if as_json:
        import dataclasses
        import json

        found = [dataclasses.asdict(f) for f in findings]
        typer.echo(json.dumps({"spec": loaded.name, "package": package, "findings": found}, indent=2))
    else:
        _print_findings(findings, title=f"{loaded.name} (package {package})")
    if has_errors(findings):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("lint")(lint)
