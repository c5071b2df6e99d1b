"""QuotaLimiter: HotelRunner's 5-per-minute and 250-per-day quota as rolling windows in SQLite.

Every server process using the same property shares one ledger file, so their requests add up. A request
is counted (a row inserted) before it is sent, inside a `BEGIN IMMEDIATE` transaction, so two processes
can never both take the last slot.

HotelRunner counts a request when it *arrives*, and we cannot see that moment: it lies somewhere between
when the request left (its row's `at`) and when its answer came back (`done_at`, which the Gate records);
while it is still in flight, up to `at` + the HTTP timeout (`latest_at`), the honest bound. So a request
holds its slot from when it is counted until its latest possible arrival + one window + a small margin:
a new request may go only if fewer than `limit` earlier requests could still share a rolling window with
it at arrival, whatever the arrival lag. Waiting processes wake with a little jitter, and a 429 widens the
margin for a while (besides the block HotelRunner's Retry-After asks for).

Size: the counting rule, its waits, its repairs and its migrations share one ledger and one transaction
discipline; split, two halves could disagree on what a request costs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import random
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import anyio

from hotelrunner_mcp.errors import QuotaExhausted, QuotaWaitTooLong, RecordingUnavailable
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.storage.sqlite import Migration, connect, immediate, lease_owner, migrate
from hotelrunner_mcp.times import iso_z_from_epoch

_T = TypeVar("_T")
log = logging.getLogger(__name__)

QUOTA_DB_NAME = "quota.db"
DEFAULT_REQUEST_TIMEOUT_SECONDS = 20.0  # Settings.timeout_seconds' default
MAX_RETRY_AFTER_SECONDS = 3600.0  # no Retry-After blocks longer; a still-limited upstream just says 429 again
_SLACK = 0.01  # seconds added to a wait so the freed slot has really left the window
_MARGIN_FRACTION = 1 / 20  # default safety margin: a twentieth of the window ...
_MARGIN_MAX = 0.5  # ... at most half a second (it covers clock steps, not network lag)
_WIDEN_MAX_FRACTION = 1 / 4  # a 429 may widen the margin up to a quarter of the window
_WIDEN_WINDOWS = 60.0  # a widened margin lasts this many windows after the last 429 (an hour)
_SPREAD_MAX = 0.05  # each waiter wakes up to this much later than the slot frees, at random

# Added to quota_requests of older ledgers (NULL in old rows: they count as in flight up to at + timeout).
_NEW_COLUMNS = ("latest_at", "done_at")


def quota_db_path(data_dir: Path) -> Path:
    """Where the quota ledger lives inside the data directory."""
    return data_dir / QUOTA_DB_NAME


def quota_key(hr_id: str | None, base_url: str, salt: str | None = None) -> str:
    """A stable id for one property at one HotelRunner host: /api/v1 and /api/v2 spellings of the same host
    share one quota, as HotelRunner counts it per app and property. Keyed with the data folder's secret
    salt: an hr_id is a short number, and a plain hash of it would give it away in seconds."""
    host = (urlsplit(base_url).hostname or base_url).lower()
    text = f"{hr_id or ''}\n{host}".encode()
    if salt is None:  # the key before salts (kept to adopt its rows)
        return hashlib.sha256(text).hexdigest()[:16]
    return hmac.new(salt.encode(), text, hashlib.sha256).hexdigest()[:16]


iso_utc = iso_z_from_epoch  # the name the rest of the package knows


@dataclass(frozen=True)
class QuotaTicket:
    """One counted request. Hand it back to `finish` when its answer came (or it failed)."""

    at: float  # epoch seconds at which it was counted
    label: str
    waited_seconds: float
    used_last_minute: int
    used_today: int
    left_today: int
    row_id: int | None = None  # its ledger row


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

    @property
    def left_this_minute(self) -> int:
        """Requests that may go now without waiting for the minute window (none while paused after a 429)."""
        return 0 if self.blocked_until else max(self.per_minute - self.used_last_minute, 0)


@dataclass(frozen=True)
class _Span:
    """When one counted request may have arrived upstream: between `at` and `end`.

    `end` is its completion time, or while in flight its bound (`at` + timeout); `soonest_end` is what
    `end` would be if it finished right now, so waits computed from it are never too long."""

    at: float
    end: float
    soonest_end: float


@dataclass(frozen=True)
class _Window:
    """What one look at the ledger found (all times epoch seconds)."""

    now: float
    margin: float
    minute: list[_Span]  # requests that could still share a minute window with one sent now
    day_used: int  # ... a day window
    day_frees_at: float | None  # when the day window has a slot again, if it is full
    blocked_until: float | None
    per_minute: int  # the strictest limits of every process counting on this ledger today
    per_day: int


class QuotaLimiter:
    """Rolling-window limiter shared by every process that opens the same SQLite file with the same key.

    `request_timeout_seconds` is the HTTP timeout of the client (how long a request may be in flight);
    `margin_seconds` the fixed safety margin (default: a twentieth of the window, at most 0.5 s).
    `clock`, `sleep` and `rng` are injectable for tests.
    """

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
        request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS,
        margin_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if per_minute < 1 or per_day < 1:
            raise ValueError("per_minute and per_day must be at least 1")
        if not (minute_seconds > 0 and day_seconds > 0 and request_timeout_seconds > 0):
            raise ValueError("window lengths and the request timeout must be positive")
        self.db_path = Path(db_path)
        self.key = key
        self.per_minute = per_minute
        self.per_day = per_day
        self.minute_seconds = minute_seconds
        self.day_seconds = day_seconds
        self.max_wait_seconds = max_wait_seconds
        self.request_timeout_seconds = request_timeout_seconds
        default_margin = min(_MARGIN_MAX, minute_seconds * _MARGIN_FRACTION)
        self.margin_seconds = default_margin if margin_seconds is None else max(0.0, margin_seconds)
        self.max_retry_after_seconds = max(minute_seconds, min(MAX_RETRY_AFTER_SECONDS, day_seconds))
        self._widen_max = minute_seconds * _WIDEN_MAX_FRACTION
        self._spread = min(_SPREAD_MAX, minute_seconds / 40)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one thread at a time on the connection
        self._process = lease_owner()  # this limiter's row in quota_limits

    # ------------------------------------------------------------------ public API

    def now(self) -> float:
        """The limiter's clock (epoch seconds)."""
        return self._clock()

    async def acquire(
        self,
        label: str,
        on_wait: Callable[[float], Awaitable[None]] | None = None,
        max_wait_seconds: float | None = None,
        *,
        notice_every: float | None = None,
    ) -> QuotaTicket:
        """Count one request and return its ticket; wait (bounded) while the minute window is full.

        `on_wait(seconds_left)` is called when a wait starts or grows, and with `notice_every` also at
        least that often while it lasts (clients that reset their timeout on progress keep listening).
        Raises QuotaExhausted at once when the day window is full (nothing counted), QuotaWaitTooLong
        when the slot would come later than `max_wait_seconds` (this call's, else the limiter's),
        RecordingUnavailable if the ledger fails.
        """
        patience = self.max_wait_seconds if max_wait_seconds is None else min(max_wait_seconds, self.max_wait_seconds)
        started = self._clock()
        announced_until = 0.0
        told_at: float | None = None
        while True:
            ticket, wait = await off_loop(self._try_take, label, started)
            if ticket is not None:
                return ticket
            now = self._clock()
            if now + wait - started > patience:
                raise QuotaWaitTooLong(self._too_long_message(now + wait, patience))
            due = notice_every is not None and told_at is not None and now - told_at >= notice_every - _SLACK
            if on_wait is not None and (now + wait > announced_until + 1.0 or due):
                announced_until = max(announced_until, now + wait)
                told_at = now
                await on_wait(wait)
            # The jitter keeps processes that wait for the same slot from all asking at the same instant.
            pause = wait + _SLACK + self._rng.uniform(0.0, self._spread)
            await self._sleep(pause if notice_every is None else min(pause, notice_every))

    async def finish(self, ticket: QuotaTicket) -> None:
        """The ticket's request is over (answered, or failed): it arrived upstream, if at all, by now.

        Until this is called the request counts as possibly arriving up to its send time + the request
        timeout. Raises RecordingUnavailable if the ledger fails (the request then keeps that bound)."""
        if ticket.row_id is None:
            return
        done_at = self._clock()  # taken before the thread hop: the answer is here now

        def record(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE quota_requests SET done_at = ? WHERE rowid = ? AND key = ? AND done_at IS NULL",
                (max(done_at, ticket.at), ticket.row_id, self.key),
            )

        await off_loop(self._write, record)

    def bounded_retry_after(self, retry_after: float | None) -> float:
        """Seconds to pause after a 429: Retry-After when it is a sane positive number (at most
        `max_retry_after_seconds`, so `inf` or 1e300 block an hour, not forever), else one window."""
        if retry_after is None or math.isnan(retry_after) or retry_after <= 0:
            return self.minute_seconds
        return min(retry_after, self.max_retry_after_seconds)

    def note_rate_limited(self, retry_after: float | None) -> None:
        """HotelRunner answered 429: we were too eager. Send nothing before `retry_after` seconds (bounded;
        default one window) and widen the safety margin for a while (doubling on each 429, capped)."""
        now = self._clock()
        until = now + self.bounded_retry_after(retry_after)
        widen_until = now + self.minute_seconds * _WIDEN_WINDOWS

        def block(conn: sqlite3.Connection) -> float:
            self._repair(conn, now)
            conn.execute(
                "INSERT INTO quota_blocks (key, until) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET until = max(until, excluded.until)",
                (self.key, until),
            )
            row = conn.execute("SELECT seconds, until FROM quota_margins WHERE key = ?", (self.key,)).fetchone()
            current = row[0] if row and row[1] is not None and row[1] > now and row[0] is not None else 0.0
            widened = min(self._widen_max, max(self.margin_seconds, 2 * current, _SLACK))
            conn.execute(
                "INSERT INTO quota_margins (key, seconds, until) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET seconds = excluded.seconds, until = excluded.until",
                (self.key, widened, widen_until),
            )
            return widened

        widened = self._write(block)
        log.warning(
            "HotelRunner answered 429: pausing until %s, quota margin widened to %.2f s",
            iso_utc(until),
            self.margin_seconds + widened,
        )

    def status(self) -> QuotaStatus:
        """Current use of both windows and when the next request may go."""
        with self._locked() as conn:
            window = self._look(conn, self._clock())
        return QuotaStatus(
            used_last_minute=len(window.minute),
            used_today=window.day_used,
            per_minute=window.per_minute,
            per_day=window.per_day,
            left_today=max(0, window.per_day - window.day_used),
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
            self._repair(conn, now)
            conn.execute(
                "DELETE FROM quota_requests WHERE key = ? AND at <= ? AND coalesce(done_at, latest_at, at + ?) <= ?",
                (
                    self.key,
                    now - self.day_seconds,
                    self.request_timeout_seconds,
                    now - self.day_seconds - self._widen_max - self.margin_seconds,
                ),
            )
            conn.execute(
                "INSERT INTO quota_limits (key, process, per_minute, per_day, seen_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (key, process) DO UPDATE SET per_minute = excluded.per_minute,"
                " per_day = excluded.per_day, seen_at = excluded.seen_at",
                (self.key, self._process, self.per_minute, self.per_day, now),
            )
            conn.execute("DELETE FROM quota_limits WHERE key = ? AND seen_at <= ?", (self.key, now - self.day_seconds))
            window = self._look(conn, now)
            if window.day_used >= window.per_day:
                raise self._exhausted(window)
            free_at = self._next_free(window)
            if free_at is not None:
                return None, max(free_at - now, _SLACK)
            cursor = conn.execute(
                "INSERT INTO quota_requests (key, at, label, latest_at) VALUES (?, ?, ?, ?)",
                (self.key, now, label, now + self.request_timeout_seconds),
            )
            used_today = window.day_used + 1
            ticket = QuotaTicket(
                at=now,
                label=label,
                waited_seconds=max(0.0, now - started),
                used_last_minute=len(window.minute) + 1,
                used_today=used_today,
                left_today=window.per_day - used_today,
                row_id=cursor.lastrowid,
            )
            return ticket, 0.0

        return self._write(take)

    def _repair(self, conn: sqlite3.Connection, now: float) -> None:
        """Pull back times no honest run can have written (an old version's `Retry-After: inf`, a clock
        that was set back): they would otherwise block every request for days. Rows keep counting."""
        cap = now + self.max_retry_after_seconds
        ahead = now + 1.0
        # Another process may use a longer timeout than ours: only an in-flight bound beyond any sane
        # timeout is pulled back (to its send + our timeout).
        flight_cap = max(self.request_timeout_seconds, self.max_retry_after_seconds)
        widen_cap = now + self.minute_seconds * _WIDEN_WINDOWS
        (broken,) = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM quota_requests WHERE key = ? AND "
            "(at > ? OR done_at > ? OR latest_at > at + ?)) "
            "OR EXISTS (SELECT 1 FROM quota_blocks WHERE key = ? AND until > ?) "
            "OR EXISTS (SELECT 1 FROM quota_margins WHERE key = ? AND until > ?)",
            (self.key, ahead, ahead, flight_cap, self.key, cap, self.key, widen_cap),
        ).fetchone()
        if not broken:
            return
        log.warning("quota ledger %s: times far in the future pulled back to now", self.db_path)
        conn.execute("UPDATE quota_blocks SET until = ? WHERE key = ? AND until > ?", (cap, self.key, cap))
        conn.execute("UPDATE quota_margins SET until = ? WHERE key = ? AND until > ?", (widen_cap, self.key, widen_cap))
        conn.execute(
            "UPDATE quota_requests SET latest_at = latest_at - at + ? WHERE key = ? AND at > ?", (now, self.key, ahead)
        )
        conn.execute("UPDATE quota_requests SET at = ? WHERE key = ? AND at > ?", (now, self.key, ahead))
        conn.execute("UPDATE quota_requests SET done_at = ? WHERE key = ? AND done_at > ?", (now, self.key, ahead))
        conn.execute(
            "UPDATE quota_requests SET latest_at = at + ? WHERE key = ? AND latest_at > at + ?",
            (self.request_timeout_seconds, self.key, flight_cap),
        )

    def _look(self, conn: sqlite3.Connection, now: float) -> _Window:
        margin = self.margin_seconds
        # Processes configured with different limits share one property: the strictest one holds for all.
        peers = conn.execute(
            "SELECT min(per_minute), min(per_day) FROM quota_limits WHERE key = ? AND seen_at > ?",
            (self.key, now - self.day_seconds),
        ).fetchone()
        per_minute = min(self.per_minute, peers[0] or self.per_minute)
        per_day = min(self.per_day, peers[1] or self.per_day)
        row = conn.execute("SELECT seconds, until FROM quota_margins WHERE key = ?", (self.key,)).fetchone()
        if row and row[0] is not None and row[1] is not None and row[1] > now:
            margin += min(max(0.0, row[0]), self._widen_max)
        # A request counts while its latest possible arrival (+ margin) lies within a window before now.
        counting = "FROM quota_requests WHERE key = ? AND coalesce(done_at, latest_at, at + ?) + ? > ?"
        timeout = self.request_timeout_seconds
        minute = [
            self._span(at, latest_at, done_at, now)
            for at, latest_at, done_at in conn.execute(
                f"SELECT at, latest_at, done_at {counting}", (self.key, timeout, margin, now - self.minute_seconds)
            )
        ]
        day_args = (self.key, timeout, margin, now - self.day_seconds)
        (day_used,) = conn.execute(f"SELECT count(*) {counting}", day_args).fetchone()
        day_frees_at = None
        if day_used >= per_day:  # rare: only then read the day's rows
            ends = sorted(
                (
                    self._span(at, latest_at, done_at, now).soonest_end
                    for at, latest_at, done_at in conn.execute(f"SELECT at, latest_at, done_at {counting}", day_args)
                ),
                reverse=True,
            )
            day_frees_at = ends[per_day - 1] + margin + self.day_seconds
        row = conn.execute("SELECT until FROM quota_blocks WHERE key = ?", (self.key,)).fetchone()
        blocked = (
            min(row[0], now + self.max_retry_after_seconds) if row and row[0] is not None and row[0] > now else None
        )
        return _Window(
            now=now,
            margin=margin,
            minute=minute,
            day_used=day_used,
            day_frees_at=day_frees_at,
            blocked_until=blocked,
            per_minute=per_minute,
            per_day=per_day,
        )

    def _span(self, at: float, latest_at: float | None, done_at: float | None, now: float) -> _Span:
        at = min(at, now)
        if done_at is not None:
            end = max(at, min(done_at, now))
            return _Span(at, end, end)
        bound = max(at, latest_at if latest_at is not None else at + self.request_timeout_seconds)
        return _Span(at, bound, min(bound, max(at, now)))

    def _next_free(self, window: _Window) -> float | None:
        """When a request may next be counted, or None if it may be counted now.

        It may go when fewer than `limit` earlier requests could still arrive within one window of it;
        in-flight requests are assumed to finish now (so a wait is never overestimated: the caller looks
        again when it ends)."""
        full = len(window.minute) >= window.per_minute or window.day_frees_at is not None
        if not full and window.blocked_until is None:
            return None
        candidates = [window.now]
        if len(window.minute) >= window.per_minute:
            ends = sorted((s.soonest_end for s in window.minute), reverse=True)
            candidates.append(ends[window.per_minute - 1] + window.margin + self.minute_seconds)
        if window.day_frees_at is not None:
            candidates.append(window.day_frees_at)
        if window.blocked_until is not None:
            candidates.append(window.blocked_until)
        return max(candidates)

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
                migrate(conn, "quota", MIGRATIONS)
            except (OSError, sqlite3.Error) as exc:
                raise self._unavailable(exc) from None
            self._conn = conn
        return self._conn

    # ------------------------------------------------------------------ messages

    def _exhausted(self, window: _Window) -> QuotaExhausted:
        next_free = iso_utc(window.day_frees_at)
        return QuotaExhausted(
            f"Daily HotelRunner quota used up: {window.day_used} of {window.per_day} requests in the last 24 hours. "
            f"Nothing was sent. The next request can go at {next_free}; until then work from local data "
            "(the reservation mirror, the calendar ledger) or wait for pushes.",
            used=window.day_used,
            limit=window.per_day,
            next_free_at=next_free,
        )

    def _too_long_message(self, free_at: float, patience: float) -> str:
        return (
            f"The HotelRunner per-minute quota ({self.per_minute} requests) or a slow-down asked by HotelRunner "
            f"keeps the next slot until {iso_utc(free_at)}, later than this call may wait ({patience:.0f} s more). "
            "Nothing was sent; try again after that time."
        )

    def adopt(self, old_key: str) -> None:
        """Count under this limiter's key what was counted under `old_key` (a key scheme that changed)."""
        if old_key == self.key:
            return

        def move(conn: sqlite3.Connection) -> None:
            for table in ("quota_requests", "quota_blocks", "quota_margins"):
                conn.execute(f"UPDATE OR IGNORE {table} SET key = ? WHERE key = ?", (self.key, old_key))
                conn.execute(f"DELETE FROM {table} WHERE key = ?", (old_key,))

        self._write(move)

    def _unavailable(self, exc: BaseException) -> RecordingUnavailable:
        return RecordingUnavailable(
            f"The quota ledger {self.db_path} cannot be used ({type(exc).__name__}: {exc}), so the request was "
            "refused rather than sent uncounted. Check that HOTELRUNNER_DATA_DIR is writable and the disk not full; "
            "if the file is damaged, move it aside (the new ledger starts empty while HotelRunner still counts "
            "today's requests, so go easy until tomorrow)."
        )


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a ledger written by an older version up to date; its rows keep counting."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(quota_requests)")}
    for column in _NEW_COLUMNS:
        if column in have:
            continue
        try:
            conn.execute(f"ALTER TABLE quota_requests ADD COLUMN {column} REAL")
        except sqlite3.OperationalError as exc:  # another process added it a moment ago
            if "duplicate column" not in str(exc).lower():
                raise


MIGRATIONS: tuple[Migration, ...] = (
    # step 1: the ledger as first shipped
    """
    CREATE TABLE IF NOT EXISTS quota_requests (key TEXT NOT NULL, at REAL NOT NULL, label TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS quota_requests_key_at ON quota_requests (key, at);
    CREATE TABLE IF NOT EXISTS quota_blocks (key TEXT PRIMARY KEY, until REAL NOT NULL)
    """,
    # step 2: when each request could have arrived (counted by arrival)
    _add_missing_columns,
    # step 3: margins widened after a 429, and the limits every process counts with
    """
    CREATE TABLE IF NOT EXISTS quota_margins (key TEXT PRIMARY KEY, seconds REAL NOT NULL, until REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS quota_limits (
        key TEXT NOT NULL, process TEXT NOT NULL, per_minute INTEGER NOT NULL, per_day INTEGER NOT NULL,
        seen_at REAL NOT NULL, PRIMARY KEY (key, process)
    )
    """,
)
