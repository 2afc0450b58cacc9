"""datamodel-code-generator in a forked child that warms up while the parent prepares the spec.

Most of a first `datamodel_code_generator.generate()` call is spent loading the modules and templates it
imports lazily (~230 of ~320 ms on our specs; a second call in the same process takes ~90 ms). The child is
forked when a generation starts and runs one small generation (`WARM_UP`) to load them, on the second core,
while the parent validates, normalises and builds the IR; then it renders the real document. Its answer is
the same text `render_models` returns in the parent (it *is* `render_models`), and whenever the child cannot
answer (no fork, it raised, died or timed out) the parent renders in-process instead: slower, same result,
same exception.
"""

from __future__ import annotations

import contextlib
import pickle
import tempfile
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from . import _child
from ._models import render_models

__all__ = ["WARM_UP", "ModelsChild", "take", "warming_up"]

_ANSWER = 60.0  # then the parent renders them itself (a stuck fork; our largest spec takes < 1 s)

# A small spec using what most specs use, so the lazy imports happen here rather than on the real one.
WARM_UP: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "warm-up", "version": "1"},
    "paths": {},
    "components": {
        "schemas": {
            "Kind": {"type": "string", "enum": ["a", "b"], "description": "A kind."},
            "Item": {
                "type": "object",
                "description": "An item.",
                "required": ["id", "kind"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^[a-z]+$"},
                    "count": {"type": "integer", "minimum": 0, "format": "int32"},
                    "price": {"type": "number", "exclusiveMinimum": 0},
                    "ok": {"type": "boolean", "default": False},
                    "at": {"type": "string", "format": "date-time"},
                    "on": {"type": "string", "format": "date"},
                    "kind": {"$ref": "#/components/schemas/Kind", "default": "a"},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                    "note": {"type": ["string", "null"]},
                    "free": {},
                    "map": {"type": "object", "additionalProperties": {"type": "string"}},
                    "nested": {"type": "object", "properties": {"x": {"type": "string"}}},
                    "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                    "both": {"allOf": [{"$ref": "#/components/schemas/Kind"}], "description": "Both."},
                },
            },
            "Items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        }
    },
}


def _serve(conn: Connection) -> str:
    render_models(WARM_UP, "", format_source=False)
    path = _child.receive(conn, "document")
    document, header = pickle.loads(Path(path).read_bytes())  # noqa: S301 - written by our parent
    return render_models(document, header, format_source=False)


class ModelsChild:
    """`ModelsChild()` forks the child (where fork exists); `render(document, header)` returns the models
    source (unformatted, like ``render_models(..., format_source=False)``); `close()` stops the child."""

    def __init__(self) -> None:
        self._child = _child.Fed(_serve) if _child.fork_available() else None

    def render(self, document: dict[str, Any], header: str) -> str:
        if self._child is not None:
            try:
                with tempfile.TemporaryDirectory(prefix="codegen-models-") as folder:
                    path = Path(folder) / "document.pickle"
                    path.write_bytes(pickle.dumps((document, header), protocol=pickle.HIGHEST_PROTOCOL))
                    # only the file's name goes through the pipe: a message that small never blocks,
                    # even if the child is stuck and never reads (a whole document could fill the pipe)
                    self._child.send("document", str(path))
                    source: str = self._child.result(timeout=_ANSWER)
                    return source
            except Exception:  # noqa: BLE001 - it raised, died, timed out, or the document did not pickle
                pass  # render here: the same answer, or the same exception, first hand
            finally:
                self.close()
        return render_models(document, header, format_source=False)

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None


_early: ModelsChild | None = None


@contextlib.contextmanager
def warming_up() -> Iterator[None]:
    """Fork the child now, for the next generation in this block (the command line wraps reading the spec
    and generating in it, so the warm-up overlaps those imports and checks too); a child no generation
    took is stopped when the block ends (the spec did not load, say)."""
    global _early
    if _early is not None:
        _early.close()
    _early = ModelsChild()
    try:
        yield
    finally:
        left, _early = _early, None
        if left is not None:
            left.close()


def take() -> ModelsChild:
    """The child started by `warming_up`, else a new one."""
    global _early
    child, _early = _early, None
    return child if child is not None else ModelsChild()
