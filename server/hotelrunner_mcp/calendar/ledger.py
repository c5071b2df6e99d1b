"""Calendar ledger: every calendar value this server set successfully, and what the channels said.

HotelRunner has no endpoint that reads the calendar back, so the ledger is the only memory of it.
It knows only what *this* server set: values changed in the HotelRunner panel or by other tools are
unknown to it, and callers must say so. Tables live in `<data_dir>/mirror.db`, prefixed `ledger_`.

Rows are keyed by (inv_code, rate_code, day, field, channels). `rate_code` None means a room-level
value; `channels` () means "every channel of the room". A later write to a channel set covers every
earlier write to a subset of it, so "the latest value" is computed with that coverage rule.

Size: writes, channel results and the history undo reads all follow that coverage rule; they stay in one
module so it is implemented once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hotelrunner_mcp.hotelrunner.models import CALENDAR_FIELDS
from hotelrunner_mcp.storage.sqlite import connect, immediate, migrate

FIELDS: tuple[str, ...] = CALENDAR_FIELDS
CHANNEL_STATES: tuple[str, ...] = ("succeeded", "failed", "in_progress")
FLAG_FIELDS = frozenset({"stop_sale", "cta", "ctd"})
COUNT_FIELDS = frozenset({"availability", "min_stay", "max_stay"})
Value = bool | int | Decimal
"""Stored values: bool for stop_sale/cta/ctd, int for availability/min_stay/max_stay, Decimal for price."""
LedgerKey = tuple[str, str | None, date, str, tuple[str, ...]]
"""(inv_code, rate_code, day, field, channels) — what `previous_many` takes and returns keys as."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_batches (
    id INTEGER PRIMARY KEY,
    transaction_id TEXT,
    tool_call_id TEXT,
    client TEXT,
    set_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_batches_tx ON ledger_batches (transaction_id);
CREATE TABLE IF NOT EXISTS ledger_writes (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES ledger_batches (id),
    inv_code TEXT NOT NULL,
    rate_code TEXT NOT NULL,          -- '' = room-level
    day TEXT NOT NULL,                -- YYYY-MM-DD
    field TEXT NOT NULL,
    channels TEXT NOT NULL,           -- sorted codes joined by ',' ('' = every channel)
    value TEXT NOT NULL               -- flags 0/1, counts as digits, prices as sent (169.00)
);
CREATE INDEX IF NOT EXISTS ledger_writes_key ON ledger_writes (inv_code, rate_code, field, day, id);
CREATE INDEX IF NOT EXISTS ledger_writes_day ON ledger_writes (day);
CREATE INDEX IF NOT EXISTS ledger_writes_batch ON ledger_writes (batch_id);
CREATE TABLE IF NOT EXISTS ledger_channel_results (
    transaction_id TEXT NOT NULL,
    channel_code TEXT NOT NULL,
    inv_code TEXT NOT NULL,           -- '' = the whole transaction
    state TEXT NOT NULL,
    error_message TEXT,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (transaction_id, channel_code, inv_code)
);
"""
MIGRATIONS = (_SCHEMA,)  # step 1: the schema as first shipped; append steps, never edit old ones


@dataclass(frozen=True)
class LedgerWrite:
    """One value set on one day. `rate_code` None = room-level; `channels` () = every channel.

    `value` may be given as str/number/bool and is kept in its canonical type (see `Value`), so
    0/1 flags become booleans and "169.00" a Decimal; a value of the wrong kind raises ValueError.
    """

    inv_code: str
    rate_code: str | None
    day: date
    field: str
    value: Value | str | float
    channels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.inv_code:
            raise ValueError("inv_code is required")
        # Normalise at construction, so a bad value fails before any of its batch is written.
        object.__setattr__(self, "value", normalize_value(self.field, self.value))
        object.__setattr__(self, "channels", _normalize(self.channels))
        _channels_text(self.channels)


@dataclass(frozen=True)
class ChannelResult:
    """What one channel did with a transaction. `inv_code` None = applies to the whole transaction."""

    channel_code: str
    state: str
    error_message: str | None = None
    inv_code: str | None = None

    def __post_init__(self) -> None:
        if self.state not in CHANNEL_STATES:
            raise ValueError(f"unknown channel state {self.state!r}; expected one of {', '.join(CHANNEL_STATES)}")


@dataclass(frozen=True)
class LedgerValue:
    """The latest value this server set for one key, with where it came from and what channels said."""

    inv_code: str
    rate_code: str | None
    day: date
    field: str
    channels: tuple[str, ...]
    value: Value
    transaction_id: str | None
    set_at: datetime
    tool_call_id: str | None
    client: str | None
    channel_results: tuple[ChannelResult, ...] = ()
    checked_at: datetime | None = None  # when channel results were last recorded; None = never checked

    @property
    def key(self) -> LedgerKey:
        return (self.inv_code, self.rate_code, self.day, self.field, self.channels)


@dataclass(frozen=True)
class LedgerBatch:
    """One recorded upstream request: the values HotelRunner accepted from it share its transaction id."""

    id: int
    transaction_id: str | None
    set_at: datetime
    tool_call_id: str | None
    client: str | None
    writes: int


@dataclass(frozen=True)
class StoredWrite:
    """One row of the ledger as written (not "the latest value"): undo reads history with these."""

    id: int
    batch_id: int
    inv_code: str
    rate_code: str | None
    day: date
    field: str
    channels: tuple[str, ...]
    value: Value

    @property
    def key(self) -> LedgerKey:
        return (self.inv_code, self.rate_code, self.day, self.field, self.channels)

    @property
    def cell(self) -> tuple[str, str | None, date, str]:
        """(inv_code, rate_code, day, field): the calendar cell, whatever the channels."""
        return (self.inv_code, self.rate_code, self.day, self.field)


@dataclass(frozen=True)
class ChannelRefusals:
    """What the ledger's channel checks say of one channel since a moment."""

    channel_code: str
    succeeded: int  # transactions the channel took
    failed: int  # transactions it refused (some part of)
    in_progress: int
    last_failed_at: datetime | None
    last_failures: tuple[str, ...]  # newest first: "transaction 12: message"


