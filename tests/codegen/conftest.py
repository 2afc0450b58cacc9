"""Shared fixtures for the codegen tests: generated trees and ONE mypy --strict run over all of them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codegen_support import (
    GOLDEN_DIR,
    GOLDEN_SPECS,
    KARRIO_PACKAGE,
    OUR_PACKAGE,
    REPO,
    VENDOR_SPEC,
    mypy_strict,
)

from codegen import build_tree, load_spec, write_tree

# karrio_batches is importable through the editable install only once it is reinstalled: make sure of it.
if str(REPO / "generated") not in sys.path:
    sys.path.append(str(REPO / "generated"))


@pytest.fixture(scope="session")
def golden_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden fixture specs generated afresh into a temporary folder."""
    out = tmp_path_factory.mktemp("golden")
    for package, spec in GOLDEN_SPECS.items():
        write_tree(build_tree(load_spec(spec), package), out)
    return out


@pytest.fixture(scope="session")
def vendor_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The upstream vendor spec generated as `vendor_orders` (skipped when the file is absent)."""
    if not VENDOR_SPEC.is_file():
        pytest.skip(f"vendor spec not found at {VENDOR_SPEC}")
    out = tmp_path_factory.mktemp("vendor")
    write_tree(build_tree(load_spec(VENDOR_SPEC), "vendor_orders"), out)
    return out


@pytest.fixture(scope="session")
def vendor_package(vendor_tmp: Path) -> Iterator[Any]:
    """The generated `vendor_orders` package, imported (its folder is on sys.path for the session)."""
    sys.path.insert(0, str(vendor_tmp))
    try:
        yield importlib.import_module("vendor_orders")
    finally:
        sys.path.remove(str(vendor_tmp))


@pytest.fixture(scope="session")
def mypy_results(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, str]:
    """ONE mypy --strict run over every generated tree; map tree name → its error lines ('' = clean).

    Trees: our committed packages, the committed golden trees (the golden test proves they equal a fresh
    generation) and, when the vendor spec is present, a fresh `vendor_orders` generation.
    """
    dirs = {"sendcloud_orders": OUR_PACKAGE, "karrio_batches": KARRIO_PACKAGE}
    dirs.update({f"golden/{name}": GOLDEN_DIR / name for name in GOLDEN_SPECS})
    if VENDOR_SPEC.is_file():
        dirs["vendor_orders"] = request.getfixturevalue("vendor_tmp") / "vendor_orders"
    cache = tmp_path_factory.mktemp("mypy-cache")
    proc = mypy_strict(dirs.values(), cache, timeout=300)
    attributed = [
        line for line in proc.stdout.splitlines() if any(line.startswith(str(d)) for d in dirs.values())
    ]
    results = {
        name: "\n".join(line for line in attributed if line.startswith(str(d))) for name, d in dirs.items()
    }
    if proc.returncode != 0 and not attributed:  # mypy itself failed: every tree fails, with the output
        results = dict.fromkeys(dirs, proc.stdout + proc.stderr)
    return results
