"""Run a function in a forked child process (pydantic/httpx/validators already imported: cheap).

Used for two things that must not slow the main pipeline down or hurt it:
* structural validation by openapi-spec-validator (when ``_verify`` cannot prove a spec valid) runs on
  the second core while the parent renders;
* the import check executes the generated package in a separate process, so a generated module that
  misbehaves at import (raises, exits) cannot take the generator down with it.
Where `fork` is unavailable the caller falls back (in-process validation / fresh-interpreter import).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Child", "ChildFailed", "Fed", "fork_available", "receive", "start"]

_TIMEOUT = 30.0  # both jobs take well under a second; a stuck fork (a lock held at fork time) is abandoned
_WAIT = 600.0  # longest a fed child waits for the parent's next message (the parent working on a huge spec)


class ChildFailed(Exception):
    """The child timed out (`kind="timeout"`), died without answering (`"died"`) or raised (`"raised"`;
    `error_type` is the name of the exception's class)."""

    def __init__(self, kind: str, message: str, error_type: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.error_type = error_type


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _run(fn: Callable[..., Any], args: tuple[Any, ...], send: Connection) -> None:
    try:
        send.send(("ok", fn(*args)))
    except BaseException as exc:  # report everything, including SystemExit from imported code
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        send.send(("error", (type(exc).__name__, last)))
    finally:
        send.close()


class Child:
    """A forked child running one function: `result()` waits for its answer, `stop()` abandons it."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_run, args=(fn, args, send), daemon=True)
        self._proc.start()
        send.close()

    def result(self, timeout: float = _TIMEOUT) -> Any:
        try:
            if not self._recv.poll(timeout):
                raise ChildFailed("timeout", f"no answer within {timeout:.0f} s")
            status, value = self._recv.recv()
        except EOFError:
            self._proc.join(5)
            message = f"the child process exited with code {self._proc.exitcode} before answering"
            raise ChildFailed("died", message) from None
        finally:
            self.stop(grace=5)
        if status != "ok":
            error_type, message = value
            raise ChildFailed("raised", str(message), str(error_type))
        return value

    def stop(self, grace: float = 0.0) -> None:
        """Close the pipe; a child still running after ``grace`` seconds is killed (idempotent)."""
        self._recv.close()
        self._proc.join(grace)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()


class Fed:
    """A forked child running ``fn(*args, conn)`` that the parent feeds messages through ``conn`` (the child
    reads them with `receive`): `send(tag, payload)`, then `result()` like a `Child`; `close()` stops it."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        receive_end, self._conn = multiprocessing.get_context("fork").Pipe(duplex=False)
        self._child = Child(fn, (*args, receive_end))
        receive_end.close()

    def send(self, tag: str, payload: Any = None) -> None:
        """Send a message; a child that already died is left to `result()` to report."""
        try:
            self._conn.send((tag, payload))
        except (BrokenPipeError, OSError):
            pass

    def result(self, timeout: float = _TIMEOUT) -> Any:
        return self._child.result(timeout)

    def close(self) -> None:
        self._child.stop()
        self._conn.close()


def receive(conn: Connection, expected: str, wait: float = _WAIT) -> Any:
    """In a child: the parent's next message (tag ``expected``); raise if it does not come within ``wait``
    seconds or the parent is gone."""
    parent, deadline = os.getppid(), time.monotonic() + wait
    while not conn.poll(1.0):
        if os.getppid() != parent or time.monotonic() > deadline:
            raise RuntimeError(f"the generator never sent {expected!r}")
    tag, payload = conn.recv()
    if tag != expected:
        raise RuntimeError(f"expected {expected!r} from the generator, got {tag!r}")
    return payload


def start(fn: Callable[..., Any], *args: Any) -> Child:
    """Start `fn(*args)` in a forked child now."""
    return Child(fn, args)
