"""SQLite storage: items keyed by the contract's key, processing claims, batch operations; WAL mode so several
worker processes share one file.  Every transaction is short and never spans an ``await``.

One ``items`` table: account, the canonical key (JSON of ``key.key_of(item)``), the document, timestamps and
one extracted column per list filter / date member (``_shape.Column``), each filter column indexed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from ._item_counts import ItemCounts
from ._operations_store import OperationsTable
from ._shape import Shape

__all__ = ["ItemRow", "Store", "StoreLayoutError"]

_FIXED = ("account", "key", "dup", "body", "created_at", "modified_at", "visible_at")


class StoreLayoutError(ValueError):
    """The database file was made for another spec's layout."""


class ItemRow(NamedTuple):
    """A stored item as read back (``body`` is empty when only the key was asked for)."""

    id: int
    key: str
    body: bytes
    created_at: str
    modified_at: str
    visible_at: float
    indexed: tuple[Any, ...] = ()  # stored values of the indexed columns an update may change (when read)


def _item_row(row: Sequence[Any]) -> ItemRow:
    """An ``ItemRow`` from the selected columns: the six fixed ones, then the indexed values."""
    return ItemRow(row[0], row[1], row[2], row[3], row[4], row[5], tuple(row[6:]))


_ROW = "id, key, body, created_at, modified_at, visible_at"
_ROWS_PER_STATEMENT = 100
_KEY_ROW = "id, key, x'', created_at, modified_at, visible_at"