class CalendarLedger:
    """SQLite-backed ledger, safe for several processes. Thread-safe within one process."""

    def __init__(self, db_path: Path) -> None:
        self._conn = connect(Path(db_path))
        self._lock = threading.Lock()
        with self._lock:
            migrate(self._conn, "calendar_ledger", MIGRATIONS)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> CalendarLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------- writing

    def record(
        self,
        entries: Sequence[LedgerWrite],
        *,
        transaction_id: str | None,
        tool_call_id: str | None,
        client: str | None,
        set_at: datetime | None = None,
    ) -> None:
        """Record values that HotelRunner accepted, as one batch (one upstream request)."""
        if not entries:
            return
        when = _iso(set_at or datetime.now(UTC))
        rows = [
            (
                e.inv_code,
                e.rate_code or "",
                e.day.isoformat(),
                e.field,
                _channels_text(e.channels),
                _encode_value(e.value),
            )
            for e in entries
        ]
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO ledger_batches (transaction_id, tool_call_id, client, set_at) VALUES (?, ?, ?, ?)",
                (transaction_id, tool_call_id, client, when),
            )
            batch_id = cur.lastrowid
            conn.executemany(
                "INSERT INTO ledger_writes (batch_id, inv_code, rate_code, day, field, channels, value)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(batch_id, *row) for row in rows],
            )

    def record_transaction_result(
        self, transaction_id: str, channel_results: Sequence[ChannelResult], *, checked_at: datetime | None = None
    ) -> int:
        """Attach what the channels said (GET /infos/transaction_details) to every row of a transaction.

        A later check replaces an earlier one for the same channel and room. Returns the number of
        ledger rows the results now describe (0 if the ledger never saw that transaction).
        """
        when = _iso(checked_at or datetime.now(UTC))
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO ledger_channel_results (transaction_id, channel_code, inv_code, state, error_message,"
                " checked_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (transaction_id, channel_code, inv_code)"
                " DO UPDATE SET state = excluded.state, error_message = excluded.error_message,"
                " checked_at = excluded.checked_at",
                [
                    (transaction_id, r.channel_code, r.inv_code or "", r.state, r.error_message, when)
                    for r in channel_results
                ],
            )
            if not channel_results:
                return 0
            whole = any(r.inv_code is None for r in channel_results)
            rooms = sorted({r.inv_code for r in channel_results if r.inv_code is not None})
            sql = "SELECT COUNT(*) FROM ledger_writes w JOIN ledger_batches b ON b.id = w.batch_id WHERE b.transaction_id = ?"
            params: list[object] = [transaction_id]
            if not whole:
                sql += f" AND w.inv_code IN ({', '.join('?' * len(rooms))})"
                params += rooms
            return int(conn.execute(sql, params).fetchone()[0])

    # ----------------------------------------------------------------------------------- reading

    def previous(
        self, inv_code: str, rate_code: str | None, day: date, field: str, channels: Iterable[str] = ()
    ) -> LedgerValue | None:
        """The last value this server set that applies to `channels` (() = every channel), or None."""
        key: LedgerKey = (inv_code, rate_code, day, field, tuple(channels))
        return self.previous_many([key]).get(key)

    def previous_many(self, keys: Iterable[LedgerKey]) -> dict[LedgerKey, LedgerValue]:
        """`previous` for many keys in one query (for plan previews). Keys never set are absent.

        A write applies to the asked channels when its channel set covers them all; a write to
        every channel covers any set, but a write to some channels does not answer for "every channel".
        """
        wanted: dict[tuple[str, str, str, str], list[tuple[LedgerKey, tuple[str, ...]]]] = {}
        for key in keys:  # answers come back under the caller's own key
            inv_code, rate_code, day, field, channels = key
            wanted.setdefault((inv_code, rate_code or "", day.isoformat(), field), []).append(
                (key, _normalize(channels))
            )
        if not wanted:
            return {}
        with self._read() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS ledger_wanted (inv_code, rate_code, day, field)")
            conn.execute("DELETE FROM ledger_wanted")
            conn.executemany("INSERT INTO ledger_wanted VALUES (?, ?, ?, ?)", list(wanted))
            rows = conn.execute(
                _SELECT + " JOIN ledger_wanted k ON k.inv_code = w.inv_code AND k.rate_code = w.rate_code"
                " AND k.day = w.day AND k.field = w.field ORDER BY w.id DESC"
            ).fetchall()
            conn.execute("DELETE FROM ledger_wanted")
            results = self._results_for(conn, rows)
        found: dict[LedgerKey, LedgerValue] = {}
        for row in rows:  # newest first: the first covering write answers each key
            for key, channels in wanted[(row["inv_code"], row["rate_code"], row["day"], row["field"])]:
                if key not in found and _covers(_channels_tuple(row["channels"]), channels):
                    found[key] = _to_value(row, results)
        return found

    def query(
        self,
        *,
        start: date,
        end: date,
        inv_code: str | None = None,
        rate_code: str | None = None,
        fields: Sequence[str] | None = None,
    ) -> list[LedgerValue]:
        """Latest value per key between `start` and `end` (inclusive), ordered by room, day, rate (room-level first), field.

        A value still listed is one no later write covered: after "€150 on Booking.com" then "€160 on
        every channel", only the €160 remains. `rate_code` filters rate-level rows; room-level rows
        (rate_code None) of the room are always included.
        """
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        where = ["w.day BETWEEN ? AND ?"]
        params: list[object] = [start.isoformat(), end.isoformat()]
        if inv_code is not None:
            where.append("w.inv_code = ?")
            params.append(inv_code)
        if rate_code is not None:
            where.append("w.rate_code IN (?, '')")
            params.append(rate_code)
        if fields:
            unknown = [f for f in fields if f not in FIELDS]
            if unknown:
                raise ValueError(f"unknown calendar field(s) {', '.join(unknown)}; expected {', '.join(FIELDS)}")
            where.append(f"w.field IN ({', '.join('?' * len(fields))})")
            params += list(fields)
        clause = " AND ".join(where)
        with self._read() as conn:
            rows = conn.execute(
                _SELECT + f" WHERE w.id IN (SELECT MAX(w.id) FROM ledger_writes w WHERE {clause}"
                " GROUP BY w.inv_code, w.rate_code, w.day, w.field, w.channels) ORDER BY w.id DESC",
                params,
            ).fetchall()
            results = self._results_for(conn, rows)
        kept: dict[tuple[str, str, str, str], list[sqlite3.Row]] = {}
        for row in rows:  # newest first; drop a row a newer kept row covers
            group = kept.setdefault((row["inv_code"], row["rate_code"], row["day"], row["field"]), [])
            if not any(_covers(_channels_tuple(k["channels"]), _channels_tuple(row["channels"])) for k in group):
                group.append(row)
        values = [_to_value(row, results) for group in kept.values() for row in group]
        order = {f: i for i, f in enumerate(FIELDS)}
        values.sort(key=lambda v: (v.inv_code, v.day, v.rate_code or "", order[v.field], v.channels))
        return values

    def pending_transactions(self, limit: int = 20) -> list[str]:
        """Transactions with no final channel result yet (never checked, or a channel in progress), newest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT b.transaction_id, MAX(b.set_at) AS last_set FROM ledger_batches b"
                " WHERE b.transaction_id IS NOT NULL AND (NOT EXISTS (SELECT 1 FROM ledger_channel_results r"
                " WHERE r.transaction_id = b.transaction_id) OR EXISTS (SELECT 1 FROM ledger_channel_results r"
                " WHERE r.transaction_id = b.transaction_id AND r.state = 'in_progress'))"
                " GROUP BY b.transaction_id ORDER BY last_set DESC, MAX(b.id) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [row["transaction_id"] for row in rows]

    def batches(
        self,
        *,
        transaction_ids: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[LedgerBatch]:
        """Recorded requests by transaction id, or set between `since` and `until` (inclusive), oldest first."""
        where: list[str] = []
        params: list[object] = []
        if transaction_ids is not None:
            where.append(f"b.transaction_id IN ({', '.join('?' * len(transaction_ids))})")
            params += list(transaction_ids)
        if since is not None:
            where.append("b.set_at >= ?")
            params.append(_iso(since))
        if until is not None:
            where.append("b.set_at <= ?")
            params.append(_iso(until))
        clause = " AND ".join(where) or "1"
        with self._read() as conn:
            rows = conn.execute(
                "SELECT b.*, (SELECT COUNT(*) FROM ledger_writes w WHERE w.batch_id = b.id) AS writes"
                f" FROM ledger_batches b WHERE {clause} ORDER BY b.id LIMIT ?",
                [*params, limit],
            ).fetchall()
        return [
            LedgerBatch(
                id=row["id"],
                transaction_id=row["transaction_id"],
                set_at=datetime.fromisoformat(row["set_at"]),
                tool_call_id=row["tool_call_id"],
                client=row["client"],
                writes=row["writes"],
            )
            for row in rows
        ]

    def writes_of(self, batch_ids: Iterable[int]) -> list[StoredWrite]:
        """Every row the given batches wrote, in the order written."""
        ids = sorted(set(batch_ids))
        found: list[StoredWrite] = []
        with self._read() as conn:
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                rows = conn.execute(
                    f"SELECT * FROM ledger_writes WHERE batch_id IN ({', '.join('?' * len(chunk))}) ORDER BY id", chunk
                ).fetchall()
                found += [_stored(row) for row in rows]
        found.sort(key=lambda w: w.id)
        return found

    def history(self, cells: Iterable[tuple[str, str | None, date, str]]) -> list[StoredWrite]:
        """Every row ever written to these cells (inv_code, rate_code, day, field), any channels, oldest first."""
        wanted = sorted({(inv, rate or "", day.isoformat(), field) for inv, rate, day, field in cells})
        if not wanted:
            return []
        with self._read() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS ledger_wanted (inv_code, rate_code, day, field)")
            conn.execute("DELETE FROM ledger_wanted")
            conn.executemany("INSERT INTO ledger_wanted VALUES (?, ?, ?, ?)", wanted)
            rows = conn.execute(
                "SELECT w.* FROM ledger_writes w JOIN ledger_wanted k ON k.inv_code = w.inv_code"
                " AND k.rate_code = w.rate_code AND k.day = w.day AND k.field = w.field ORDER BY w.id"
            ).fetchall()
            conn.execute("DELETE FROM ledger_wanted")
        return [_stored(row) for row in rows]

    def channel_refusals(self, since: datetime) -> list[ChannelRefusals]:
        """Per channel, the transactions checked since `since`: how many it took, refused, still works on."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT r.transaction_id, r.channel_code, r.state, r.error_message, r.checked_at"
                " FROM ledger_channel_results r WHERE r.checked_at >= ? ORDER BY r.checked_at DESC",
                (_iso(since),),
            ).fetchall()
        states: dict[str, dict[str, str]] = {}  # channel -> transaction -> worst state
        failures: dict[str, list[str]] = {}
        last_failed: dict[str, str] = {}
        order = {"failed": 0, "in_progress": 1, "succeeded": 2}
        for row in rows:
            channel, transaction = row["channel_code"], row["transaction_id"]
            seen = states.setdefault(channel, {})
            if transaction not in seen or order[row["state"]] < order[seen[transaction]]:
                seen[transaction] = row["state"]
            if row["state"] == "failed":
                last_failed.setdefault(channel, row["checked_at"])
                reasons = failures.setdefault(channel, [])
                if len(reasons) < 3:
                    reasons.append(f"transaction {transaction}: {row['error_message'] or 'refused, no reason given'}")
        return [
            ChannelRefusals(
                channel_code=channel,
                succeeded=sum(s == "succeeded" for s in seen.values()),
                failed=sum(s == "failed" for s in seen.values()),
                in_progress=sum(s == "in_progress" for s in seen.values()),
                last_failed_at=datetime.fromisoformat(last_failed[channel]) if channel in last_failed else None,
                last_failures=tuple(failures.get(channel, ())),
            )
            for channel, seen in sorted(states.items())
        ]

    # ----------------------------------------------------------------------------------- internals

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate(self._conn) as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @staticmethod
    def _results_for(
        conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]
    ) -> dict[str, list[tuple[ChannelResult, str]]]:
        """Channel results (with their checked_at) of the transactions behind `rows`, one query."""
        ids = sorted({row["transaction_id"] for row in rows if row["transaction_id"] is not None})
        results: dict[str, list[tuple[ChannelResult, str]]] = {}
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for r in conn.execute(
                "SELECT * FROM ledger_channel_results WHERE transaction_id IN"
                f" ({', '.join('?' * len(chunk))}) ORDER BY channel_code, inv_code",
                chunk,
            ):
                result = ChannelResult(r["channel_code"], r["state"], r["error_message"], r["inv_code"] or None)
                results.setdefault(r["transaction_id"], []).append((result, r["checked_at"]))
        return results


