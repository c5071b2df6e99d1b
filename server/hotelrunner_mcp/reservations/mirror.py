"""The local reservation mirror: every reservation the server has seen, every version kept, in SQLite.

Tables (all in `<data_dir>/mirror.db`, shared with other modules that own their own tables):
- `reservation`: the current version per hr_number, with indexed columns for the queries
- `reservation_room`: one row per room line of the current version (room type and stay dates)
- `reservation_version`: every distinct version ever seen; its id is the change id that subscribers follow.
  The current version's payload is the reservation row's (stored once, '' here); the others are compressed.
- `reservation_night`: one row per sold room night of the current versions
- `reservation_night_sum`: those nights counted per night, room type and currency (what occupancy reads)
- `reservation_guest`: a trigram index of `reservation.guest_search` (what a guest search reads)
- `sync_state`, `sync_lease`: the incremental sync's cursor and its cross-process lock
- `sync_progress`: a sync stopped at its page limit, resumed by the next one where it stopped

An older version (by `updated_at`) never overwrites a newer one; it is kept in history as "stale".
Every write is one short `BEGIN IMMEDIATE` transaction, so several server processes can share the file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.reservations.queries import (
    CANCELED_STATES,
    SORT_COLUMNS,
    NightOccupancy,
    PageKey,
    ReservationQuery,
    grid_of_sums,
    guest_phrase,
    guest_search_text,
    only_guest,
    order_clause,
    parse_utc_text,
    room_nights,
    utc_text,
    validate_occupancy_range,
    where_clause,
)
from hotelrunner_mcp.storage.sqlite import connect, immediate, migrate, owner_alive

Source = Literal["listing", "lookup", "push", "sync", "response"]  # response: this server confirmed or canceled it
UpsertResult = Literal["new", "updated", "unchanged", "stale"]
SOURCES: frozenset[str] = frozenset({"listing", "lookup", "push", "sync", "response"})

_CENT = Decimal("0.01")

# Fields that describe one delivery rather than the reservation: they never make a new version.
DELIVERY_FIELDS = frozenset({"message_uid", "reason"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reservation (
    hr_number       TEXT PRIMARY KEY,
    provider_number TEXT,
    channel         TEXT,
    state           TEXT,
    guest_search    TEXT NOT NULL DEFAULT '',
    checkin_date    TEXT,
    checkout_date   TEXT,
    completed_at    TEXT,
    updated_at      TEXT,
    content_hash    TEXT NOT NULL,
    payload         TEXT NOT NULL,
    version_id      INTEGER NOT NULL,
    first_seen_at   TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    last_source     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservation_provider ON reservation(provider_number);
CREATE INDEX IF NOT EXISTS reservation_checkin ON reservation(checkin_date);
CREATE INDEX IF NOT EXISTS reservation_checkout ON reservation(checkout_date);
CREATE INDEX IF NOT EXISTS reservation_updated ON reservation(updated_at);
CREATE TABLE IF NOT EXISTS reservation_room (
    hr_number     TEXT NOT NULL REFERENCES reservation(hr_number) ON DELETE CASCADE,
    line          INTEGER NOT NULL,
    inv_code      TEXT,
    state         TEXT,
    checkin_date  TEXT,
    checkout_date TEXT,
    PRIMARY KEY (hr_number, line)
);
CREATE INDEX IF NOT EXISTS reservation_room_stay ON reservation_room(checkin_date, checkout_date);
CREATE TABLE IF NOT EXISTS reservation_version (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hr_number    TEXT NOT NULL,
    seen_at      TEXT NOT NULL,
    source       TEXT NOT NULL,
    result       TEXT NOT NULL,
    updated_at   TEXT,
    state        TEXT,
    content_hash TEXT NOT NULL,
    changes      TEXT NOT NULL,
    payload      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservation_version_number ON reservation_version(hr_number, content_hash);
CREATE INDEX IF NOT EXISTS reservation_version_seen ON reservation_version(seen_at);
CREATE TABLE IF NOT EXISTS sync_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    last_sync_at TEXT,
    cursor       TEXT,
    last_report  TEXT
);
CREATE TABLE IF NOT EXISTS sync_lease (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""
_SYNC_PROGRESS = """
CREATE TABLE IF NOT EXISTS sync_progress (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    mode                  TEXT NOT NULL,
    from_date             TEXT NOT NULL,
    from_last_update_date TEXT,
    started_at            TEXT NOT NULL,
    next_page             INTEGER NOT NULL,
    pages                 INTEGER NOT NULL,
    count                 INTEGER NOT NULL,
    fetched               INTEGER NOT NULL,
    requests              INTEGER NOT NULL
);
"""
_FRESHNESS_INDEXES = """
CREATE INDEX IF NOT EXISTS reservation_source_seen ON reservation(last_source, last_seen_at);
CREATE INDEX IF NOT EXISTS reservation_version_source_seen ON reservation_version(source, seen_at);
CREATE INDEX IF NOT EXISTS reservation_room_checkout ON reservation_room(checkout_date, checkin_date);
"""
MICROS = Decimal(1_000_000)  # reservation_night.revenue is in millionths of the currency: exact sums in SQLite
MAX_LINE_NIGHTS = 1000  # a room line claiming more nights than this is cut there (bad data, not a stay)


def _night_rows(reservation: Reservation) -> list[tuple[str, str, str, int | None, str | None]]:
    rows = []
    for index, night in enumerate(room_nights(reservation, date.min, date.max)):
        if index >= MAX_LINE_NIGHTS * max(len(reservation.rooms), 1):
            break
        revenue = int((night.revenue * MICROS).to_integral_value()) if night.revenue is not None else None
        rows.append((reservation.hr_number, night.night.isoformat(), night.inv_code, revenue, night.currency))
    return rows


def _nights_step(conn: sqlite3.Connection) -> None:
    """Step 4: one row per sold room night (reservation_night), filled from every stored reservation, so
    occupancy is one indexed GROUP BY over the nights asked for, whatever the size of the mirror."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS reservation_night (hr_number TEXT NOT NULL, night TEXT NOT NULL,"
        " inv_code TEXT NOT NULL, revenue INTEGER, currency TEXT)"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS reservation_night_night ON reservation_night(night, inv_code)")
    conn.execute("CREATE INDEX IF NOT EXISTS reservation_night_number ON reservation_night(hr_number)")
    conn.execute("DELETE FROM reservation_night")
    for row in conn.execute("SELECT payload FROM reservation").fetchall():
        conn.executemany(
            "INSERT INTO reservation_night (hr_number, night, inv_code, revenue, currency) VALUES (?, ?, ?, ?, ?)",
            _night_rows(Reservation.model_validate_json(row["payload"])),
        )


