"""Architecture guards, in the spirit of Home Assistant's hassfest: the source tree keeps its own rules.

Everything here reads files (``tokenize``, ``ast``, ``tomllib``); nothing of the project is imported, so a
guard cannot be fooled by import side effects and runs in well under a second.

1. **No dialect literal** in the code of ``contracts/`` and ``codegen/``: a dialect (Sendcloud, Karrio, a
   team's own API) is stated by its spec's ``x-contract`` block, so a route, pointer, member or vendor name
   written into the code is knowledge that a second spec cannot change. Strings, identifiers, comments and
   docstrings all count (an example in a docstring is easy to give in neutral words); the client templates
   under ``codegen/templates/`` count too, since they are the code of every generated client. Spec files,
   generated packages and test fixtures are data and are not scanned. A deliberate exception goes into
   ``ALLOWED_LITERALS`` with its reason.
2. **Import layering** (see ARCHITECTURE.md): ``contracts.contract`` imports nothing of the project; codegen
   takes only ``contracts.contract`` from contracts; no module imports a private (``_name``) module of a
   package it is not inside; the packages form no import cycle (server and clients in particular).
3. **Every third-party import is declared** in pyproject.toml ``[project] dependencies``.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import sys
import tokenize
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Roots of importable code: (folder that holds the top-level packages, package folders under it).
SOURCE_ROOTS = {ROOT: ("codegen", "contracts", "orders_contract"), ROOT / "generated": None}
SCANNED_FOR_LITERALS = ("contracts", "codegen")

# (regex, what it is). Matched against every token's text, case-insensitively where the word can be cased
# (``SendcloudClient``, ``IntegrationId``, ``Partner-Id``), literally where it is a path.
DIALECT_LITERALS = (
    (re.compile(r"/api/v3"), "a base path of one vendor"),
    (re.compile(r"data/attributes"), "one vendor's error pointer prefix"),
    (re.compile(r"order_?details", re.IGNORECASE), "one vendor's item member"),
    (re.compile(r"integration", re.IGNORECASE), "one vendor's key/scope member"),
    (re.compile(r"sendcloud", re.IGNORECASE), "a vendor name"),
    (re.compile(r"partner", re.IGNORECASE), "one vendor's tenant header"),
)
# Which layer may import which (ARCHITECTURE.md, "Layers"): a layer is ``contracts.<sub>`` for contracts'
# subpackages and modules, else a top-level package. A generated package imports nothing of the project.
_BELOW_RULES = {"contracts.contract", "contracts._settings", "contracts.strategies"}
ALLOWED_LAYER_IMPORTS: dict[str, frozenset[str]] = {
    "contracts.contract": frozenset(),
    "contracts._settings": frozenset(),
    "codegen": frozenset({"contracts.contract"}),
    "contracts.strategies": frozenset({"contracts.contract", "contracts._settings"}),
    "contracts.rules": frozenset(_BELOW_RULES),
    "contracts.server": frozenset({"contracts.contract"}),
    "contracts.runner": frozenset({*_BELOW_RULES, "contracts.rules", "contracts.server"}),
    "contracts.clients": frozenset({"contracts.contract", "contracts.server", "contracts.runner"}),
    "contracts.pytest_plugin": frozenset(
        {*_BELOW_RULES, "contracts.rules", "contracts.runner", "contracts.server"}
    ),
    "orders_contract": frozenset({"codegen", "contracts.clients", "contracts.runner", "contracts.server"}),
}
# (path relative to the repo, exact token text) → why this literal may stay. Keep it short.
_OLD_FLAG = "older name kept as an alias (issue 8: the old flags may stay)"
_OLD_CONFIG_KEY = "older name of a config key, still read (README's config files keep working)"
_OLD_ATTRIBUTE = "older name of a public attribute (of `owned` / `tenants`), kept for existing callers"
ALLOWED_LITERALS: dict[tuple[str, str], str] = {
    ("contracts/runner/cli.py", '"--integration-id"'): _OLD_FLAG,
    ("contracts/runner/cli.py", '"--foreign-integration-id"'): _OLD_FLAG,
    ("contracts/pytest_plugin.py", '"--orders-contract-integration-id"'): _OLD_FLAG,
    ("contracts/pytest_plugin.py", '"--orders-contract-foreign-integration-id"'): _OLD_FLAG,
    ("contracts/server/_settings.py", '"integrations"'): _OLD_CONFIG_KEY,
    ("contracts/server/_settings.py", '"partner_ids"'): _OLD_CONFIG_KEY,
    ("contracts/server/_settings.py", "integrations"): _OLD_ATTRIBUTE,
    ("contracts/server/_settings.py", "partner_ids"): _OLD_ATTRIBUTE,
    ("contracts/server/_launch.py", "integrations"): _OLD_ATTRIBUTE,
    ("contracts/server/_launch.py", "partner_ids"): _OLD_ATTRIBUTE,
    ("contracts/server/_launch.py", "other_integrations"): _OLD_ATTRIBUTE,
    ("contracts/contract/_load.py", '"sendcloud-orders-v3.yaml"'): (
        "the packaged spec used when no --spec is given (a file name, not knowledge of the dialect)"
    ),
}
# Third-party imports that need no `dependencies` line: (module path, import) → why.
HOSTED_IMPORTS = {
    ("contracts/pytest_plugin.py", "pytest"): "pytest loads this module itself (pytest11 entry point)",
}


@dataclass(frozen=True)
class Offence:
    path: str
    line: int
    kind: str
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} {self.text!r} ({self.why})"


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _python_files(*tops: str) -> list[Path]:
    files: list[Path] = []
    for top in tops:
        files.extend(p for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)
    return sorted(files)


def _token_kind(token: tokenize.TokenInfo, docstring_lines: set[int]) -> str | None:
    if token.type == tokenize.COMMENT:
        return "comment"
    if token.type == tokenize.NAME:
        return "name"
    if token.type == tokenize.STRING or token.type in _FSTRING_TOKENS:
        return "docstring" if token.start[0] in docstring_lines else "string"
    return None


_FSTRING_TOKENS = {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE") if hasattr(tokenize, n)}


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    lines.add(body[0].lineno)
    return lines


def _python_literals(path: Path) -> Iterator[Offence]:
    source = path.read_text(encoding="utf-8")
    docstrings = _docstring_lines(ast.parse(source, str(path)))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind = _token_kind(token, docstrings)
        if kind is not None:
            yield from _match(_relative(path), token.start[0], kind, token.string)


def _template_literals(path: Path) -> Iterator[Offence]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        yield from _match(_relative(path), number, "template", line.strip())


def _match(path: str, line: int, kind: str, text: str) -> Iterator[Offence]:
    if (path, text) in ALLOWED_LITERALS:
        return
    for pattern, why in DIALECT_LITERALS:
        found = pattern.search(text)
        if found:
            shown = text if len(text) <= 90 else f"…{text[max(0, found.start() - 40) : found.end() + 40]}…"
            yield Offence(path, line, kind, shown, why)
            return


def dialect_offences() -> list[Offence]:
    offences = [o for p in _python_files(*SCANNED_FOR_LITERALS) for o in _python_literals(p)]
    templates = sorted(p for top in SCANNED_FOR_LITERALS for p in (ROOT / top).rglob("*.jinja"))
    offences.extend(o for p in templates for o in _template_literals(p))
    return offences


# --- imports -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@functools.cache
def project_modules() -> dict[str, Module]:
    """Every module of the project's importable code, by dotted name."""
    modules = {}
    for base, tops in SOURCE_ROOTS.items():
        folders = (
            [base / t for t in tops]
            if tops
            else sorted(p for p in base.iterdir() if p.is_dir() and (p / "__init__.py").exists())
        )
        for folder in folders:
            for path in sorted(folder.rglob("*.py")):
                if "__pycache__" in path.parts:
                    continue
                parts = list(path.relative_to(base).with_suffix("").parts)
                is_package = parts[-1] == "__init__"
                if is_package:
                    parts.pop()
                modules[".".join(parts)] = Module(".".join(parts), path, is_package)
    return modules


