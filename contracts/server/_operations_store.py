"""The ``operations`` table of asynchronous batches: stored (and committed) before the answer, claimed by a
worker, finished in the same transaction that stores the items (see ``_operations.py``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any, NamedTuple

__all__ = ["OperationRow", "OperationsTable"]


class OperationRow(NamedTuple):
    id: int
    account: str
    status: str
    pending: int
    attempts: int
    items: bytes
    resources: bytes
    created_at: str
    updated_at: str


_COLUMNS = "id, account, status, pending, attempts, items, resources, created_at, updated_at"


class OperationsTable:
    """Mixed into the store: needs ``conn`` and ``write()``."""

    conn: sqlite3.Connection

    def write(self) -> AbstractContextManager[sqlite3.Connection]:  # pragma: no cover - provided by Store
        raise NotImplementedError

    SCHEMA = [
        """CREATE TABLE IF NOT EXISTS operations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        status TEXT NOT NULL,
        pending INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        items BLOB NOT NULL,
        resources BLOB NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
        "CREATE INDEX IF NOT EXISTS operations_account ON operations(account, id)",
        "CREATE INDEX IF NOT EXISTS operations_pending ON operations(pending, id)",
    ]

    def add_operation(self, account: str, status: str, items: bytes, now: str) -> int:
        """Store a new pending operation and COMMIT it (the caller answers only after this returns)."""
        with self.write() as conn:
            cursor = conn.execute(
                "INSERT INTO operations (account, status, pending, items, resources, created_at, updated_at) "
                "VALUES (?, ?, 1, ?, '[]', ?, ?)",
                (account, status, items, now, now),
            )
            return int(cursor.lastrowid or 0)

    def reset_unfinished(self, running: str, queued: str, *, claimed_before: str | None = None) -> int:
        """Operations a dead process was running go back to the queue; their count.  At start-up, all of
        them; with ``claimed_before`` (an ISO time), only those claimed before it: left by a worker process
        that died while the others went on serving."""
        sql = "UPDATE operations SET status = ? WHERE pending = 1 AND status = ?"
        values: tuple[str, ...] = (queued, running)
        if claimed_before is not None:
            sql += " AND updated_at < ?"
            values += (claimed_before,)
        with self.write() as conn:
            return conn.execute(sql, values).rowcount

    def next_queued(self, queued: str, skip: set[int]) -> Iterator[int]:
        rows = self.conn.execute(
            "SELECT id FROM operations WHERE pending = 1 AND status = ? ORDER BY id LIMIT 64", (queued,)
        ).fetchall()
        return (int(pk) for (pk,) in rows if int(pk) not in skip)

    def claim_operation(self, pk: int, queued: str, running: str, now: str) -> OperationRow | None:
        """Move one queued operation to running (atomically: one worker wins); its row, or None."""
        with self.write() as conn:
            cursor = conn.execute(
                "UPDATE operations SET status = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE id = ? AND pending = 1 AND status = ?",
                (running, now, pk, queued),
            )
            if cursor.rowcount != 1:
                return None
            row = conn.execute(f"SELECT {_COLUMNS} FROM operations WHERE id = ?", (pk,)).fetchone()
        return OperationRow(*row)

    @staticmethod
    def finish_operation(
        conn: sqlite3.Connection,
        pk: int,
        status: str,
        resources: bytes,
        now: str,
        *,
        pending: bool = False,
        run: tuple[str, int] | None = None,
    ) -> bool:
        """Inside the caller's write transaction (the one that stored the items).  ``run``: (running status,
        attempts) of the caller's claim; then only that run may finish it (False: another process took the
        operation over, and the caller must roll back)."""
        sql = "UPDATE operations SET status = ?, pending = ?, resources = ?, updated_at = ? WHERE id = ?"
        values: tuple[object, ...] = (status, int(pending), resources, now, pk)
        if run is not None:
            sql += " AND pending = 1 AND status = ? AND attempts = ?"
            values += run
        return conn.execute(sql, values).rowcount == 1

    @staticmethod
    def requeue_operation(conn: sqlite3.Connection, pk: int, running: str, queued: str) -> None:
        """A run that raised stored nothing: the operation waits for its next try."""
        conn.execute(
            "UPDATE operations SET status = ? WHERE id = ? AND pending = 1 AND status = ?",
            (queued, pk, running),
        )

    def get_operation(self, account: str, pk: int) -> OperationRow | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM operations WHERE id = ? AND account = ?", (pk, account)
        ).fetchone()
        return OperationRow(*row) if row else None

    def list_operations(self, account: str, limit: int, offset: int) -> tuple[int, list[OperationRow]]:
        count = self.conn.execute("SELECT COUNT(*) FROM operations WHERE account = ?", (account,)).fetchone()[
            0
        ]
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM operations WHERE account = ? ORDER BY id DESC LIMIT ? OFFSET ?",
            (account, limit, offset),
        ).fetchall()
        return int(count), [OperationRow(*row) for row in rows]

    def pending_count(self) -> Any:
        return self.conn.execute("SELECT COUNT(*) FROM operations WHERE pending = 1").fetchone()[0]
