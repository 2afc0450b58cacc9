"""Import check of a generated package in a forked child, started before the package exists.

The child is forked while the parent still generates: it imports what every generated package imports
(pydantic, httpx) and waits. When `models.py` is final the parent says "models" and the child builds the
pydantic model classes (most of an import check) while the parent renders and formats the client; when
the remaining files are written the parent says "go" with the list of modules, and the child imports the
real `__init__` and every other module. Importing compiles each module, so the parent need not compile
them too (a SyntaxError is reported as such). Fail closed: an exception or an early exit in the child is
an error; a child that does not answer in time is replaced by an import in a fresh interpreter (a hung
fork says nothing about the code).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from . import _child

__all__ = ["ImportFailed", "StagedImport", "fresh_interpreter_import"]

_TIMEOUT = 120
_DEPENDENCIES = ("pydantic", "httpx")  # imported by every generated package


class ImportFailed(RuntimeError):
    """The generated package does not import (`syntax_error`: because a module does not compile)."""

    def __init__(self, message: str, *, syntax_error: bool = False) -> None:
        super().__init__(message)
        self.syntax_error = syntax_error


def _warm_up_pydantic() -> None:
    """Build a small model like the generated ones while the parent still generates: pydantic imports
    most of its model-building machinery on the first model (~45 ms), which is then off the critical path."""
    from enum import StrEnum
    from typing import Annotated

    from pydantic import (
        AnyUrl,
        AwareDatetime,
        BaseModel,
        Field,
        RootModel,
        StrictBool,
        StrictFloat,
        StrictInt,
    )

    class Kind(StrEnum):
        a = "a"

    class Part(BaseModel):
        """A part."""

        name: Annotated[str, Field(min_length=1, max_length=9, pattern="^[a-z]+$", description="A name.")]
        count: Annotated[StrictInt | None, Field(ge=0)] = None
        price: Annotated[StrictFloat, Field(gt=0)] | None = None
        ok: StrictBool = False
        at: AwareDatetime | None = None
        url: AnyUrl | None = None
        kind: Kind = Kind.a
        extra: dict[str, Any] | None = None
        tags: Annotated[list[str] | None, Field(max_length=3)] = None

    class Parts(RootModel[list[Part]]):
        root: Annotated[list[Part], Field(max_length=2)]

    Parts.model_validate_json(b'[{"name": "a"}]')


def _staged(root: str, package: str, conn: Connection) -> None:
    sys.dont_write_bytecode = True  # the folder is deleted afterwards
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]  # forked from a process that imported another package of that name
    if "httpx" not in sys.modules:  # httpx's own command line (click, rich, pygments: ~35 ms); httpx
        sys.modules["httpx._main"] = None  # type: ignore[assignment]  # falls back without it, by design
    for dependency in _DEPENDENCIES:
        importlib.import_module(dependency)
    with contextlib.suppress(Exception):  # only a head start: the check itself is the import below
        _warm_up_pydantic()
    sys.path.insert(0, root)
    _child.receive(conn, "models")
    importlib.import_module(package + ".models")  # the expensive part: model classes
    modules: list[str] = _child.receive(conn, "go")
    importlib.reload(importlib.import_module(package))  # now the real __init__ (it was a placeholder)
    for module in modules:
        importlib.import_module(package + module)


def _modules(files: dict[str, str]) -> list[str]:
    """Relative module names of a package's files: "" (the package), ".models", ".client", ..."""
    names = sorted(name.removesuffix(".py") for name in files if name.endswith(".py"))
    return ["" if name == "__init__" else "." + name for name in names]


def fresh_interpreter_import(root: Path, package: str, modules: list[str]) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import importlib; "
        f"[importlib.import_module({package!r} + m) for m in {modules!r}]"
    )
    proc = subprocess.run(  # noqa: S603 - fixed argv, this interpreter
        [sys.executable, "-I", "-c", code, str(root)], capture_output=True, timeout=_TIMEOUT, check=False
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
            f"exit code {proc.returncode}"
        ]
        raise ImportFailed(
            f"generated package {package!r} does not import: {tail[0]}",
            syntax_error=tail[0].startswith("SyntaxError"),
        )


class StagedImport:
    """`StagedImport(package)` forks the child (``start=False``: when `start()` is called);
    `models_ready(source)` lets it import the models;
    `finish(files)` writes the rest and waits for the verdict; `close()` abandons it."""

    def __init__(self, package: str, *, start: bool = True) -> None:
        self._package = package
        self._tmp = tempfile.TemporaryDirectory(prefix="codegen-import-")
        self._root = Path(self._tmp.name)
        (self._root / package).mkdir()
        (self._root / package / "__init__.py").write_text("", encoding="utf-8")  # placeholder
        self._models: str | None = None
        self._child: _child.Fed | None = None
        self._started = False
        if start:
            self.start()

    def start(self) -> None:
        """Fork the child now (once; where fork exists): it prepares while the parent goes on."""
        if not self._started and _child.fork_available():
            self._child = _child.Fed(_staged, str(self._root), self._package)
        self._started = True

    def _write(self, name: str, source: str) -> None:
        # The child may be importing from this folder: each file appears whole (write, then rename).
        target = self._root / self._package / name
        staging = target.with_name(name + ".partial")
        staging.write_text(source, encoding="utf-8")
        os.replace(staging, target)

    def models_ready(self, source: str) -> None:
        """`models.py` is final: the child may build the model classes now."""
        self._models = source
        self._write("models.py", source)
        if self._child is not None:
            self._child.send("models")

    def finish(self, files: dict[str, str]) -> None:
        """`files`: package-relative names → final sources (models.py equal to the one given before)."""
        try:
            if self._models is None:
                self.models_ready(files.get("models.py", ""))
            elif files.get("models.py") != self._models:
                raise ValueError("models.py changed after models_ready()")
            # the real __init__ comes last: the child never sees a package without its modules
            for name in sorted(files, key=lambda n: n == "__init__.py"):
                if name != "models.py":
                    self._write(name, files[name])
            modules = _modules(files)
            if self._child is None:
                fresh_interpreter_import(self._root, self._package, modules)
                return
            self._child.send("go", modules)
            try:
                self._child.result()
            except _child.ChildFailed as exc:
                if exc.kind != "timeout":
                    raise ImportFailed(
                        f"generated package {self._package!r} does not import: {exc}",
                        syntax_error=exc.error_type == "SyntaxError",
                    ) from None
                fresh_interpreter_import(self._root, self._package, modules)
        finally:
            self.close()

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None
        self._tmp.cleanup()