def imports_of(module: Module, known: dict[str, Module]) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) for every import in the module, lazy and TYPE_CHECKING ones included.

    ``from a.b import c`` names ``a.b.c`` when that is a module of the project, else ``a.b``.
    """
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if candidate in known else base), node.lineno


def _top(name: str) -> str:
    return name.split(".")[0]


def _layer(name: str) -> str:
    """The layer a module belongs to: ``contracts.<sub>`` for contracts' subpackages, else its top package."""
    parts = name.split(".")
    if parts[0] == "contracts" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


@functools.cache
def import_graph() -> list[tuple[str, int, str, str]]:
    """(importer file, line, importer module, imported module) for imports of the project's own code."""
    known = project_modules()
    tops = {_top(n) for n in known}
    edges = []
    for module in known.values():
        for target, line in imports_of(module, known):
            if _top(target) in tops:
                edges.append((_relative(module.path), line, module.name, target))
    return edges


def layering_offences() -> list[str]:
    offences: list[str] = []
    for where, line, importer, target in import_graph():
        at = f"{where}:{line}: {importer} imports {target}"
        if importer.startswith("contracts.contract") and not target.startswith("contracts.contract"):
            offences.append(f"{at} (the contract model imports nothing of the project)")
        if _top(importer) == "codegen" and _top(target) != "codegen":
            if target != "contracts.contract":
                offences.append(f"{at} (codegen takes only the public contracts.contract from the project)")
        private = _private_owner(target)
        if private is not None and not (importer == private or importer.startswith(f"{private}.")):
            offences.append(f"{at} (a private module of {private}, which {importer} is not inside)")
    return offences