_SELECT = (
    "SELECT w.id, w.inv_code, w.rate_code, w.day, w.field, w.channels, w.value,"
    " b.transaction_id, b.set_at, b.tool_call_id, b.client"
    " FROM ledger_writes w JOIN ledger_batches b ON b.id = w.batch_id"
)


def _to_value(row: sqlite3.Row, results: dict[str, list[tuple[ChannelResult, str]]]) -> LedgerValue:
    """Build a LedgerValue, keeping only the channel results that concern this row's room."""
    mine = [
        (r, checked) for r, checked in results.get(row["transaction_id"], []) if r.inv_code in (None, row["inv_code"])
    ]
    return LedgerValue(
        inv_code=row["inv_code"],
        rate_code=row["rate_code"] or None,
        day=date.fromisoformat(row["day"]),
        field=row["field"],
        channels=_channels_tuple(row["channels"]),
        value=_decode_value(row["field"], row["value"]),
        transaction_id=row["transaction_id"],
        set_at=datetime.fromisoformat(row["set_at"]),
        tool_call_id=row["tool_call_id"],
        client=row["client"],
        channel_results=tuple(r for r, _ in mine),
        checked_at=datetime.fromisoformat(max(c for _, c in mine)) if mine else None,
    )


def _stored(row: sqlite3.Row) -> StoredWrite:
    return StoredWrite(
        id=row["id"],
        batch_id=row["batch_id"],
        inv_code=row["inv_code"],
        rate_code=row["rate_code"] or None,
        day=date.fromisoformat(row["day"]),
        field=row["field"],
        channels=_channels_tuple(row["channels"]),
        value=_decode_value(row["field"], row["value"]),
    )


