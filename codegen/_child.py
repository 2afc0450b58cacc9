"""Run a function in a forked child process (pydantic/httpx/validators already imported: cheap).

Used for two things that must not slow the main pipeline down or hurt it:
* structural validation runs on the second core while the parent renders;
* the import check executes the generated package in a separate process, so a generated module that
  misbehaves at import (raises, exits) cannot take the generator down with it.
Where `fork` is unavailable the caller falls back (in-process validation / fresh-interpreter import).
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["ChildFailed", "fork_available", "start"]

_TIMEOUT = 30.0  # both jobs take well under a second; a stuck fork (a lock held at fork time) is abandoned


class ChildFailed(Exception):
    """The child timed out (`kind="timeout"`), died without answering (`"died"`) or raised (`"raised"`)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _run(fn: Callable[..., Any], args: tuple[Any, ...], send: Connection) -> None:
    try:
        send.send(("ok", fn(*args)))
    except BaseException as exc:  # report everything, including SystemExit from imported code
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        send.send(("error", last))
    finally:
        send.close()


def start(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """Start `fn(*args)` in a forked child now; the returned callable waits for and returns its result."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run, args=(fn, args, send), daemon=True)
    proc.start()
    send.close()

    def result() -> Any:
        try:
            if not recv.poll(_TIMEOUT):
                raise ChildFailed("timeout", f"no answer within {_TIMEOUT:.0f} s")
            status, value = recv.recv()
        except EOFError:
            proc.join(5)
            message = f"the child process exited with code {proc.exitcode} before answering"
            raise ChildFailed("died", message) from None
        finally:
            recv.close()
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        if status != "ok":
            raise ChildFailed("raised", str(value))
        return value

    return result