def _private_owner(name: str) -> str | None:
    """The package that owns the first private part of a dotted name (``a.b._c.d`` → ``a.b``), else None."""
    parts = name.split(".")
    for position, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:position])
    return None


def layer_edges() -> dict[tuple[str, str], list[str]]:
    """(importing layer, imported layer) → where, for imports that cross layers."""
    edges: dict[tuple[str, str], list[str]] = {}
    for where, line, importer, target in import_graph():
        pair = (_layer(importer), _layer(target))
        if pair[0] != pair[1] and target != "contracts":
            edges.setdefault(pair, []).append(f"{where}:{line} ({importer} → {target})")
    return edges


def layer_cycles() -> list[list[str]]:
    """Every elementary cycle between layers, each as [a, b, ..., a] (the layers are few: brute force)."""
    graph: dict[str, set[str]] = {}
    for a, b in layer_edges():
        graph.setdefault(a, set()).add(b)
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start and frozenset(path) not in seen:
                seen.add(frozenset(path))
                cycles.append([*path, start])
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return cycles


# --- the tests ---------------------------------------------------------------------------------------------


def _fail(title: str, lines: list[str]) -> None:
    lines = list(dict.fromkeys(lines))
    print(f"{title}: {len(lines)}", *lines, sep="\n")
    pytest.fail(f"{title}: {len(lines)} (first: {lines[0]}); full list above", pytrace=False)


def test_the_scanners_see_the_code() -> None:
    """The guards below pass vacuously if the walkers find nothing: make sure they find the tree."""
    modules = project_modules()
    assert {"contracts.contract", "codegen", "contracts.server", "orders_contract.cli"} <= set(modules)
    assert any(_top(name) not in {"codegen", "contracts", "orders_contract"} for name in modules)
    assert any(target == "contracts.contract" for *_, target in import_graph())
    assert list(_match("x.py", 1, "string", "/api/v3/orders")), "a dialect literal must be found"
    assert not list(_match("x.py", 1, "string", "/data/{index}")), "a neutral string must pass"
    assert _private_owner("contracts.server._launch") == "contracts.server"
    assert _private_owner("contracts.server.__main__") is None


def test_no_dialect_literal_in_contracts_or_codegen() -> None:
    offences = dialect_offences()
    if offences:
        _fail(
            "dialect literals in contracts/ and codegen/ (state them in the spec's x-contract)",
            [str(o) for o in offences],
        )


def test_allowed_literals_are_still_needed() -> None:
    """An exception that no longer matches anything is stale: remove it."""
    texts = {}
    for path in (ROOT / p for p, _ in ALLOWED_LITERALS):
        if path.suffix == ".py":
            texts[_relative(path)] = path.read_text(encoding="utf-8")
    stale = [f"{p}: {t!r}" for p, t in ALLOWED_LITERALS if t not in texts.get(p, "")]
    assert not stale, stale


def test_import_layering() -> None:
    offences = layering_offences()
    if offences:
        _fail("imports that break the layering of ARCHITECTURE.md", offences)


