"""Shared SQLite helpers: one way to open a data file safely from several processes, and to migrate it.

Every connection is in WAL mode (readers never block the writer), waits for locks instead of failing
(`busy_timeout`), returns `sqlite3.Row` rows, and runs in autocommit mode so that every write is an
explicit, short `immediate()` transaction.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
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


Migration = str | Callable[[sqlite3.Connection], None]
"""One schema step: SQL statements separated by ';' (no ';' inside comments or strings), or a function for
a step that must look before it changes (a column some development version already added)."""


def migrate(conn: sqlite3.Connection, component: str, steps: Sequence[Migration]) -> int:
    """Bring `component`'s tables (several components share mirror.db) to the latest of `steps`.

    The version reached is kept per component in `schema_versions`. A file written before versions
    existed is at version 0, and step 1 of every component is its original `CREATE ... IF NOT EXISTS`
    schema, so such a file is adopted as it is and only later steps change it. Every step runs in one
    write transaction with the version bump, so two processes opening a file at once apply it once.
    A file from a newer version of this server is refused rather than misread.
    """
    with immediate(conn):
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
    while True:
        with immediate(conn):
            row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
            version = int(row["version"]) if row else 0
            if version > len(steps):
                raise sqlite3.DatabaseError(
                    f"{component} tables are at schema version {version}, newer than this server knows ({len(steps)}): "
                    "upgrade hotelrunner-mcp, or use another data folder"
                )
            if version == len(steps):
                return version
            step = steps[version]
            if callable(step):
                step(conn)
            else:
                for statement in step.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?)"
                " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, version + 1),
            )


def lease_owner() -> str:
    """A lease owner name that says where it runs: host, process id, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}-{uuid.uuid4().hex[:12]}"


def owner_alive(owner: str) -> bool:
    """False only when the owner is a process on this machine that no longer exists (killed, crashed):
    its lease must not block a restarted server until it expires."""
    host, _, rest = owner.rpartition(":")
    if host and host != socket.gethostname():
        return True  # another machine sharing the folder: cannot tell, trust the expiry
    try:
        pid = int(rest.split("-", 1)[0])
    except ValueError:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