def _statements(*statements: str) -> Callable[[sqlite3.Connection], None]:
    """A step of statements run one by one (a trigger body holds ';', which migrate() would split on)."""

    def step(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return step


# Guest search: a trigram index of reservation.guest_search (case-sensitive: the text is folded already),
# kept in step by triggers, so `guest=` reads the matching rows instead of scanning every payload. Its rows
# are keyed by reservation.guest_key, a number of our own, never by rowid: the reservation table has no
# INTEGER PRIMARY KEY, so its rowids may change in a VACUUM or a dump and reload, which would silently point a
# search at other guests. A new reservation takes the next guest_key; the index is filled when the step runs.
_GUEST_INDEX_STEPS = _statements(
    "ALTER TABLE reservation ADD COLUMN guest_key INTEGER",
    "UPDATE reservation SET guest_key = rowid",
    "CREATE UNIQUE INDEX reservation_guest_key ON reservation(guest_key)",
    "INSERT INTO reservation_guest (rowid, guest_search) SELECT guest_key, guest_search FROM reservation",
    "CREATE TRIGGER reservation_guest_insert AFTER INSERT ON reservation BEGIN"
    " UPDATE reservation SET guest_key = (SELECT COALESCE(MAX(guest_key), 0) + 1 FROM reservation)"
    " WHERE hr_number = NEW.hr_number AND guest_key IS NULL;"
    " INSERT INTO reservation_guest (rowid, guest_search)"
    " SELECT guest_key, guest_search FROM reservation WHERE hr_number = NEW.hr_number; END",
    "CREATE TRIGGER reservation_guest_update AFTER UPDATE OF guest_search ON reservation"
    " WHEN OLD.guest_search IS NOT NEW.guest_search BEGIN"
    " UPDATE reservation_guest SET guest_search = NEW.guest_search WHERE rowid = NEW.guest_key; END",
    "CREATE TRIGGER reservation_guest_delete AFTER DELETE ON reservation BEGIN"
    " DELETE FROM reservation_guest WHERE rowid = OLD.guest_key; END",
)


def _guest_index(conn: sqlite3.Connection) -> None:
    """Step 10 (see above), which replaces step 6's first index (keyed by rowid: dropped here, with its
    triggers). An SQLite built without FTS5's trigram tokenizer (before 3.34) skips it: guest search then
    scans guest_search, slower but with the same answers."""
    for trigger in ("insert", "update", "delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS reservation_guest_{trigger}")
    conn.execute("DROP TABLE IF EXISTS reservation_guest")
    try:
        conn.execute(
            "CREATE VIRTUAL TABLE reservation_guest USING fts5(guest_search, tokenize = 'trigram case_sensitive 1')"
        )
    except sqlite3.OperationalError:
        return
    _GUEST_INDEX_STEPS(conn)


def _superseded(conn: sqlite3.Connection) -> None:
    """Step 6 built a guest index keyed by rowid before this version was released; step 10 builds it keyed
    by guest_key instead (and drops the old one where step 6 ran), so step 6 now does nothing."""


# Occupancy: rooms sold and revenue per (night, room type, currency), kept by triggers on
# reservation_night, so a year of occupancy reads at most 366 x types rows however busy the property.
_NIGHT_KEY = "night = {0}.night AND inv_code = {0}.inv_code AND currency = COALESCE({0}.currency, '')"
_NIGHT_SUMS = _statements(
    "CREATE TABLE reservation_night_sum (night TEXT NOT NULL, inv_code TEXT NOT NULL, currency TEXT NOT NULL,"
    " sold INTEGER NOT NULL, revenue INTEGER NOT NULL, PRIMARY KEY (night, inv_code, currency)) WITHOUT ROWID",
    "INSERT INTO reservation_night_sum (night, inv_code, currency, sold, revenue)"
    " SELECT night, inv_code, COALESCE(currency, ''), COUNT(*), COALESCE(SUM(revenue), 0) FROM reservation_night"
    " GROUP BY night, inv_code, COALESCE(currency, '')",
    "CREATE TRIGGER reservation_night_sum_insert AFTER INSERT ON reservation_night BEGIN"
    " INSERT INTO reservation_night_sum (night, inv_code, currency, sold, revenue)"
    " VALUES (NEW.night, NEW.inv_code, COALESCE(NEW.currency, ''), 1, COALESCE(NEW.revenue, 0))"
    " ON CONFLICT (night, inv_code, currency) DO UPDATE SET sold = sold + 1, revenue = revenue + excluded.revenue;"
    " END",
    "CREATE TRIGGER reservation_night_sum_delete AFTER DELETE ON reservation_night BEGIN"
    " UPDATE reservation_night_sum SET sold = sold - 1, revenue = revenue - COALESCE(OLD.revenue, 0)"
    f" WHERE {_NIGHT_KEY.format('OLD')};"
    f" DELETE FROM reservation_night_sum WHERE {_NIGHT_KEY.format('OLD')} AND sold <= 0; END",
)


def _pack(text: str) -> bytes:
    """A version's payload as stored in reservation_version: compressed JSON (a BLOB)."""
    return zlib.compress(text.encode(), 6)


def _unpack(stored: str | bytes) -> str:
    return zlib.decompress(stored).decode() if isinstance(stored, bytes) else stored


def _shared_payloads(conn: sqlite3.Connection) -> None:
    """Step 8: a version no longer keeps a second copy of the current payload: the current version's
    row holds '' while the reservation row holds the same text (it gets its own copy back, compressed,
    before the reservation row changes); every other version's payload is compressed."""
    conn.create_function("mirror_pack", 1, _pack, deterministic=True)
    conn.execute(
        "UPDATE reservation_version SET payload = '' WHERE id IN (SELECT v.id FROM reservation r"
        " JOIN reservation_version v ON v.id = r.version_id WHERE v.payload = r.payload)"
    )
    conn.execute(
        "UPDATE reservation_version SET payload = mirror_pack(payload) WHERE typeof(payload) = 'text' AND payload != ''"
    )


# The sort columns indexed with hr_number (the tie-break): a limited list is sorted on the index alone.
_SORT_INDEXES = """
DROP INDEX IF EXISTS reservation_checkin;
DROP INDEX IF EXISTS reservation_checkout;
DROP INDEX IF EXISTS reservation_updated;
CREATE INDEX IF NOT EXISTS reservation_checkin_number ON reservation(checkin_date, hr_number);
CREATE INDEX IF NOT EXISTS reservation_checkout_number ON reservation(checkout_date, hr_number);
CREATE INDEX IF NOT EXISTS reservation_updated_number ON reservation(updated_at, hr_number);
CREATE INDEX IF NOT EXISTS reservation_completed_number ON reservation(completed_at, hr_number)
"""

# step 1: the schema as first shipped; append steps, never edit old ones.
# step 2: a sync stopped at its page limit is resumed where it stopped (sync_progress).
# step 3: "last push/sync seen" and the stays touching a range read through indexes.
# step 4: reservation_night, one row per sold room night, for occupancy.
# step 5: sync_progress.last_completed_at and saved_at, to notice a listing that shifted while a sync was paused.
# step 6: reservation_guest, the trigram index of guest search (keyed by rowid; superseded by step 10).
# step 7: reservation_night_sum, occupancy summed per night and room type.
# step 8: the current payload stored once, other versions' payloads compressed.
# step 9: sort columns indexed with hr_number.
# step 10: reservation_guest again, keyed by reservation.guest_key (rowids may change in a VACUUM or a dump).
# step 11: sync_progress.unordered, a listing in no booking order, read only in one pass.
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    _SCHEMA,
    _SYNC_PROGRESS,
    _FRESHNESS_INDEXES,
    _nights_step,
    "ALTER TABLE sync_progress ADD COLUMN last_completed_at TEXT; ALTER TABLE sync_progress ADD COLUMN saved_at TEXT",
    _superseded,  # step 6: see _guest_index (step 10)
    _NIGHT_SUMS,
    _shared_payloads,
    _SORT_INDEXES,
    _guest_index,
    "ALTER TABLE sync_progress ADD COLUMN unordered INTEGER NOT NULL DEFAULT 0",
)