def test_layers_import_only_what_the_table_allows() -> None:
    """Each cross-layer import must be an arrow of ALLOWED_LAYER_IMPORTS (and of ARCHITECTURE.md)."""
    generated = {_top(n) for n in project_modules()} - {"codegen", "contracts", "orders_contract"}
    offences: list[str] = []
    for (importer, target), where in sorted(layer_edges().items()):
        if importer in generated:
            offences.extend(f"{w}: a generated package imports nothing of the project" for w in where)
        elif importer not in ALLOWED_LAYER_IMPORTS:
            offences.append(
                f"{where[0]}: {importer} is a new layer; add it to ALLOWED_LAYER_IMPORTS and ARCHITECTURE.md"
            )
        elif target not in ALLOWED_LAYER_IMPORTS[importer]:
            offences.extend(f"{w}: {importer} may not import {target}" for w in where)
    if offences:
        _fail("imports against the layer table", offences)


def test_no_import_cycle_between_layers() -> None:
    edges = layer_edges()
    cycles = layer_cycles()
    if cycles:
        lines = []
        for cycle in cycles:
            lines.append(" → ".join(cycle))
            lines.extend(f"    {w}" for a, b in zip(cycle, cycle[1:], strict=False) for w in edges[(a, b)])
        _fail("import cycles between layers", lines)


def test_server_and_clients_do_not_import_each_other_both_ways() -> None:
    edges = layer_edges()
    both = [
        edges.get(("contracts.server", "contracts.clients")),
        edges.get(("contracts.clients", "contracts.server")),
    ]
    if all(both):
        _fail("contracts.server and contracts.clients import each other", [w for e in both for w in e or []])


def _declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normalise(re.split(r"[\s\[<>=!~;(]", line, maxsplit=1)[0]) for line in project["dependencies"]}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_declared() -> None:
    known = project_modules()
    own = {_top(n) for n in known} | {"__future__"}
    declared = _declared_distributions()
    where_from = packages_distributions()
    undeclared = []
    for module in known.values():
        for target, line in imports_of(module, known):
            top = _top(target)
            if not top or top in own or top in sys.stdlib_module_names or top == "_typeshed":
                continue
            if (_relative(module.path), top) in HOSTED_IMPORTS:
                continue
            distributions = {_normalise(d) for d in where_from.get(top, [])}
            if not distributions:
                undeclared.append(
                    f"{_relative(module.path)}:{line}: {top} (no installed distribution provides it)"
                )
            elif not distributions & declared:
                names = ", ".join(sorted(distributions))
                undeclared.append(
                    f"{_relative(module.path)}:{line}: {top} (from {names}, not in dependencies)"
                )
    if undeclared:
        _fail("imports not declared in pyproject.toml [project] dependencies", sorted(set(undeclared)))


def _declared_rule_ids() -> dict[str, str]:
    """Rule id → where, for every ``@rule("id", ...)`` decorator under contracts/ (read with ``ast``)."""
    found = {}
    for path in _python_files("contracts"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if not isinstance(decorator, ast.Call) or not isinstance(
                    decorator.func, ast.Name | ast.Attribute
                ):
                    continue
                name = decorator.func.id if isinstance(decorator.func, ast.Name) else decorator.func.attr
                args = [*decorator.args, *(k.value for k in decorator.keywords if k.arg == "rule_id")]
                if name == "rule" and args and isinstance(args[0], ast.Constant):
                    found[str(args[0].value)] = f"{_relative(path)}:{decorator.lineno}"
    return found


def test_every_declared_rule_runs_exactly_once() -> None:
    """A rule written with ``@rule`` but missing from the run order would be silently dropped."""
    from contracts.rules import RULES  # the public run order (the only import of the project in this file)

    declared = _declared_rule_ids()
    ordered = [r.id for r in RULES]
    assert len(declared) >= 10, "the @rule scan found too few rules: has the decorator changed?"
    missing = [
        f"{rule_id} ({where})" for rule_id, where in sorted(declared.items()) if rule_id not in ordered
    ]
    assert not missing, f"rules declared but not in contracts.rules.RULES: {missing}"
    assert len(ordered) == len(set(ordered)), f"a rule runs twice: {ordered}"
    assert set(ordered) <= set(declared), f"RULES holds ids no @rule declares: {set(ordered) - set(declared)}"
