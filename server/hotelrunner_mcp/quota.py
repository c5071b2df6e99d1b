"""QuotaLimiter: HotelRunner's 5-per-minute and 250-per-day quota as rolling windows in SQLite.

Every server process using the same property shares one ledger file, so their requests add up. A request
is counted (a row inserted) before it is sent, inside a `BEGIN IMMEDIATE` transaction, so two processes
can never both take the last slot.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from typing import TypeVar

import anyio
import anyio.to_thread

from .errors import QuotaExhausted, QuotaWaitTooLong, RecordingUnavailable
from .sqlite_db import connect, immediate

_T = TypeVar("_T")

QUOTA_DB_NAME = "quota.db"
_SLACK = 0.01  # seconds added to a wait so the freed slot has really left the window

_SCHEMA = """
CREATE TABLE IF NOT EXISTS quota_requests (key TEXT NOT NULL, at REAL NOT NULL, label TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS quota_requests_key_at ON quota_requests (key, at);
CREATE TABLE IF NOT EXISTS quota_blocks (key TEXT PRIMARY KEY, until REAL NOT NULL);
"""


def quota_db_path(data_dir: Path) -> Path:
    """Where the quota ledger lives inside the data directory."""
    return data_dir / QUOTA_DB_NAME


def quota_key(hr_id: str | None, base_url: str) -> str:
    """A stable, non-secret id for one property at one HotelRunner host: /api/v1 and /api/v2 spellings of
    the same host share one quota, as HotelRunner counts it per app and property."""
    host = (urlsplit(base_url).hostname or base_url).lower()
    return hashlib.sha256(f"{hr_id or ''}\n{host}".encode()).hexdigest()[:16]


def iso_utc(timestamp: float | None) -> str | None:
    """Epoch seconds -> ISO-8601 UTC with a Z, to the second."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class QuotaTicket:
    """One counted request."""

    at: float  # epoch seconds at which it was counted
    label: str
    waited_seconds: float
    used_last_minute: int
    used_today: int
    left_today: int


@dataclass(frozen=True)
class QuotaStatus:
    """The ledger as it stands; reading it counts nothing."""

    used_last_minute: int
    used_today: int
    per_minute: int
    per_day: int
    left_today: int
    next_free_at: str | None  # when the next request may go, if it may not go now
    blocked_until: str | None  # set after a 429 from HotelRunner


@dataclass(frozen=True)
class _Window:
    """What one look at the ledger found (all times epoch seconds)."""

    now: float
    minute: list[float]
    day_used: int
    day_oldest: float | None
    blocked_until: float | None


class QuotaLimiter:
    """Rolling-window limiter shared by every process that opens the same SQLite file with the same key."""

    def __init__(
        self,
        db_path: Path,
        *,
        key: str,
        per_minute: int,
        per_day: int,
        minute_seconds: float = 60.0,
        day_seconds: float = 86400.0,
        max_wait_seconds: float = 70.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if per_minute < 1 or per_day < 1:
            raise ValueError("per_minute and per_day must be at least 1")
        self.db_path = Path(db_path)
        self.key = key
        self.per_minute = per_minute
        self.per_day = per_day
        self.minute_seconds = minute_seconds
        self.day_seconds = day_seconds
        self.max_wait_seconds = max_wait_seconds
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one thread at a time on the connection

    # ------------------------------------------------------------------ public API

    async def acquire(
        self,
        label: str,
        on_wait: Callable[[float], Awaitable[None]] | None = None,
        max_wait_seconds: float | None = None,
    ) -> QuotaTicket:
        """Count one request and return its ticket; wait (bounded) while the minute window is full.

        Raises QuotaExhausted at once when the day window is full (nothing counted), QuotaWaitTooLong
        when the slot would come later than `max_wait_seconds` (this call's, else the limiter's),
        RecordingUnavailable if the ledger fails.
        """
        patience = self.max_wait_seconds if max_wait_seconds is None else min(max_wait_seconds, self.max_wait_seconds)
        started = self._clock()
        announced_until = 0.0
        while True:
            ticket, wait = await anyio.to_thread.run_sync(self._try_take, label, started)
            if ticket is not None:
                return ticket
            now = self._clock()
            if now + wait - started > patience:
                raise QuotaWaitTooLong(self._too_long_message(now + wait, patience))
            if on_wait is not None and now + wait > announced_until + 1.0:
                announced_until = now + wait
                await on_wait(wait)
            await anyio.sleep(wait + _SLACK)

    def note_rate_limited(self, retry_after: float | None) -> None:
        """HotelRunner answered 429: send nothing before `retry_after` seconds (default: one minute window)."""
        delay = retry_after if retry_after and retry_after > 0 else self.minute_seconds
        until = self._clock() + delay

        def block(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO quota_blocks (key, until) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET until = max(until, excluded.until)",
                (self.key, until),
            )

        self._write(block)

    def status(self) -> QuotaStatus:
        """Current use of both windows and when the next request may go."""
        with self._locked() as conn:
            window = self._look(conn, self._clock())
        return QuotaStatus(
            used_last_minute=len(window.minute),
            used_today=window.day_used,
            per_minute=self.per_minute,
            per_day=self.per_day,
            left_today=max(0, self.per_day - window.day_used),
            next_free_at=iso_utc(self._next_free(window)),
            blocked_until=iso_utc(window.blocked_until),
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ------------------------------------------------------------------ ledger access

    def _try_take(self, label: str, started: float) -> tuple[QuotaTicket | None, float]:
        """One transaction: count the request and return a ticket, or return how long to wait."""

        def take(conn: sqlite3.Connection) -> tuple[QuotaTicket | None, float]:
            now = self._clock()
            conn.execute("DELETE FROM quota_requests WHERE key = ? AND at <= ?", (self.key, now - self.day_seconds))
            window = self._look(conn, now)
            if window.day_used >= self.per_day:
                raise self._exhausted(window)
            free_at = self._next_free(window)
            if free_at is not None and free_at > now:
                return None, free_at - now
            conn.execute("INSERT INTO quota_requests (key, at, label) VALUES (?, ?, ?)", (self.key, now, label))
            used_today = window.day_used + 1
            ticket = QuotaTicket(
                at=now,
                label=label,
                waited_seconds=max(0.0, now - started),
                used_last_minute=len(window.minute) + 1,
                used_today=used_today,
                left_today=self.per_day - used_today,
            )
            return ticket, 0.0

        return self._write(take)

    def _look(self, conn: sqlite3.Connection, now: float) -> _Window:
        minute = [
            row[0]
            for row in conn.execute(
                "SELECT at FROM quota_requests WHERE key = ? AND at > ? ORDER BY at",
                (self.key, now - self.minute_seconds),
            )
        ]
        day_used, day_oldest = conn.execute(
            "SELECT count(*), min(at) FROM quota_requests WHERE key = ? AND at > ?", (self.key, now - self.day_seconds)
        ).fetchone()
        row = conn.execute("SELECT until FROM quota_blocks WHERE key = ?", (self.key,)).fetchone()
        blocked = row[0] if row and row[0] > now else None
        return _Window(now=now, minute=minute, day_used=day_used, day_oldest=day_oldest, blocked_until=blocked)

    def _next_free(self, window: _Window) -> float | None:
        """When a request may next be counted, or None if it may be counted now."""
        candidates = []
        if window.day_used >= self.per_day and window.day_oldest is not None:
            candidates.append(window.day_oldest + self.day_seconds)
        if len(window.minute) >= self.per_minute:
            candidates.append(window.minute[len(window.minute) - self.per_minute] + self.minute_seconds)
        if window.blocked_until is not None:
            candidates.append(window.blocked_until)
        return max(candidates) if candidates else None

    def _write(self, body: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `body` in one BEGIN IMMEDIATE transaction (rolled back if it raises)."""
        with self._locked() as conn, immediate(conn):
            return body(conn)

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """Hold the thread lock and give the (lazily opened) connection; SQLite errors -> RecordingUnavailable."""
        with self._lock:
            try:
                yield self._connection()
            except sqlite3.Error as exc:
                raise self._unavailable(exc) from None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                conn = connect(self.db_path)
                conn.executescript(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise self._unavailable(exc) from None
            self._conn = conn
        return self._conn

    # ------------------------------------------------------------------ messages

    def _exhausted(self, window: _Window) -> QuotaExhausted:
        next_free = iso_utc(self._next_free(window))
        return QuotaExhausted(
            f"Daily HotelRunner quota used up: {window.day_used} of {self.per_day} requests in the last 24 hours. "
            f"Nothing was sent. The next request can go at {next_free}; until then work from local data "
            "(the reservation mirror, the calendar ledger) or wait for pushes.",
            used=window.day_used,
            limit=self.per_day,
            next_free_at=next_free,
        )

    def _too_long_message(self, free_at: float, patience: float) -> str:
        return (
            f"The HotelRunner per-minute quota ({self.per_minute} requests) or a slow-down asked by HotelRunner "
            f"keeps the next slot until {iso_utc(free_at)}, longer than the {patience:g} s this call "
            "may wait. Nothing was sent; try again after that time."
        )

    def _unavailable(self, exc: BaseException) -> RecordingUnavailable:
        return RecordingUnavailable(
            f"The quota ledger {self.db_path} cannot be used ({type(exc).__name__}: {exc}), so the request was "
            "refused rather than sent uncounted. Check that HOTELRUNNER_DATA_DIR is writable and the disk not full."
        )