# --------------------------------------------------------------------------- value types


@dataclass(frozen=True)
class UpsertCounts:
    """What a batch of upserts did."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.unchanged + self.stale

    def add(self, result: UpsertResult) -> UpsertCounts:
        values = {"new": self.new, "updated": self.updated, "unchanged": self.unchanged, "stale": self.stale}
        values[result] += 1
        return UpsertCounts(**values)

    def merge(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.stale + other.stale,
        )


@dataclass(frozen=True)
class ReservationVersion:
    """One distinct version of a reservation as the mirror saw it.

    `result` is "new", "updated" or "stale" (arrived after a newer one and never became current).
    `changes` lists what differs from the version before it (by updated_at), e.g. "state: confirmed → canceled".
    """

    version_id: int
    hr_number: str
    seen_at: datetime
    source: str
    result: str
    updated_at: datetime | None
    state: str | None
    changes: list[str]
    reservation: Reservation


@dataclass(frozen=True)
class ChangeEvent:
    """A reservation became new or changed in the mirror. `id` grows monotonically across processes."""

    id: int
    hr_number: str
    kind: Literal["new", "updated"]
    source: str
    seen_at: datetime
    updated_at: datetime | None
    state: str | None
    guest: str | None
    checkin_date: date | None
    checkout_date: date | None
    changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncState:
    """Where the incremental sync stands. Everything HotelRunner updated before `cursor` is in the mirror."""

    last_sync_at: datetime | None = None
    cursor: datetime | None = None
    last_report: dict[str, Any] | None = None


@dataclass(frozen=True)
class SyncProgress:
    """A sync that stopped at its page limit, to be resumed: the listing it pages through (mode,
    from_date, from_last_update_date), when it began (its cursor, once complete), the next page to
    read, and what HotelRunner said the listing holds (`count` bookings over `pages` pages)."""

    mode: str
    from_date: date
    from_last_update_date: date | None
    started_at: datetime
    next_page: int
    pages: int
    count: int
    fetched: int
    requests: int
    last_completed_at: str | None = None  # the latest completed_at read so far (storage format)
    saved_at: datetime | None = None  # when the last page was read
    # The listing is in no booking order: it is never resumed mid-way, only read again in one pass of
    # `pages` requests from page 1 (next_page stays 1), by a sync allowed to spend and wait that long.
    unordered: bool = False

    @property
    def requests_left(self) -> int:
        return max(self.pages - self.next_page + 1, 0)


# --------------------------------------------------------------------------- helpers


def _record(reservation: Reservation) -> dict[str, Any]:
    """The stored JSON of a reservation, canonical so that equal content always hashes the same:
    times in UTC (a push may say +03:00), amounts with their zeros made uniform (169, "169.00", 169.0)."""
    record: dict[str, Any] = _canonical(reservation.model_dump(mode="python"))
    return record


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        cents = value.quantize(_CENT) if isinstance(exponent, int) and exponent >= -2 else value.normalize()
        return format(cents, "f")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _content_hash(record: Mapping[str, Any]) -> str:
    content = {k: v for k, v in record.items() if k not in DELIVERY_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _short(value: Any) -> str:
    text = "—" if value is None else json.dumps(value, ensure_ascii=False, default=str).strip('"')
    return text if len(text) <= 40 else text[:37] + "…"


def content_version(reservation: Reservation) -> str:
    """A digest of what the reservation says (delivery fields left out): equal versions, equal digests."""
    return _content_hash(_record(reservation))


def summarize_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two stored records, one line per changed field."""
    if old is None:
        return []
    lines = []
    for key in sorted(set(old) | set(new)):
        if key in DELIVERY_FIELDS or key == "updated_at" or old.get(key) == new.get(key):
            continue
        if isinstance(old.get(key), list | dict) or isinstance(new.get(key), list | dict):
            lines.append(f"{key} changed")
        else:
            lines.append(f"{key}: {_short(old.get(key))} → {_short(new.get(key))}")
    return lines


