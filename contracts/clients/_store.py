"""Where the checks keep state: violations, scripted answers, recent conflicts and the asynchronous
operations clients started and polled, in one SQLite file.

One small file shared by every worker process (WAL mode, a busy timeout, `BEGIN IMMEDIATE` where a
count is taken), or `:memory:` for a single process.  Each process opens its own connection lazily."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._model import Violation
from ._operations import SeenOperation
from ._scripts import Script

__all__ = ["CheckStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS violations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at REAL NOT NULL,
    rule TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL,
    remaining INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    key TEXT PRIMARY KEY,
    answered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS operations (
    key TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    batch_key TEXT,
    status TEXT,
    accepted_at REAL,
    polled_at REAL
);
CREATE INDEX IF NOT EXISTS operations_by_batch ON operations (batch_key, accepted_at);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked INTEGER NOT NULL
);
INSERT OR IGNORE INTO requests (id, checked) VALUES (1, 0);
"""


class CheckStore:
    """Thread-safe within a process (one lock per connection); safe across processes via SQLite."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            with self._tx():
                pass  # create the schema now, before any worker starts

    @contextmanager
    def _tx(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None or self._pid != os.getpid():
                conn = sqlite3.connect(self.path, timeout=15.0, isolation_level=None, check_same_thread=False)
                if self.path != ":memory:":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA busy_timeout=15000")
                conn.executescript(_SCHEMA)
                self._conn, self._pid = conn, os.getpid()
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # --- violations ---------------------------------------------------------------------------------

    def record(self, violations: Iterable[Violation], *, checked: int = 1) -> None:
        """Store violations, and count `checked` requests as seen (for the report's totals)."""
        rows = [(time.time(), v.rule, json.dumps(v.to_dict(), sort_keys=True)) for v in violations]
        with self._tx(immediate=True) as conn:
            if rows:
                conn.executemany("INSERT INTO violations (recorded_at, rule, data) VALUES (?, ?, ?)", rows)
            if checked:
                conn.execute("UPDATE requests SET checked = checked + ? WHERE id = 1", (checked,))

    def violations(self) -> list[Violation]:
        with self._tx() as conn:
            rows = conn.execute("SELECT data FROM violations ORDER BY id").fetchall()
        return [Violation.from_dict(json.loads(data)) for (data,) in rows]

    def checked_requests(self) -> int:
        with self._tx() as conn:
            row = conn.execute("SELECT checked FROM requests WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def clear(self) -> int:
        """Forget violations, conflicts, operations and the request count (scripts stay); returns the
        number of violations removed."""
        with self._tx(immediate=True) as conn:
            removed = conn.execute("DELETE FROM violations").rowcount
            conn.execute("DELETE FROM conflicts")
            conn.execute("DELETE FROM operations")
            conn.execute("UPDATE requests SET checked = 0 WHERE id = 1")
        return int(removed)

    # --- conflicts (for client.conflict_backoff) -----------------------------------------------------

    def record_conflict(self, key: str, when: float | None = None) -> None:
        with self._tx(immediate=True) as conn:
            conn.execute(
                "INSERT INTO conflicts (key, answered_at) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET answered_at = excluded.answered_at",
                (key, time.time() if when is None else when),
            )

    def last_conflict(self, key: str) -> float | None:
        with self._tx() as conn:
            row = conn.execute("SELECT answered_at FROM conflicts WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else None

    # --- asynchronous operations (client.poll_interval, client.resubmit_running) ---------------------

    def record_accepted(
        self, batch_key: str, key: str, operation_id: str, status: str | None, when: float | None = None
    ) -> None:
        """A batch (``batch_key``) was answered with operation ``key`` in ``status``."""
        with self._tx(immediate=True) as conn:
            conn.execute(
                "INSERT INTO operations (key, operation_id, batch_key, status, accepted_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET batch_key = excluded.batch_key, "
                "status = excluded.status, accepted_at = excluded.accepted_at",
                (key, operation_id, batch_key, status, time.time() if when is None else when),
            )

    def record_poll(self, key: str, operation_id: str, when: float | None = None) -> None:
        """Operation ``key`` was polled (at request time, whatever the answer)."""
        with self._tx(immediate=True) as conn:
            conn.execute(
                "INSERT INTO operations (key, operation_id, polled_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET polled_at = excluded.polled_at",
                (key, operation_id, time.time() if when is None else when),
            )

    def record_status(self, key: str, status: str) -> None:
        """A status answer reported ``status`` for operation ``key``."""
        with self._tx(immediate=True) as conn:
            conn.execute("UPDATE operations SET status = ? WHERE key = ?", (status, key))

    def last_poll(self, key: str) -> float | None:
        with self._tx() as conn:
            row = conn.execute("SELECT polled_at FROM operations WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def operation_of_batch(self, batch_key: str) -> SeenOperation | None:
        """The latest operation the same batch started, as last seen."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT operation_id, status, accepted_at FROM operations WHERE batch_key = ? "
                "ORDER BY accepted_at DESC LIMIT 1",
                (batch_key,),
            ).fetchone()
        return None if row is None else SeenOperation(str(row[0]), row[1], float(row[2]))

    # --- scripted answers ---------------------------------------------------------------------------

    def add_script(self, script: Script) -> int:
        with self._tx(immediate=True) as conn:
            cursor = conn.execute(
                "INSERT INTO scripts (data, remaining) VALUES (?, ?)",
                (json.dumps(script.to_dict(), sort_keys=True), script.count),
            )
        return int(cursor.lastrowid or 0)

    def scripts(self) -> list[tuple[Script, int]]:
        """Active scripts with their remaining counts, oldest first."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT data, remaining FROM scripts WHERE remaining > 0 ORDER BY id"
            ).fetchall()
        return [(_script(data), int(remaining)) for data, remaining in rows]

    def take_script(self, method: str, path: str) -> Script | None:
        """Use up one answer of the oldest active script that matches, atomically across processes."""
        with self._tx(immediate=True) as conn:
            rows = conn.execute("SELECT id, data FROM scripts WHERE remaining > 0 ORDER BY id").fetchall()
            for row_id, data in rows:
                script = _script(data)
                if script.matches(method, path):
                    conn.execute("UPDATE scripts SET remaining = remaining - 1 WHERE id = ?", (row_id,))
                    return script
        return None

    def clear_scripts(self) -> int:
        with self._tx(immediate=True) as conn:
            return int(conn.execute("DELETE FROM scripts").rowcount)


def _script(data: str) -> Script:
    raw = json.loads(data)
    match = raw.pop("match", {}) or {}
    return Script(**raw, method=match.get("method"), path=match.get("path"))
