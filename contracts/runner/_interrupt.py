"""SIGINT / SIGTERM during a run: stop at once, clean up (bounded), report what finished.

``StopSignal.installed()`` routes both signals to the signal; while it is ``armed()`` each one also raises
``Interrupted`` in the main thread, which breaks out of a blocking read at once. Code a rule runs may
swallow that exception (a gc callback, a broad ``except``), so the flag stays set: the ``Api`` refuses
every further request and the engine discards the result of the rule that was running."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from ..rules import Interrupted

__all__ = ["StopSignal"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """A run's stop flag, set by a signal (or by code); counts signals so a second one aborts cleanup."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.count = 0
        self.name = ""
        self._armed = False

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self, name: str = "stop") -> None:
        self.count += 1
        self.name = self.name or name
        self.event.set()

    @contextmanager
    def armed(self, *, again: bool = False) -> Iterator[None]:
        """Within this block a signal raises ``Interrupted`` where the main thread is; one already
        received raises at once, unless ``again`` (cleanup after an interrupt: only a further signal)."""
        if self.is_set() and not again:
            raise Interrupted(self.name)
        self._armed = True
        try:
            yield
        finally:
            self._armed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.set(signal.Signals(signum).name)
        if self._armed:
            raise Interrupted(self.name)

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        """Handle SIGINT and SIGTERM with this signal (main thread only; restored afterwards)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        # a signal the caller ignores stays ignored (`nohup`, `cmd &` in a script ignore SIGINT)
        previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
        previous = {sig: old for sig, old in previous.items() if old is not signal.SIG_IGN}
        for sig, old in previous.items():
            if getattr(old, "received", 0):  # the console script's handler saw one before this run
                self.set(signal.Signals(sig).name)
            signal.signal(sig, self._handle)
        unraisable = sys.unraisablehook
        sys.unraisablehook = _quiet(unraisable)
        try:
            yield self
        finally:
            sys.unraisablehook = unraisable
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _quiet(hook: Any) -> Any:
    """An unraisable-exception hook that says nothing of ``Interrupted``: raised where Python cannot raise
    (a destructor, a gc callback), it is dropped, and the flag it leaves stops the run anyway."""

    def quiet(info: Any) -> None:
        if not isinstance(info.exc_value, Interrupted):
            hook(info)

    return quiet