def _json(record: Mapping[str, Any]) -> str:
    """A record as stored: compact JSON."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _keep_version_payload(conn: sqlite3.Connection, current: sqlite3.Row) -> None:
    """The current version's row gets its own (compressed) copy of the payload before the reservation
    row's changes: it shared that one until now."""
    conn.execute(
        "UPDATE reservation_version SET payload = ? WHERE id = ? AND payload = ''",
        (_pack(current["payload"]), current["version_id"]),
    )


# A version row's payload: its own (compressed), or the reservation row's while it is the current version.
_VERSION_COLUMNS = (
    "v.id, v.hr_number, v.seen_at, v.source, v.result, v.updated_at, v.state, v.changes,"
    " CASE WHEN v.payload = '' THEN (SELECT r.payload FROM reservation r WHERE r.hr_number = v.hr_number)"
    " ELSE v.payload END AS payload"
)


def _lower(text: str | None) -> str | None:
    return text.strip().lower() if text else None


MAX_FUTURE_STAMP = timedelta(days=1)


def _decide(
    current: sqlite3.Row | None, incoming_updated: str | None, incoming_hash: str, incoming_state: str | None
) -> UpsertResult:
    """The ordering rule: newer updated_at wins; equal stamps with other content count as a correction,
    except that a cancellation is final: HotelRunner stamps to the second, so a booking canceled in the
    same second it was made or confirmed must not come back when the earlier push arrives late."""
    if current is None:
        return "new"
    if current["content_hash"] == incoming_hash:
        return "unchanged"
    stored_updated = current["updated_at"]
    if stored_updated and (incoming_updated is None or incoming_updated < stored_updated):
        return "stale"
    reopened = current["state"] in CANCELED_STATES and incoming_state not in CANCELED_STATES
    if reopened and incoming_updated == stored_updated:
        return "stale"
    return "updated"


