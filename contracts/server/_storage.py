"""SQLite storage: orders, processing claims; WAL mode so several worker processes can share one file.

All state lives in the database.  Every transaction is short and never spans an ``await``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

__all__ = ["OrderRow", "Store", "StoredOrder"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS orders (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        integration_id INTEGER NOT NULL,
        order_id TEXT NOT NULL,
        order_number TEXT NOT NULL,
        status TEXT NOT NULL,
        shop_created_at TEXT NOT NULL,
        shop_created_date TEXT NOT NULL,
        shop_updated_at TEXT NOT NULL,
        shop_updated_date TEXT NOT NULL,
        body BLOB NOT NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL,
        visible_at REAL NOT NULL
    )""",
    # Not UNIQUE on purpose: uniqueness of the upsert key is the server's job (a write transaction that
    # looks up and inserts under one lock), so the faults `no_upsert` / `no_conflict_detection` can break it.
    "CREATE INDEX IF NOT EXISTS orders_upsert_key ON orders(account, integration_id, order_id)",
    "CREATE INDEX IF NOT EXISTS orders_account_pk ON orders(account, id)",  # default -pk listing in order
    "CREATE INDEX IF NOT EXISTS orders_order_id ON orders(account, order_id COLLATE NOCASE)",
    "CREATE INDEX IF NOT EXISTS orders_order_number ON orders(account, order_number COLLATE NOCASE)",
    """CREATE TABLE IF NOT EXISTS processing_claims (
        account TEXT NOT NULL,
        integration_id INTEGER NOT NULL,
        order_id TEXT NOT NULL,
        token TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (account, integration_id, order_id)
    ) WITHOUT ROWID""",
)

_COLUMNS = (
    "account, integration_id, order_id, order_number, status, shop_created_at, shop_created_date, "
    "shop_updated_at, shop_updated_date, body, created_at, modified_at, visible_at"
)


class StoredOrder(NamedTuple):
    """One order as written: indexed columns plus the JSON document (``body``, without server fields).

    A named tuple in column order, so it is its own parameter row for ``executemany``.
    """

    account: str
    integration_id: int
    order_id: str
    order_number: str
    status: str
    shop_created_at: str
    shop_created_date: str
    shop_updated_at: str
    shop_updated_date: str
    body: bytes
    created_at: str
    modified_at: str
    visible_at: float


class OrderRow(NamedTuple):
    """An existing order as read back for upserts and single-order reads."""

    id: int
    integration_id: int
    order_id: str
    body: bytes
    created_at: str
    modified_at: str
    visible_at: float


_ROW_SELECT = "SELECT id, integration_id, order_id, body, created_at, modified_at, visible_at FROM orders"
# For upsert matching: the same columns without the (large) document.
_KEY_SELECT = "SELECT id, integration_id, order_id, x'', created_at, modified_at, visible_at FROM orders"


