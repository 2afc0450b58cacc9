"""Installed, not editable: the wheel works in a fresh venv outside the repository.

The project is built into a wheel from a clean copy of the source (no stale ``build/``), installed with its
dependencies into a new venv in a temporary folder, and run from another temporary folder with an
environment that holds nothing of this checkout (``PYTHONSAFEPATH=1``, no ``PYTHONPATH``, no user site), so
a spec, template or module that is only found through the repository fails here. Slow (about a minute, most
of it the dependency install), so it is marked ``installed``; ``make test`` and CI run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.installed

ROOT = Path(__file__).resolve().parents[1]
# Left out of the copy the wheel is built from: top-level folders that are not part of the distribution or
# are written by tools, and tool caches at any depth.
_NOT_SOURCE_TOP = {".git", ".venv", "build", "dist", "tests", "bench", "data", "reports", ".orders-contract"}
_NOT_SOURCE_ANYWHERE = shutil.ignore_patterns(
    "__pycache__", "*.egg-info", ".*_cache", ".hypothesis", ".schemathesis", "*.sqlite3", "*.db"
)


def _not_source(folder: str, names: list[str]) -> set[str]:
    ignored = set(_NOT_SOURCE_ANYWHERE(folder, names))
    if Path(folder) == ROOT:
        ignored |= _NOT_SOURCE_TOP & set(names)
    return ignored


BUILD_SECONDS = 300
INSTALL_SECONDS = 600
RUN_SECONDS = 600


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    work: Path
    env: dict[str, str]
    timings: dict[str, float]

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(
        self, *args: str | Path, extra_env: dict[str, str] | None = None, timeout: float = RUN_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **(extra_env or {})}
        command = [str(a) for a in args]
        return subprocess.run(
            command, cwd=self.work, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def python(self, code: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(self.bin / "python", "-c", code, extra_env=extra_env)

    def python_json(self, code: str) -> Any:
        """What ``code`` prints as JSON, run by the venv's interpreter (which must exit 0)."""
        done = self.python(code)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _timed(timings: dict[str, float], what: str, command: list[str], cwd: Path, timeout: float) -> None:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    timings[what] = round(time.perf_counter() - started, 1)
    assert done.returncode == 0, f"{what} failed ({' '.join(command)}):\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("installed")
    assert not base.resolve().is_relative_to(ROOT), "the venv must live outside the repository"
    source, wheels, venv, work, home = (base / n for n in ("src", "wheels", "venv", "work", "home"))
    shutil.copytree(ROOT, source, symlinks=True, ignore=_not_source)
    work.mkdir()
    home.mkdir()
    timings: dict[str, float] = {}
    pip = [sys.executable, "-m", "pip"]
    _timed(
        timings,
        "wheel",
        [*pip, "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        base,
        BUILD_SECONDS,
    )
    (wheel,) = wheels.glob("orders_contract-*.whl")
    _timed(timings, "venv", [sys.executable, "-m", "venv", "--without-pip", str(venv)], base, BUILD_SECONDS)
    install = [*pip, "--python", str(venv / "bin" / "python"), "install", "-q", str(wheel)]
    _timed(timings, "install", install, base, INSTALL_SECONDS)
    print(f"installed in a fresh venv: {timings}")
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONSAFEPATH": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "ORDERS_CONTRACT_PROFILE": "ci",
        "NO_COLOR": "1",
    }
    return Installed(wheel, venv, work, env, timings)


def _packaged_specs(installed: Installed) -> dict[str, str]:
    """The specs the installed package ships, by file name → path, as importlib.resources finds them."""
    code = (
        "import json, importlib.resources as r\n"
        "folder = r.files('contracts.contract').joinpath('specs')\n"
        "print(json.dumps({e.name: str(e) for e in folder.iterdir() if e.name.endswith(('.yaml', '.yml'))}))"
    )
    specs: dict[str, str] = installed.python_json(code)
    return specs


def test_the_wheel_ships_the_specs_and_the_templates(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "contracts/contract/specs/x-contract.schema.json" in names
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("contracts/contract/specs/")}
    in_repo = {p.name for p in (ROOT / "spec").iterdir() if p.suffix in {".yaml", ".yml", ".json"}}
    assert shipped == in_repo, f"spec/ and the wheel differ: {sorted(shipped ^ in_repo)}"
    assert any(n.startswith("codegen/templates/") and n.endswith(".jinja") for n in names)
    assert not any(n.startswith(("tests/", "spec/", "bench/")) for n in names), "only packages belong in it"


def test_the_installed_package_comes_from_the_venv_only(installed: Installed) -> None:
    code = (
        "import json, sys, contracts, codegen, orders_contract, contracts.contract\n"
        "print(json.dumps({'path': sys.path, 'files': [m.__file__ for m in "
        "(contracts, codegen, orders_contract, contracts.contract)]}))"
    )
    seen = installed.python_json(code)
    repo = str(ROOT)
    assert not [p for p in seen["path"] if p and p.startswith(repo)], seen["path"]
    assert all(f.startswith(str(installed.venv)) for f in seen["files"]), seen["files"]


def test_packaged_specs_are_found_through_the_package(installed: Installed) -> None:
    specs = _packaged_specs(installed)
    assert specs, "no spec found with importlib.resources in the installed package"
    assert all(p.startswith(str(installed.venv)) for p in specs.values()), specs
    for name, path in specs.items():
        done = installed.run("orders-contract", "lint", path)
        assert done.returncode == 0, f"lint {name}: {done.stdout}\n{done.stderr}"


def test_conformance_passes_against_the_embedded_server(installed: Installed) -> None:
    """The main job, as a new user runs it right after `pip install`: no arguments but a fast profile."""
    started = time.perf_counter()
    done = installed.run("orders-contract", "conformance", "--profile", "ci", "--seed", "1")
    elapsed = time.perf_counter() - started
    print(f"conformance in the installed venv: {elapsed:.1f} s")
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert "Traceback" not in done.stderr


def test_generate_from_each_packaged_spec_and_import_the_result(installed: Installed, tmp_path: Path) -> None:
    specs = _packaged_specs(installed)
    for name, path in specs.items():
        out = tmp_path / name.rsplit(".", 1)[0]
        done = installed.run("orders-contract", "generate", "--spec", path, "--out", out)
        assert done.returncode == 0, f"generate {name}: {done.stdout}\n{done.stderr}"
        packages = sorted(p.parent.name for p in out.glob("*/__init__.py"))
        assert len(packages) == 1, f"generate {name} wrote {packages}"
        code = (
            f"import {packages[0]} as p, inspect\n"
            "clients = [n for n, o in vars(p).items() if inspect.isclass(o) and n.endswith('Client')]\n"
            "assert clients, sorted(vars(p))\n"
            "print(p.__file__)"
        )
        imported = installed.python(code, extra_env={"PYTHONPATH": str(out)})
        assert imported.returncode == 0, f"import {packages[0]}: {imported.stderr}"
        assert imported.stdout.strip().startswith(str(out)), imported.stdout