# --------------------------------------------------------------------------- the store


class ReservationStore:
    """The mirror. Safe for several processes on one file; one instance may be shared by threads."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self._conn = connect(self.db_path)
        self._lock = threading.RLock()
        self._idle_readers: list[sqlite3.Connection] = []  # read connections for the heavy reads, reused
        self._closed = False
        with self._locked() as conn:
            migrate(conn, "reservation_mirror", MIGRATIONS)
            self._guest_index = (
                conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'reservation_guest'").fetchone() is not None
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self._closed = True
            for reader in self._idle_readers:
                reader.close()
            self._idle_readers.clear()

    def __enter__(self) -> ReservationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def _read_all(self, sql: str, params: Sequence[object]) -> list[sqlite3.Row]:
        """Run a long read (occupancy of a year, a big list) on a read connection of its own, so it holds
        neither the store's lock nor its connection: short reads and writes go on meanwhile (WAL: readers
        never block the writer). Connections are pooled, not kept per thread: worker threads come and go,
        and a connection per thread that ever ran a read would pile up for the life of the server."""
        with self._lock:
            conn = self._idle_readers.pop() if self._idle_readers else None
        if conn is None:
            conn = connect(self.db_path)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            with self._lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle_readers.append(conn)

    # ------------------------------------------------------------------ writes

    def upsert(self, reservation: Reservation, *, source: Source) -> UpsertResult:
        """Store one reservation if it is new or newer than the stored one; keep every distinct version."""
        with self._locked() as conn, immediate(conn):
            return self._upsert(conn, reservation, source, utc_text(datetime.now(UTC)))

    def upsert_many(self, reservations: Iterable[Reservation], *, source: Source) -> UpsertCounts:
        """Upsert a batch (e.g. one page) in one short transaction."""
        counts = UpsertCounts()
        with self._locked() as conn, immediate(conn):
            now = utc_text(datetime.now(UTC))
            for reservation in reservations:
                counts = counts.add(self._upsert(conn, reservation, source, now))
        return counts

    def _upsert(self, conn: sqlite3.Connection, reservation: Reservation, source: str, now: str) -> UpsertResult:
        if source not in SOURCES:
            raise ValueError(f"source must be one of {sorted(SOURCES)}, not {source!r}")
        record = _record(reservation)
        digest = _content_hash(record)
        stamp = reservation.updated_at
        if stamp is not None:  # a stamp far in the future would outrank every real change to come: bound it
            stamp = min(stamp, datetime.now(UTC) + MAX_FUTURE_STAMP)
        updated = utc_text(stamp) if stamp else None
        current = conn.execute("SELECT * FROM reservation WHERE hr_number = ?", (reservation.hr_number,)).fetchone()
        result = _decide(current, updated, digest, _lower(reservation.state))
        payload = _json(record)
        if result == "unchanged":  # same version; keep the latest delivery fields (message_uid) current
            assert current is not None
            if payload != current["payload"]:
                _keep_version_payload(conn, current)
            conn.execute(
                "UPDATE reservation SET last_seen_at = ?, last_source = ?, payload = ? WHERE hr_number = ?",
                (now, source, payload, reservation.hr_number),
            )
            return result
        if result == "stale":
            known = conn.execute(
                "SELECT 1 FROM reservation_version WHERE hr_number = ? AND content_hash = ?",
                (reservation.hr_number, digest),
            ).fetchone()
            if not known:
                self._insert_version(conn, reservation, _pack(payload), digest, updated, source, now, result, [])
            return result
        previous = json.loads(current["payload"]) if current else None
        changes = summarize_changes(previous, record)
        if current is not None:
            _keep_version_payload(conn, current)
        # the new current version's payload is the reservation row's: '' here, not a second copy
        version_id = self._insert_version(conn, reservation, "", digest, updated, source, now, result, changes)
        self._write_current(conn, reservation, payload, digest, updated, version_id, source, now)
        return result

    @staticmethod
    def _insert_version(
        conn: sqlite3.Connection,
        reservation: Reservation,
        payload: str | bytes,
        digest: str,
        updated: str | None,
        source: str,
        now: str,
        result: str,
        changes: list[str],
    ) -> int:
        cursor = conn.execute(
            "INSERT INTO reservation_version (hr_number, seen_at, source, result, updated_at, state, content_hash,"
            " changes, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reservation.hr_number,
                now,
                source,
                result,
                updated,
                _lower(reservation.state),
                digest,
                json.dumps(changes, ensure_ascii=False),
                payload,
            ),
        )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def _write_current(
        conn: sqlite3.Connection,
        reservation: Reservation,
        payload: str,
        digest: str,
        updated: str | None,
        version_id: int,
        source: str,
        now: str,
    ) -> None:
        conn.execute(
            "INSERT INTO reservation (hr_number, provider_number, channel, state, guest_search, checkin_date,"
            " checkout_date, completed_at, updated_at, content_hash, payload, version_id, first_seen_at,"
            " last_seen_at, last_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(hr_number) DO UPDATE SET provider_number = excluded.provider_number,"
            " channel = excluded.channel, state = excluded.state, guest_search = excluded.guest_search,"
            " checkin_date = excluded.checkin_date, checkout_date = excluded.checkout_date,"
            " completed_at = excluded.completed_at, updated_at = excluded.updated_at,"
            " content_hash = excluded.content_hash, payload = excluded.payload, version_id = excluded.version_id,"
            " last_seen_at = excluded.last_seen_at, last_source = excluded.last_source",
            (
                reservation.hr_number,
                reservation.provider_number,
                _lower(reservation.channel),
                _lower(reservation.state),
                guest_search_text(reservation),
                reservation.checkin_date.isoformat() if reservation.checkin_date else None,
                reservation.checkout_date.isoformat() if reservation.checkout_date else None,
                utc_text(reservation.completed_at) if reservation.completed_at else None,
                updated,
                digest,
                payload,
                version_id,
                now,
                now,
                source,
            ),
        )
        conn.execute("DELETE FROM reservation_night WHERE hr_number = ?", (reservation.hr_number,))
        conn.executemany(
            "INSERT INTO reservation_night (hr_number, night, inv_code, revenue, currency) VALUES (?, ?, ?, ?, ?)",
            _night_rows(reservation),
        )
        conn.execute("DELETE FROM reservation_room WHERE hr_number = ?", (reservation.hr_number,))
        conn.executemany(
            "INSERT INTO reservation_room (hr_number, line, inv_code, state, checkin_date, checkout_date)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    reservation.hr_number,
                    index,
                    room.inv_code,
                    _lower(room.state),
                    (room.checkin_date or reservation.checkin_date or date.min).isoformat(),
                    (room.checkout_date or reservation.checkout_date or date.min).isoformat(),
                )
                for index, room in enumerate(reservation.rooms)
            ],
        )

    # ------------------------------------------------------------------ reads

    def get(self, number: str) -> Reservation | None:
        """The current version by hr_number, or by the channel's provider_number (latest updated if several)."""
        number = number.strip()
        with self._locked() as conn:
            row = conn.execute("SELECT payload FROM reservation WHERE hr_number = ?", (number,)).fetchone()
            if row is None:
                row = conn.execute(
                    "SELECT payload FROM reservation WHERE provider_number = ? ORDER BY updated_at DESC LIMIT 1",
                    (number,),
                ).fetchone()
        return Reservation.model_validate_json(row["payload"]) if row else None

    def history(self, hr_number: str) -> list[ReservationVersion]:
        """Every distinct version seen, oldest first (by updated_at, then by arrival)."""
        with self._locked() as conn:
            rows = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM reservation_version v WHERE v.hr_number = ?"
                " ORDER BY v.updated_at IS NOT NULL, v.updated_at, v.id",
                (hr_number.strip(),),
            ).fetchall()
        versions: list[ReservationVersion] = []
        previous: dict[str, Any] | None = None
        for row in rows:
            record = json.loads(_unpack(row["payload"]))
            versions.append(
                ReservationVersion(
                    version_id=row["id"],
                    hr_number=row["hr_number"],
                    seen_at=_stamp(row["seen_at"]),
                    source=row["source"],
                    result=row["result"],
                    updated_at=parse_utc_text(row["updated_at"]),
                    state=row["state"],
                    changes=summarize_changes(previous, record),
                    reservation=Reservation.model_validate(record),
                )
            )
            previous = record
        return versions

    def find(self, query: ReservationQuery) -> list[Reservation]:
        """Reservations matching every filter of `query`, sorted and limited as it asks."""
        return [reservation for reservation, _ in self.find_keyed(query)]

    def find_keyed(self, query: ReservationQuery) -> list[tuple[Reservation, PageKey]]:
        """`find`, each reservation with its PageKey (where a page ending on it ends). With a limit, the
        matching rows are sorted on their indexed columns first and only the payloads kept are read."""
        where, params = where_clause(query, guest_index=self._guest_index)
        order = order_clause(query)
        select = f"SELECT r.payload, r.{SORT_COLUMNS[query.sort]} AS sort_value, r.hr_number FROM reservation r"
        sql = f"{select} WHERE {where} ORDER BY {order}"
        if query.limit is not None:
            sql = (
                f"{select} WHERE r.rowid IN (SELECT r.rowid FROM reservation r WHERE {where} ORDER BY {order} LIMIT ?)"
            )
            sql += f" ORDER BY {order}"
            params.append(query.limit)
        rows = self._read_all(sql, params)
        return [
            (Reservation.model_validate_json(row["payload"]), PageKey(row["sort_value"], row["hr_number"]))
            for row in rows
        ]

    def count(self, query: ReservationQuery | None = None) -> int:
        """How many reservations the mirror holds (matching `query`'s filters, ignoring its limit)."""
        phrase = guest_phrase(query.guest) if query and query.guest and self._guest_index else None
        if query and phrase is not None and only_guest(query):  # the index has one row per reservation
            sql, params = "SELECT COUNT(*) FROM reservation_guest WHERE reservation_guest MATCH ?", [phrase]
        else:
            where, params = where_clause(query, guest_index=self._guest_index) if query else ("1", [])
            sql = f"SELECT COUNT(*) FROM reservation r WHERE {where}"
        return int(self._read_all(sql, params)[0][0])

    def occupancy(self, start: date, end: date, rooms_per_type: Mapping[str, int]) -> list[NightOccupancy]:
        """Nights start..end (inclusive) × room type: rooms sold, revenue, ADR. Canceled bookings excluded.

        Reads the per-night sums (reservation_night_sum: at most nights × types × currencies rows), on
        a pooled read connection, so a worker thread (off_loop) can run it."""
        validate_occupancy_range(start, end)
        rows = self._read_all(
            "SELECT night, inv_code, SUM(sold) AS sold, SUM(revenue) AS revenue,"
            " COUNT(NULLIF(currency, '')) AS currencies, MIN(NULLIF(currency, '')) AS currency"
            " FROM reservation_night_sum WHERE night BETWEEN ? AND ? GROUP BY night, inv_code",
            (start.isoformat(), end.isoformat()),
        )
        sums = {
            (date.fromisoformat(row["night"]), row["inv_code"]): (
                int(row["sold"]),
                Decimal(row["revenue"] or 0) / MICROS,
                int(row["currencies"]),
                row["currency"],
            )
            for row in rows
        }
        return grid_of_sums(sums, start, end, rooms_per_type)

    # ------------------------------------------------------------------ change feed

    def latest_change_id(self) -> int:
        """Id of the latest new/updated version (0 if none). Cheap enough to poll."""
        with self._locked() as conn:
            row = conn.execute("SELECT MAX(id) FROM reservation_version WHERE result != 'stale'").fetchone()
        return int(row[0] or 0)

    def changes_since(self, since: datetime | int, *, limit: int = 500) -> list[ChangeEvent]:
        """Reservations that became new or changed after a change id, or after a moment (seen_at)."""
        param: str | int
        if isinstance(since, datetime):
            condition, param = "seen_at > ?", utc_text(since)
        else:
            condition, param = "id > ?", int(since)
        with self._locked() as conn:
            rows = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM reservation_version v WHERE v.result != 'stale' AND v.{condition}"
                " ORDER BY v.id LIMIT ?",
                (param, limit),
            ).fetchall()
        return [_change_event(row) for row in rows]

    def latest_changes(self, limit: int) -> list[ChangeEvent]:
        """The `limit` most recent new/updated versions, oldest first."""
        with self._locked() as conn:
            rows = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM (SELECT * FROM reservation_version WHERE result != 'stale'"
                " ORDER BY id DESC LIMIT ?) v ORDER BY v.id",
                (limit,),
            ).fetchall()
        return [_change_event(row) for row in rows]

    def last_change(self) -> ChangeEvent | None:
        """The latest new/updated version, with where it came from (push, sync, lookup…)."""
        with self._locked() as conn:
            row = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM reservation_version v WHERE v.result != 'stale'"
                " ORDER BY v.id DESC LIMIT 1"
            ).fetchone()
        return _change_event(row) if row else None

    def last_seen(self, source: Source) -> datetime | None:
        """When the mirror last received anything from `source` (e.g. the last push)."""
        with self._locked() as conn:
            row = conn.execute("SELECT MAX(last_seen_at) FROM reservation WHERE last_source = ?", (source,)).fetchone()
            seen = conn.execute("SELECT MAX(seen_at) FROM reservation_version WHERE source = ?", (source,)).fetchone()
        stamps = [s for s in (row[0], seen[0]) if s]
        return parse_utc_text(max(stamps)) if stamps else None

    # ------------------------------------------------------------------ sync state and lease

    def sync_state(self) -> SyncState:
        with self._locked() as conn:
            row = conn.execute("SELECT * FROM sync_state WHERE id = 1").fetchone()
        if row is None:
            return SyncState()
        return SyncState(
            last_sync_at=parse_utc_text(row["last_sync_at"]),
            cursor=parse_utc_text(row["cursor"]),
            last_report=json.loads(row["last_report"]) if row["last_report"] else None,
        )

    def sync_progress(self) -> SyncProgress | None:
        """The sync that stopped at its page limit and waits to be resumed, if any."""
        with self._locked() as conn:
            row = conn.execute("SELECT * FROM sync_progress WHERE id = 1").fetchone()
        if row is None:
            return None
        started = parse_utc_text(row["started_at"])
        assert started is not None
        return SyncProgress(
            mode=row["mode"],
            from_date=date.fromisoformat(row["from_date"]),
            from_last_update_date=(
                date.fromisoformat(row["from_last_update_date"]) if row["from_last_update_date"] else None
            ),
            started_at=started,
            next_page=int(row["next_page"]),
            pages=int(row["pages"]),
            count=int(row["count"]),
            fetched=int(row["fetched"]),
            requests=int(row["requests"]),
            last_completed_at=row["last_completed_at"],
            saved_at=parse_utc_text(row["saved_at"]),
            unordered=bool(row["unordered"]),
        )

    def set_sync_progress(self, progress: SyncProgress | None) -> None:
        """Remember where an unfinished sync stands (None forgets it)."""
        with self._locked() as conn, immediate(conn):
            conn.execute("DELETE FROM sync_progress")
            if progress is not None:
                conn.execute(
                    "INSERT INTO sync_progress (id, mode, from_date, from_last_update_date, started_at, next_page,"
                    " pages, count, fetched, requests, last_completed_at, saved_at, unordered)"
                    " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        progress.mode,
                        progress.from_date.isoformat(),
                        progress.from_last_update_date.isoformat() if progress.from_last_update_date else None,
                        utc_text(progress.started_at),
                        progress.next_page,
                        progress.pages,
                        progress.count,
                        progress.fetched,
                        progress.requests,
                        progress.last_completed_at,
                        utc_text(progress.saved_at) if progress.saved_at else None,
                        int(progress.unordered),
                    ),
                )

    def set_sync_state(
        self, *, last_sync_at: datetime, cursor: datetime | None, report: Mapping[str, Any] | None = None
    ) -> None:
        """Record a finished sync (and forget its progress). The cursor never moves backwards."""
        with self._locked() as conn, immediate(conn):
            conn.execute("DELETE FROM sync_progress")
            row = conn.execute("SELECT cursor FROM sync_state WHERE id = 1").fetchone()
            stored = row["cursor"] if row else None
            new_cursor = utc_text(cursor) if cursor else None
            if stored and (new_cursor is None or stored > new_cursor):
                new_cursor = stored
            conn.execute(
                "INSERT INTO sync_state (id, last_sync_at, cursor, last_report) VALUES (1, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET last_sync_at = excluded.last_sync_at, cursor = excluded.cursor,"
                " last_report = excluded.last_report",
                (utc_text(last_sync_at), new_cursor, json.dumps(report, default=str) if report is not None else None),
            )

    def acquire_lease(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take (or renew) a named lease across processes; False while another owner holds an unexpired one."""
        now = time.time()
        with self._locked() as conn, immediate(conn):
            row = conn.execute("SELECT owner, expires_at FROM sync_lease WHERE name = ?", (name,)).fetchone()
            if row and row["owner"] != owner and row["expires_at"] > now and owner_alive(row["owner"]):
                return False
            conn.execute(
                "INSERT INTO sync_lease (name, owner, expires_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
                " owner = excluded.owner, expires_at = excluded.expires_at",
                (name, owner, now + ttl_seconds),
            )
            return True

    def release_lease(self, name: str, owner: str) -> None:
        with self._locked() as conn, immediate(conn):
            conn.execute("DELETE FROM sync_lease WHERE name = ? AND owner = ?", (name, owner))


def _stamp(text: str) -> datetime:
    parsed = parse_utc_text(text)
    assert parsed is not None
    return parsed


def _change_event(row: sqlite3.Row) -> ChangeEvent:
    record = json.loads(_unpack(row["payload"]))
    return ChangeEvent(
        id=row["id"],
        hr_number=row["hr_number"],
        kind=row["result"],
        source=row["source"],
        seen_at=_stamp(row["seen_at"]),
        updated_at=parse_utc_text(row["updated_at"]),
        state=row["state"],
        guest=record.get("guest"),
        checkin_date=date.fromisoformat(record["checkin_date"]) if record.get("checkin_date") else None,
        checkout_date=date.fromisoformat(record["checkout_date"]) if record.get("checkout_date") else None,
        changes=json.loads(row["changes"]),
    )
