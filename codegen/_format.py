"""Run ruff (isolated from any project config) on generated source: isort-style imports, then format."""

from __future__ import annotations

import importlib
import subprocess
import tempfile
from pathlib import Path
from typing import Any


def find_ruff_bin() -> str:
    """The ruff binary installed with the `ruff` package of this environment (the module has no stubs)."""
    module: Any = importlib.import_module("ruff.__main__")
    return str(module.find_ruff_bin())


__all__ = ["FormatError", "find_ruff_bin", "ruff_format", "ruff_format_many"]

LINE_LENGTH = "110"
_COMMON = ["--isolated", "--line-length", LINE_LENGTH, "--target-version", "py311"]
_FIX = ["check", "--fix", "--select", "I,F401,UP", "--exit-zero", "--quiet"]
_FORMAT = ["format", "--quiet"]


class FormatError(Exception):
    """ruff rejected generated source (a generator bug: the source does not parse)."""


def _run(args: list[str], source: str, filename: str) -> str:
    proc = subprocess.run(  # noqa: S603 - fixed argv, ruff from this environment
        [find_ruff_bin(), *args, *_COMMON, "--stdin-filename", filename, "-"],
        input=source.encode("utf-8"),
        capture_output=True,
        check=False,
        timeout=60,
    )
    if proc.returncode not in (0, 1):
        raise FormatError(f"ruff failed on {filename}: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout.decode("utf-8")


def ruff_format(source: str, filename: str) -> str:
    """Sort imports, drop unused imports, modernise annotations, then `ruff format`."""
    return _run(_FORMAT, _run(_FIX, source, filename), filename)


def ruff_format_many(sources: dict[str, str]) -> dict[str, str]:
    """`ruff_format` for several files with two ruff runs in total (file names must be plain names)."""
    with tempfile.TemporaryDirectory(prefix="codegen-ruff-") as tmp:
        root = Path(tmp)
        for name, source in sources.items():
            (root / name).write_text(source, encoding="utf-8")
        for args in (_FIX, _FORMAT):
            proc = subprocess.run(  # noqa: S603 - fixed argv, ruff from this environment
                [find_ruff_bin(), *args, *_COMMON, "."],
                cwd=root,
                capture_output=True,
                check=False,
                timeout=60,
            )
            if proc.returncode != 0:
                detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
                raise FormatError(f"ruff {args[0]} failed: {detail}")
        return {name: (root / name).read_text(encoding="utf-8") for name in sources}
