"""The one progress display of a run: on a terminal a transient status line ("[5/23] batch.atomic"), which
the final table replaces; elsewhere (CI logs) one character per finished rule, like pytest."""

from __future__ import annotations

from typing import Any

from rich.console import Console

__all__ = ["Progress"]

_MARK = {"passed": ".", "failed": "F", "skipped": "s", "not_applicable": "-"}


class Progress:
    """Called by the engine before (``result`` None) and after each rule; ``close()`` ends the display."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.done = 0
        self.column = 0
        self._status: Any = None

    def __call__(self, rule: Any, result: Any) -> None:
        if result is None:
            label = f"[{self.done + 1}/{self.total}] {rule.id}"
            if self.console.is_terminal:
                if self._status is None:
                    self._status = self.console.status(label, spinner="line")
                    self._status.start()
                else:
                    self._status.update(label)
            return
        self.done += 1
        if not self.console.is_terminal:
            if self.column >= 72:
                self.console.file.write(f" [{self.done - 1}/{self.total}]\n")
                self.column = 0
            self.console.file.write(_MARK.get(result.status, "?"))
            self.console.file.flush()
            self.column += 1

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self.column:
            self.console.file.write(f" [{self.done}/{self.total}]\n")
            self.console.file.flush()
            self.column = 0
