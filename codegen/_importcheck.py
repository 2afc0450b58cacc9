"""Import check of a generated package in a forked child, started as soon as `models.py` is final.

Building the pydantic model classes is most of an import check, so the child imports `models.py` while
the parent still renders and formats the client; when the remaining files are ready the parent sends
"go" and the child imports the real `__init__`, `client` and `_runtime`. Fail closed: an exception or
an early exit in the child is an error; a child that does not answer in time is replaced by an import in
a fresh interpreter (a hung fork says nothing about the code).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

from . import _child

__all__ = ["ImportFailed", "StagedImport", "fresh_interpreter_import"]

_MODULES = ("", ".models", ".client", "._runtime", "._errors", "._calls")
_TIMEOUT = 120


class ImportFailed(RuntimeError):
    """The generated package does not import."""


def _staged(root: str, package: str, go: Connection) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]  # forked from a process that imported another package of that name
    sys.path.insert(0, root)
    importlib.import_module(package + ".models")  # the expensive part: model classes
    if not go.poll(60) or go.recv() != "go":
        return
    importlib.reload(importlib.import_module(package))  # now the real __init__ (it was a placeholder)
    for module in _MODULES:
        importlib.import_module(package + module)


def fresh_interpreter_import(root: Path, package: str) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import importlib; "
        f"[importlib.import_module({package!r} + m) for m in {_MODULES!r}]"
    )
    proc = subprocess.run(  # noqa: S603 - fixed argv, this interpreter
        [sys.executable, "-I", "-c", code, str(root)], capture_output=True, timeout=_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
            f"exit code {proc.returncode}"
        ]
        raise ImportFailed(f"generated package {package!r} does not import: {tail[0]}")


class StagedImport:
    """`StagedImport(package, models_source)` starts the child; `finish(files)` waits for the verdict."""

    def __init__(self, package: str, models_source: str) -> None:
        self._package = package
        self._tmp = tempfile.TemporaryDirectory(prefix="codegen-import-")
        self._root = Path(self._tmp.name)
        (self._root / package).mkdir()
        (self._root / package / "__init__.py").write_text("", encoding="utf-8")
        (self._root / package / "models.py").write_text(models_source, encoding="utf-8")
        self._go: Connection | None = None
        self._waiter = None
        if _child.fork_available():
            receive, self._go = multiprocessing.get_context("fork").Pipe(duplex=False)
            self._waiter = _child.start(_staged, str(self._root), package, receive)
            receive.close()

    def finish(self, files: dict[str, str]) -> None:
        """`files`: package-relative names → final sources (models.py must equal the one given before)."""
        try:
            # The child may already be importing from this folder: each file appears whole (write, then
            # rename) and the real __init__ comes last, so the child never reads a half-written module.
            for name in sorted(files, key=lambda n: n == "__init__.py"):
                target = self._root / self._package / name
                staging = target.with_name(name + ".partial")
                staging.write_text(files[name], encoding="utf-8")
                os.replace(staging, target)
            if self._waiter is None or self._go is None:
                fresh_interpreter_import(self._root, self._package)
                return
            try:
                self._go.send("go")
            except (BrokenPipeError, OSError):
                pass  # the child already died: its waiter reports how
            try:
                self._waiter()
            except _child.ChildFailed as exc:
                if exc.kind != "timeout":
                    raise ImportFailed(
                        f"generated package {self._package!r} does not import: {exc}"
                    ) from None
                fresh_interpreter_import(self._root, self._package)
        finally:
            self.close()

    def close(self) -> None:
        if self._go is not None:
            self._go.close()
            self._go = None
        self._tmp.cleanup()