class Store:
    """One connection per process (the event loop thread); transactions never span an await."""

    def __init__(
        self, path: str, *, busy_timeout_ms: int = 10_000, background_checkpoint: bool = True
    ) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
        )
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA cache_size = -32000")  # 32 MB page cache per process
        with self.write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if path != ":memory:" and background_checkpoint:
            # Commits never pay for a checkpoint's fsyncs: a background thread checkpoints passively.
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="wal-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self, interval: float = 0.5) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(interval):
                with contextlib.suppress(sqlite3.Error):
                    _busy, wal_pages, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if wal_pages > 20_000:  # ~80 MB: make the WAL start over (waits briefly for writers)
                        conn.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(5)
        with contextlib.suppress(sqlite3.Error):
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several queries."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    # -- processing claims -------------------------------------------------------------------------

    def claim(
        self, account: str, keys: Sequence[tuple[int, str]], token: str, now: float, ttl: float
    ) -> bool:
        """Claim every (integration_id, order_id) key for this request, or none if one is held."""
        sql = (
            "INSERT INTO processing_claims (account, integration_id, order_id, token, expires_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, integration_id, order_id) DO UPDATE SET "
            "token = excluded.token, expires_at = excluded.expires_at WHERE processing_claims.expires_at < ?"
        )
        rows = [(account, integration, order_id, token, now + ttl, now) for integration, order_id in keys]
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            before = self.conn.total_changes
            self.conn.executemany(sql, rows)
            claimed = self.conn.total_changes - before == len(rows)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT" if claimed else "ROLLBACK")
        return claimed

    @staticmethod
    def claims_held(
        conn: sqlite3.Connection, account: str, keys: Sequence[tuple[int, str]], now: float
    ) -> bool:
        """Whether another request holds an unexpired claim on one of these keys (inside a transaction)."""
        held = conn.execute(
            "SELECT integration_id, order_id FROM processing_claims WHERE account = ? AND expires_at >= ?",
            (account, now),
        ).fetchall()
        return bool(held) and not {(int(i), str(o)) for i, o in held}.isdisjoint(keys)

    @staticmethod
    def release_in(
        conn: sqlite3.Connection, account: str, keys: Sequence[tuple[int, str]], token: str
    ) -> None:
        conn.executemany(
            "DELETE FROM processing_claims"
            " WHERE account = ? AND integration_id = ? AND order_id = ? AND token = ?",
            [(account, integration, order_id, token) for integration, order_id in keys],
        )

    def release(self, account: str, keys: Sequence[tuple[int, str]], token: str) -> None:
        with self.write() as conn:
            self.release_in(conn, account, keys, token)

    # -- orders ------------------------------------------------------------------------------------

    @staticmethod
    def rows_by_keys(
        conn: sqlite3.Connection, account: str, keys: Sequence[tuple[int, str]]
    ) -> list[OrderRow]:
        """Orders with these (integration_id, order_id) keys, oldest first (uses the upsert-key index)."""
        by_integration: dict[int, set[str]] = {}
        for integration, order_id in keys:
            by_integration.setdefault(integration, set()).add(order_id)
        found: list[OrderRow] = []
        for integration, order_ids in sorted(by_integration.items()):
            unique = sorted(order_ids)
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"{_KEY_SELECT} WHERE account = ? AND integration_id = ? AND order_id IN ({marks})"
                found.extend(OrderRow(*row) for row in conn.execute(sql, (account, integration, *chunk)))
        found.sort(key=lambda row: row.id)
        return found

    @staticmethod
    def rows_by_order_ids(conn: sqlite3.Connection, account: str, order_ids: Sequence[str]) -> list[OrderRow]:
        """Orders with these order ids in any integration (slow path, only for a fault)."""
        unique = sorted(set(order_ids))
        found: list[OrderRow] = []
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"{_KEY_SELECT} WHERE account = ? AND order_id IN ({marks}) ORDER BY id"
            found.extend(OrderRow(*row) for row in conn.execute(sql, (account, *chunk)))
        return found

    @staticmethod
    def rows_by_ids(
        conn: sqlite3.Connection, account: str, ids: Sequence[int], *, with_body: bool = True
    ) -> dict[int, OrderRow]:
        unique = sorted(set(ids))
        found: dict[int, OrderRow] = {}
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"{_ROW_SELECT if with_body else _KEY_SELECT} WHERE account = ? AND id IN ({marks})"
            found.update((row[0], OrderRow(*row)) for row in conn.execute(sql, (account, *chunk)))
        return found

    @staticmethod
    def insert_many(conn: sqlite3.Connection, orders: Sequence[StoredOrder]) -> list[int]:
        """Insert in order; ids are consecutive because we hold the write lock and use AUTOINCREMENT."""
        if not orders:
            return []
        marks = ",".join("?" * 13)
        conn.executemany(f"INSERT INTO orders ({_COLUMNS}) VALUES ({marks})", orders)
        last = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
        return list(range(last - len(orders) + 1, last + 1))

    @staticmethod
    def update_many(conn: sqlite3.Connection, updates: Sequence[tuple[int, StoredOrder]]) -> None:
        """Rewrite matched orders.  The key columns are left alone (so their indexes are not touched);
        created_at and visible_at are kept.  A changed order_id goes through :meth:`rename_many`."""
        if not updates:
            return
        conn.executemany(
            "UPDATE orders SET order_number = ?, status = ?, shop_created_at = ?, shop_created_date = ?, "
            "shop_updated_at = ?, shop_updated_date = ?, body = ?, modified_at = ? WHERE id = ?",
            [
                (
                    o.order_number,
                    o.status,
                    o.shop_created_at,
                    o.shop_created_date,
                    o.shop_updated_at,
                    o.shop_updated_date,
                    o.body,
                    o.modified_at,
                    pk,
                )
                for pk, o in updates
            ],  # fmt: skip
        )

    @staticmethod
    def rename_many(conn: sqlite3.Connection, renames: Sequence[tuple[int, str]]) -> None:
        """Set a new order_id (only reachable through the ``order_id_change_allowed`` fault)."""
        conn.executemany(
            "UPDATE orders SET order_id = ? WHERE id = ?", [(order_id, pk) for pk, order_id in renames]
        )

    def get(self, account: str, order_pk: int, now: float) -> OrderRow | None:
        row = self.conn.execute(
            f"{_ROW_SELECT} WHERE id = ? AND account = ? AND visible_at <= ?", (order_pk, account, now)
        ).fetchone()
        return OrderRow(*row) if row else None

    def delete(self, account: str, order_pk: int, now: float, *, noop: bool = False) -> bool:
        with self.write() as conn:
            if noop:
                sql = "SELECT 1 FROM orders WHERE id = ? AND account = ? AND visible_at <= ?"
                return conn.execute(sql, (order_pk, account, now)).fetchone() is not None
            cur = conn.execute(
                "DELETE FROM orders WHERE id = ? AND account = ? AND visible_at <= ?",
                (order_pk, account, now),
            )
            return cur.rowcount > 0