def covers(written: Iterable[str], asked: Iterable[str]) -> bool:
    """Whether a write to the `written` channels (() = every channel) determines the value on `asked`."""
    return _covers(tuple(written), tuple(asked))


def _normalize(channels: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(channels)))


def _channels_text(channels: Iterable[str]) -> str:
    codes = _normalize(channels)
    if any("," in c or not c for c in codes):
        raise ValueError(f"invalid channel code in {codes!r}")
    return ",".join(codes)


def _channels_tuple(text: str) -> tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _covers(written: tuple[str, ...], asked: tuple[str, ...]) -> bool:
    """Whether a write to `written` channels determines the value on the `asked` channels."""
    return not written or (bool(asked) and set(asked) <= set(written))


def normalize_value(field: str, value: object) -> Value:
    """The canonical value of a calendar field, or ValueError saying what the field takes."""
    if field not in FIELDS:
        raise ValueError(f"unknown calendar field {field!r}; expected one of {', '.join(FIELDS)}")
    if field in FLAG_FIELDS:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | str) and str(value).strip() in ("0", "1"):
            return str(value).strip() == "1"
        raise ValueError(f"{field} takes true/false (or 1/0), not {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"{field} takes a number, not {value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{field} takes a number, not {value!r}") from None
    if not isinstance(value, int | float | Decimal | str) or not number.is_finite():
        raise ValueError(f"{field} takes a finite number, not {value!r}")
    if field in COUNT_FIELDS:
        if number != number.to_integral_value():
            raise ValueError(f"{field} takes a whole number, not {value!r}")
        return int(number)
    return number


def _encode_value(value: Value | str | float) -> str:
    """Text of a value already normalised by LedgerWrite."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)  # ints as digits; Decimals keep their digits (169.00 stays 169.00)


def _decode_value(field: str, text: str) -> Value:
    if field in FLAG_FIELDS:
        return text == "1"
    if field in COUNT_FIELDS:
        return int(text)
    return Decimal(text)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
