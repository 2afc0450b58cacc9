"""The store's background checkpoints under a steady stream of writes: the WAL file stays bounded (a passive
checkpoint alone never catches up with the frames written meanwhile, so the WAL is made to start over) and no
committed row is lost on the way."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from contracts.contract import load_contract
from contracts.server._shape import shape_of
from contracts.server._storage import Store

_BATCH, _ROW_BYTES = 50, 2000


def _write_batch(store: Store, written: int) -> int:
    """One transaction of _BATCH new rows of _ROW_BYTES each; the number of rows written so far."""
    filler = ("",) * len(store.columns)
    rows = [
        ("demo", f'["k{written + n}",1]', 0, b"x" * _ROW_BYTES, "t", "t", 0.0, *filler) for n in range(_BATCH)
    ]
    with store.write() as conn:
        store.insert_many(conn, rows)
    return written + len(rows)


def _query(path: Path, sql: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_the_wal_stays_bounded_under_steady_writes_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite3"
    shape = shape_of(load_contract("sendcloud-orders-v3.yaml"))
    store = Store(str(path), shape, wal_restart_pages=250, checkpoint_interval=0.02)  # ~1 MB
    written, largest, total_bytes = 0, 0, 0
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and total_bytes < 20_000_000:
            written = _write_batch(store, written)
            total_bytes += _BATCH * _ROW_BYTES
            largest = max(largest, Path(f"{path}-wal").stat().st_size)
            time.sleep(0.002)  # requests come and go: the checkpoint thread gets its turns
    finally:
        store.close()
    assert total_bytes >= 20_000_000, "the writes did not finish in time"
    assert largest < 10_000_000, f"the WAL grew to {largest} bytes for {total_bytes} bytes written"
    assert _query(path, "SELECT COUNT(*) FROM items") == written
    assert _query(path, "PRAGMA integrity_check") == "ok"


def test_the_wal_is_restarted_by_the_writer_after_its_commit_not_under_it(tmp_path: Path) -> None:
    """The checkpoint thread only copies, syncs and asks; the RESTART (which holds the write lock) runs on
    the writer's own thread between two transactions, so no write waits for another thread's RESTART."""
    restarts: list[tuple[str, bool]] = []

    class Watched(Store):
        def _restart_wal(self) -> None:
            restarts.append((threading.current_thread().name, self.conn.in_transaction))
            super()._restart_wal()

    path = tmp_path / "wal.sqlite3"
    shape = shape_of(load_contract("sendcloud-orders-v3.yaml"))
    store = Watched(str(path), shape, wal_restart_pages=100, checkpoint_interval=0.01)
    written = 0
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(restarts) < 3:
            written = _write_batch(store, written)
            time.sleep(0.002)
    finally:
        store.close()
    assert len(restarts) >= 3, "the WAL was never restarted"
    assert set(restarts) == {(threading.main_thread().name, False)}
    assert _query(path, "SELECT COUNT(*) FROM items") == written
