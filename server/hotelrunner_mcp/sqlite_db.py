"""Shared SQLite helpers: one way to open `<data_dir>/mirror.db` safely from several processes.

Every connection is in WAL mode (readers never block the writer), waits for locks instead of failing
(`busy_timeout`), returns `sqlite3.Row` rows, and runs in autocommit mode so that every write is an
explicit, short `immediate()` transaction.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000
MIRROR_DB_NAME = "mirror.db"


def mirror_db_path(data_dir: Path) -> Path:
    """Where the reservation mirror, the sync state and the calendar ledger live."""
    return data_dir / MIRROR_DB_NAME


def connect(db_path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """Open (creating folders and file if needed) a WAL-mode connection ready for concurrent use.

    The connection is in autocommit mode: group writes with `immediate(conn)`. It may be used from
    another thread than the one that opened it, but never from two threads at once.
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not db_path.exists():  # guests' names and e-mails live here: readable by this user only
        os.close(os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600))
    conn = sqlite3.connect(
        str(db_path),
        timeout=busy_timeout_ms / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    _enable_wal(conn, busy_timeout_ms)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _enable_wal(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Switch to WAL; another process switching at the same moment can briefly hold the lock."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the write lock up front (`BEGIN IMMEDIATE`).

    Commits on success, rolls back on any exception. Keep the body short: other processes wait
    for it. Taking the lock first means read-then-write logic inside sees no concurrent writer.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
