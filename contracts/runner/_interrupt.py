"""SIGINT / SIGTERM during a run: stop at once, clean up (bounded), report what finished.

``StopSignal.installed()`` routes both signals to the signal; while it is ``armed()`` the first one also
raises ``Interrupted`` in the main thread, which breaks out of a blocking read at once. Whatever code a
rule runs may swallow that exception, so the flag stays set: the ``Api`` refuses every further request
and the engine discards the result of the rule that was running."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

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
    def armed(self) -> Iterator[None]:
        """Within this block a signal raises ``Interrupted`` where the main thread is (and one already
        received raises at once)."""
        if self.is_set():
            raise Interrupted(self.name)
        self._armed = True
        try:
            yield
        finally:
            self._armed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.set(signal.Signals(signum).name)
        if self._armed:
            self._armed = False  # raise once per armed block: cleanup code after it runs undisturbed
            raise Interrupted(self.name)

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        """Handle SIGINT and SIGTERM with this signal (main thread only; restored afterwards)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
        for sig in _SIGNALS:
            signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