def _schema(shape: Shape) -> list[str]:
    extra = "".join(f",\n        {column.name}" for column in shape.columns)  # no type: ints stay ints
    statements = [
        f"""CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        key TEXT NOT NULL,
        dup INTEGER NOT NULL DEFAULT 0,
        body BLOB NOT NULL,
        created_at TEXT NOT NULL,
        modified_at TEXT NOT NULL,
        visible_at REAL NOT NULL{extra}
    )""",
        # One item per key and account; only the duplicate-making faults write dup != 0.
        "CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items(account, key, dup)",
        "CREATE INDEX IF NOT EXISTS items_account_pk ON items(account, id)",
        """CREATE TABLE IF NOT EXISTS processing_claims (
        account TEXT NOT NULL,
        key TEXT NOT NULL,
        token TEXT NOT NULL,
        expires_at REAL NOT NULL,
        PRIMARY KEY (account, key)
    ) WITHOUT ROWID""",
        "CREATE TABLE IF NOT EXISTS layout (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ]
    for column in shape.columns:
        if column.indexed:
            statements.append(
                f"CREATE INDEX IF NOT EXISTS items_{column.name} "
                f"ON items(account, {column.name}{' COLLATE NOCASE' if column.nocase else ''})"
            )
    return statements + OperationsTable.SCHEMA + ItemCounts.SCHEMA


class Store(OperationsTable, ItemCounts):
    """One connection per process (the event loop thread); transactions never span an await."""

    def __init__(
        self,
        path: str,
        shape: Shape,
        *,
        busy_timeout_ms: int = 10_000,
        background_checkpoint: bool = True,
        wal_restart_pages: int = 20_000,
        checkpoint_interval: float = 0.5,
    ) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.shape = shape
        self.columns = tuple(column.name for column in shape.columns)
        self._restart_wanted = False  # set by the checkpoint thread, acted on by the writer
        self.conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
        )
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA cache_size = -32000")  # 32 MB page cache per process
        layout = orjson.dumps(
            {"dialect": shape.contract.dialect, "columns": [c.member + ":" + c.kind for c in shape.columns]}
        ).decode()
        try:
            with self.write() as conn:
                counted = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'item_counts'").fetchone()
                for statement in _schema(shape):
                    conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO layout (name, value) VALUES ('items', ?)", (layout,))
                stored = conn.execute("SELECT value FROM layout WHERE name = 'items'").fetchone()[0]
                if stored == layout:
                    self.start_counts(conn, counted is not None)
        except BaseException:
            self.conn.close()
            raise
        if stored != layout:
            self.conn.close()
            dialect = orjson.loads(stored).get("dialect")
            raise StoreLayoutError(
                f"database {path} holds items of {dialect!r} stored for another layout; "
                "pass another --db (or delete this file)"
            )
        # An update never changes the key, so columns of key members are left alone (their indexes too).
        keyed = set(shape.contract.key.members)
        self._update_positions = tuple(
            len(_FIXED) + i for i, column in enumerate(shape.columns) if column.member not in keyed
        )
        # Setting an indexed column rewrites its index entry even when the value is the same (twice the cost
        # of the update): when the stored values are known and equal, a statement without them is used.
        self._indexed_positions = tuple(
            p for p in self._update_positions if shape.columns[p - len(_FIXED)].indexed
        )
        self._plain_positions = tuple(p for p in self._update_positions if p not in self._indexed_positions)
        extra = "".join(f", {shape.columns[p - len(_FIXED)].name}" for p in self._indexed_positions)
        self._key_row, self._row = _KEY_ROW + extra, _ROW + extra
        self._update_sql = self._update_statement(self._update_positions)
        self._update_plain_sql = self._update_statement(self._plain_positions)
        self._inserts: dict[int, str] = {}
        self._stop = threading.Event()
        self._wal_restart_pages = wal_restart_pages  # ~80 MB: then the WAL is made to start over
        self._checkpointer: threading.Thread | None = None
        if path != ":memory:" and background_checkpoint:
            # Commits never pay for a checkpoint's fsyncs: a background thread checkpoints passively.
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(checkpoint_interval,), name="wal-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self, interval: float) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(interval):
                with contextlib.suppress(sqlite3.Error):
                    _busy, wal_pages, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if wal_pages > self._wal_restart_pages:
                        for _ in range(2):  # each round copies and syncs what the last one left: less
                            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                            self._flush_files()
                        self._restart_wanted = True
        finally:
            conn.close()

    def _flush_files(self) -> None:
        """fdatasync the WAL and the database file here, off the writer's thread: the checkpoints above
        wrote tens of MB that nothing synced yet (synchronous = NORMAL syncs at checkpoints, and a passive
        one that never catches up never syncs the database), and the RESTART would otherwise sync it all
        while the writer waits (40-70 ms)."""
        for name in (f"{self.path}-wal", self.path):
            with contextlib.suppress(OSError):
                fd = os.open(name, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                finally:
                    os.close(fd)

    def _restart_wal(self) -> None:
        """Under a steady load the WAL never starts over by itself: a passive checkpoint never catches up
        with the frames written meanwhile.  A RESTART checkpoint makes it, holding the write lock while it
        copies what is left and syncs the WAL and the database file.  Run by the checkpoint thread, it held
        the writer up for 40-70 ms every second or so under load (the p99 of a fast accept path), mostly
        syncing tens of MB that no passive checkpoint had synced.  So the thread copies and syncs in rounds
        (`_flush_files`) and only asks; the writer restarts the WAL right after its own commit (no other
        writer in this process to wait for) in a few milliseconds (BENCHMARKS.md)."""
        self._restart_wanted = False
        with contextlib.suppress(sqlite3.Error):
            busy, _pages, _done = self.conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            if busy:  # another process's reader or writer: ask again next time
                self._restart_wanted = True

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
        if self._restart_wanted:
            self._restart_wal()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several queries."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    # -- processing claims -------------------------------------------------------------------------

    def claim(self, account: str, keys: Sequence[str], token: str, now: float, ttl: float) -> bool:
        """Claim every key for this request, or none if one is held."""
        sql = (
            "INSERT INTO processing_claims (account, key, token, expires_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account, key) DO UPDATE SET "
            "token = excluded.token, expires_at = excluded.expires_at "
            "WHERE processing_claims.expires_at < ?"
        )
        rows = [(account, key, token, now + ttl, now) for key in keys]
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
    def claims_held(conn: sqlite3.Connection, account: str, keys: Sequence[str], now: float) -> bool:
        """Whether another request holds an unexpired claim on one of these keys (inside a transaction)."""
        held = conn.execute(
            "SELECT key FROM processing_claims WHERE account = ? AND expires_at >= ?", (account, now)
        ).fetchall()
        return bool(held) and not {str(k) for (k,) in held}.isdisjoint(keys)

    @staticmethod
    def release_in(conn: sqlite3.Connection, account: str, keys: Sequence[str], token: str) -> None:
        conn.executemany(
            "DELETE FROM processing_claims WHERE account = ? AND key = ? AND token = ?",
            [(account, key, token) for key in keys],
        )

    def release(self, account: str, keys: Sequence[str], token: str) -> None:
        with self.write() as conn:
            self.release_in(conn, account, keys, token)

    # -- items -------------------------------------------------------------------------------------

    def rows_by_keys(self, conn: sqlite3.Connection, account: str, keys: Sequence[str]) -> list[ItemRow]:
        """Items with these canonical keys, oldest first (uses the key index; no bodies)."""
        unique = sorted(set(keys))
        found: list[ItemRow] = []
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {self._key_row} FROM items WHERE account = ? AND key IN ({marks})"
            found.extend(_item_row(row) for row in conn.execute(sql, (account, *chunk)))
        found.sort(key=lambda row: row.id)
        return found

    def rows_by_ids(
        self, conn: sqlite3.Connection, account: str, ids: Sequence[int], *, with_body: bool = True
    ) -> dict[int, ItemRow]:
        unique = sorted(set(ids))
        found: dict[int, ItemRow] = {}
        columns = self._row if with_body else self._key_row
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {columns} FROM items WHERE account = ? AND id IN ({marks})"
            found.update((row[0], _item_row(row)) for row in conn.execute(sql, (account, *chunk)))
        return found

    def insert_many(self, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> list[int]:
        """Insert in order; ids are consecutive because we hold the write lock and use AUTOINCREMENT.

        One statement per 100 rows (``VALUES (...), (...)``): a third cheaper than a statement per row."""
        if not rows:
            return []
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            conn.execute(self._insert_sql(len(chunk)), [value for row in chunk for value in row])
        last = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
        self.counted_inserts(conn, rows)
        return list(range(last - len(rows) + 1, last + 1))

    def _insert_sql(self, count: int) -> str:
        found = self._inserts.get(count)
        if found is None:
            one = "(" + ",".join("?" * (len(_FIXED) + len(self.columns))) + ")"
            found = self._inserts[count] = (
                f"INSERT INTO items ({', '.join(_FIXED + self.columns)}) VALUES {','.join([one] * count)}"
            )
        return found

    def _update_statement(self, positions: tuple[int, ...]) -> str:
        sets = "".join(
            f", {self.shape.columns[p - len(_FIXED)].name} = v.column{4 + n}" for n, p in enumerate(positions)
        )
        return (
            f"UPDATE items SET body = v.column2, modified_at = v.column3{sets} "
            "FROM (VALUES {values}) AS v WHERE items.id = v.column1"
        )

    def update_many(
        self,
        conn: sqlite3.Connection,
        updates: Sequence[tuple[int, Sequence[Any]]],
        stored: Mapping[int, tuple[Any, ...]] | None = None,
    ) -> None:
        """Rewrite matched items (document, modified_at, extracted columns); key, created_at and visible_at
        stay.  ``updates`` holds (id, the row as :meth:`insert_many` takes it); ``stored``, per id, the
        indexed values read with the row (``ItemRow.indexed``): equal ones are not written again.  One
        statement per 100 rows (``UPDATE ... FROM (VALUES ...)``)."""
        if not updates:
            return
        latest = list({pk: (pk, row) for pk, row in updates}.values())  # one id twice: the last one wins
        if not stored or not self._indexed_positions:
            self._update(conn, latest, self._update_positions, self._update_sql)
            return
        indexed = self._indexed_positions

        def same(pk: int, row: Sequence[Any]) -> bool:
            before = stored.get(pk)
            return before is not None and all(
                type(row[p]) is type(value) and row[p] == value
                for p, value in zip(indexed, before, strict=True)
            )

        unchanged: list[tuple[int, Sequence[Any]]] = []
        changed: list[tuple[int, Sequence[Any]]] = []
        for pk, row in latest:  # each row compared once
            (unchanged if same(pk, row) else changed).append((pk, row))
        self._update(conn, unchanged, self._plain_positions, self._update_plain_sql)
        self._update(conn, changed, self._update_positions, self._update_sql)

    @staticmethod
    def _update(
        conn: sqlite3.Connection,
        updates: list[tuple[int, Sequence[Any]]],
        positions: tuple[int, ...],
        sql: str,
    ) -> None:
        width = 3 + len(positions)
        for start in range(0, len(updates), _ROWS_PER_STATEMENT):
            chunk = updates[start : start + _ROWS_PER_STATEMENT]
            values = [v for pk, row in chunk for v in (pk, row[3], row[5], *[row[p] for p in positions])]
            marks = ",".join(["(" + ",".join("?" * width) + ")"] * len(chunk))
            conn.execute(sql.replace("{values}", marks), values)

    @staticmethod
    def rekey_many(conn: sqlite3.Connection, changes: Sequence[tuple[int, str]]) -> None:
        """Set a new key (only reachable through the ``order_id_change_allowed`` fault)."""
        conn.executemany("UPDATE items SET key = ? WHERE id = ?", [(key, pk) for pk, key in changes])

    def get(self, account: str, pk: int, now: float) -> ItemRow | None:
        row = self.conn.execute(
            f"SELECT {_ROW} FROM items WHERE id = ? AND account = ? AND visible_at <= ?", (pk, account, now)
        ).fetchone()
        return ItemRow(*row) if row else None

    def delete(self, account: str, pk: int, now: float, *, noop: bool = False) -> bool:
        with self.write() as conn:
            if noop:
                sql = "SELECT 1 FROM items WHERE id = ? AND account = ? AND visible_at <= ?"
                return conn.execute(sql, (pk, account, now)).fetchone() is not None
            cur = conn.execute(
                "DELETE FROM items WHERE id = ? AND account = ? AND visible_at <= ?", (pk, account, now)
            )
            if cur.rowcount > 0:
                self.counted_delete(conn, account)
            return cur.rowcount > 0
