"""What makes an unfiltered listing cheap at a million items: a per-account item count kept in the write
transactions, and the time until which some item may still be invisible (``visible_at`` in the future, only
written with a processing delay).  Until then a listing filters on ``visible_at`` and counts rows; after it,
it reads the count and lets the ``(account, id)`` index alone serve the page."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["ItemCounts"]

_HIDDEN = "hidden_until"  # a row of the ``layout`` table


class ItemCounts:
    """Mixed into the store: needs ``conn``; every method runs inside the caller's transaction."""

    conn: sqlite3.Connection

    SCHEMA = [
        "CREATE TABLE IF NOT EXISTS item_counts (account TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    ]

    @staticmethod
    def start_counts(conn: sqlite3.Connection, counted: bool) -> None:
        """At open (in the schema transaction): ``counted`` says whether ``item_counts`` existed before; a
        file written before it existed is counted once, and may hold items invisible for up to an hour."""
        if not counted:
            conn.execute("DELETE FROM item_counts")
            conn.execute("INSERT INTO item_counts SELECT account, COUNT(*) FROM items GROUP BY account")
            old = conn.execute("SELECT 1 FROM items LIMIT 1").fetchone() is not None
            conn.execute(
                "INSERT OR REPLACE INTO layout (name, value) VALUES (?, ?)",
                (_HIDDEN, repr(time.time() + 3600.0 if old else 0.0)),
            )

    @staticmethod
    def counted_inserts(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
        """After inserting ``rows`` (account first, ``visible_at`` seventh, as ``insert_many`` takes them)."""
        per_account: dict[str, int] = {}
        for row in rows:
            per_account[row[0]] = per_account.get(row[0], 0) + 1
        conn.executemany(
            "INSERT INTO item_counts (account, n) VALUES (?, ?) "
            "ON CONFLICT (account) DO UPDATE SET n = n + excluded.n",
            list(per_account.items()),
        )
        latest = max(row[6] for row in rows)
        if latest > time.time():
            conn.execute(
                "UPDATE layout SET value = ? WHERE name = ? AND CAST(value AS REAL) < ?",
                (repr(latest), _HIDDEN, latest),
            )

    @staticmethod
    def counted_delete(conn: sqlite3.Connection, account: str) -> None:
        conn.execute("UPDATE item_counts SET n = n - 1 WHERE account = ?", (account,))

    def all_visible(self, now: float) -> bool:
        """Whether no item can still be invisible at ``now`` (a listing may then skip ``visible_at``)."""
        row = self.conn.execute("SELECT value FROM layout WHERE name = ?", (_HIDDEN,)).fetchone()
        return row is not None and float(row[0]) < now

    def item_count(self, conn: sqlite3.Connection, account: str) -> int:
        row = conn.execute("SELECT n FROM item_counts WHERE account = ?", (account,)).fetchone()
        return int(row[0]) if row else 0
