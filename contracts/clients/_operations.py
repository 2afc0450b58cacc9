"""Client rules for asynchronous contracts: how a client waits for the operation a batch started.

A batch sent to an asynchronous API is answered with an operation (``processing.operation`` of the
contract) that the client polls through the ``operation_status`` operation until its status is terminal.
Two rules follow from that, both judged from what the checks saw of the same client (identity):

- ``client.poll_interval`` — one operation is not polled again sooner than ``min_poll_interval`` seconds
  after the previous poll (a busy loop loads the server and gains nothing: the status changes on the
  server's schedule, not the client's).
- ``client.resubmit_running`` — the same batch (same method, path and JSON body) is not sent again while
  the operation it started is, as far as the client was told, still running, within the contract's
  ``complete_within_seconds``; a client that wants the result polls the operation instead. Sending it again
  after a terminal status, or once that bound has passed, is allowed.

Both are "not applicable" to a synchronous contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from contracts.contract import AsyncOperation, Contract, pointer_get

from ._rules import Finding, check_spacing

__all__ = [
    "DEFAULT_MIN_POLL_INTERVAL",
    "OperationHistory",
    "SeenOperation",
    "accepted_operation",
    "check_poll_interval",
    "check_resubmit",
    "operation_key",
    "reported_status",
]

DEFAULT_MIN_POLL_INTERVAL = 0.25


@dataclass(frozen=True)
class SeenOperation:
    """An operation a batch started, as last seen by the checks."""

    operation_id: str
    status: str | None
    accepted_at: float


class OperationHistory(Protocol):
    """What the checks remember of asynchronous operations (the check store implements it)."""

    def last_poll(self, key: str) -> float | None: ...

    def operation_of_batch(self, batch_key: str) -> SeenOperation | None: ...


def operation_key(identity: str, operation_id: str) -> str:
    """One client's view of one operation (two clients polling the same id are judged apart)."""
    return f"{identity}\x00{operation_id}"


_MAX_ID = 256  # longer "ids" in an answer are not remembered (the store keys on them)


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if len(text) <= _MAX_ID else None


def accepted_operation(contract: Contract, data: Any) -> tuple[str, str | None] | None:
    """``(operation id, status)`` named by a batch's success answer; None when it names no operation."""
    operation = contract.processing.operation
    if operation is None:
        return None
    found = _scalar(pointer_get(data, operation.id, None))
    return None if found is None else (found, _scalar(pointer_get(data, operation.status, None)))


def reported_status(operation: AsyncOperation, data: Any) -> str | None:
    """The status a status answer reports (None when it holds none)."""
    return _scalar(pointer_get(data, operation.status, None))


def check_poll_interval(last_poll: float | None, now: float, min_interval: float) -> list[Finding]:
    return check_spacing(
        "client.poll_interval",
        last_poll,
        now,
        min_interval,
        lambda waited: (
            f"the operation was polled again {waited:.3f} s after the previous poll; wait at "
            f"least {min_interval:g} s between polls (growing the interval while it runs)"
        ),
    )


def check_resubmit(operation: AsyncOperation, seen: SeenOperation | None, now: float) -> list[Finding]:
    if seen is None or seen.status in operation.terminal:
        return []
    age = now - seen.accepted_at
    if not 0 <= age < operation.complete_within_seconds:
        return []
    status = f"last seen {seen.status!r}" if seen.status else "status never seen"
    return [
        Finding(
            "client.resubmit_running",
            f"the same batch was sent again {age:.3f} s after it started operation {seen.operation_id} "
            f"({status}); poll the operation until its status is terminal "
            f"({', '.join(operation.terminal)}) instead of sending the batch again",
            location="timing",
        )
    ]
