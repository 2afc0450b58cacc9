"""Paths and names shared by the codegen tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "specs"
GOLDEN_DIR = REPO / "tests" / "golden"
GOLDEN_SPECS = {
    "messy_shop": FIXTURES / "messy_shop.yaml",
    "vendor_constructs": FIXTURES / "vendor_constructs.yaml",
}
GOLDEN_COMMAND = "make golden"
REFERENCE = REPO.parent / "shared" / "reference"
VENDOR_SPEC = REFERENCE / "sendcloud-v3-orders-openapi.yml"
SENDCLOUD_SPECS_DIR = REFERENCE / "sendcloud-specs"
# All 20 real Sendcloud specs only when asked (slow): ORDERS_CONTRACT_VENDOR_SPECS=all.
ALL_VENDOR_SPECS = os.environ.get("ORDERS_CONTRACT_VENDOR_SPECS", "") == "all"
# Every file of a generated package, sorted.
PACKAGE_FILES = [
    "__init__.py",
    "_calls.py",
    "_errors.py",
    "_runtime.py",
    "client.py",
    "models.py",
    "py.typed",
]
OUR_PACKAGE = REPO / "generated" / "sendcloud_orders"
KARRIO_PACKAGE = REPO / "generated" / "karrio_batches"
# Our own specs and the package each one generates (`make generate` / `generate --check` cover them all).
OUR_SPECS = {
    "sendcloud_orders": REPO / "spec" / "sendcloud-orders-v3.yaml",
    "karrio_batches": REPO / "spec" / "karrio-batch-orders.yaml",
}


def codegen_app() -> typer.Typer:
    """A typer app with only the codegen commands (`generate`, `lint`), registered as orders-contract does."""
    from codegen.cli import register

    app = typer.Typer()
    register(app)
    return app


def mypy_strict(
    paths: Iterable[Path], workdir: Path, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """One `mypy --strict` run over generated packages (cache and working directory in ``workdir``)."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(workdir)]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=workdir,
    )
