"""Acknowledging deliveries (PUT /reservations/~), by the owner's choice: each delivery once, never twice.

HotelRunner lists a booking as undelivered until its current `message_uid` is acknowledged; a PMS may
rely on that list, so this is off unless HOTELRUNNER_ACKNOWLEDGE_DELIVERIES is on. When on, every
delivery that reaches the mirror (from a push, a sync or a lookup, in any process) is queued by SQLite
triggers in the same transaction that stores it, so it is acknowledged only once it is safely stored.

Queue states (`delivery_ack` in mirror.db, shared by every process on the data folder):
- pending → sending:<owner> (claimed in one write transaction, so two processes never both send it)
  → acknowledged; or back to pending when nothing was sent (quota, HotelRunner said try_again);
- outcome_unknown: a timeout or 5xx, or a process that died while sending: never sent again;
- superseded (the booking has a newer message_uid: that one is acknowledged instead), too_old (seen more
  than 30 days ago), refused (HotelRunner refused that message_uid).

Acknowledging spends quota, so it runs only within a budget: never waiting for a per-minute slot,
leaving slots each minute and a fifth of the day for the people using the server. When HotelRunner has
not enabled the endpoint for the app (403, or 401/404 before any acknowledgement ever succeeded),
the server stops trying for a day and setup-status says so.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from hotelrunner_mcp.errors import (
    EndpointNotEnabled,
    HotelRunnerError,
    NotApplied,
    OutcomeUnknown,
    UpstreamRejected,
)
from hotelrunner_mcp.gate.gate import quota_patience
from hotelrunner_mcp.storage.offloop import off_loop, off_loop_shielded
from hotelrunner_mcp.storage.sqlite import connect, immediate, lease_owner, migrate, owner_alive
from hotelrunner_mcp.times import iso_z, parse_stored, stored

if TYPE_CHECKING:
    from hotelrunner_mcp.services import Services

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0  # a waiting delivery is noticed within this; an empty queue costs one indexed read
ACKS_PER_ROUND = 10  # then the next round follows at once: the quota budget, not the round, paces the backlog
KEEP_FREE_PER_MINUTE = 2  # per-minute slots left to the people using the server
DAY_RESERVE_SHARE = 5  # and a fifth of the day
MAX_AGE = timedelta(days=30)  # HotelRunner's listings look back about 30 days; older deliveries are left
RETRY_DISABLED_AFTER = timedelta(hours=24)
SENDING = "sending:"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery_ack (
    message_uid TEXT PRIMARY KEY,
    hr_number   TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    updated_at  TEXT,
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS delivery_ack_state ON delivery_ack (state, seen_at);
CREATE TABLE IF NOT EXISTS delivery_ack_status (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    disabled_at   TEXT,
    disabled_note TEXT,
    last_ack_at   TEXT
);
INSERT OR IGNORE INTO delivery_ack (message_uid, hr_number, seen_at)
    SELECT json_extract(payload, '$.message_uid'), hr_number, last_seen_at FROM reservation
    WHERE json_extract(payload, '$.message_uid') IS NOT NULL
"""
MIGRATIONS = (_SCHEMA,)  # step 1; append steps, never edit old ones

# No INSERT OR IGNORE: inside a trigger the mirror's own upsert decides conflicts, and a clash would undo
# the mirror's write. NOT EXISTS cannot clash.
_ENQUEUE = (
    "INSERT INTO delivery_ack (message_uid, hr_number, seen_at)"
    " SELECT json_extract(NEW.payload, '$.message_uid'), NEW.hr_number, NEW.last_seen_at"
    " WHERE NOT EXISTS (SELECT 1 FROM delivery_ack d WHERE d.message_uid = json_extract(NEW.payload, '$.message_uid'))"
)
_WHEN = "WHEN json_extract(NEW.payload, '$.message_uid') IS NOT NULL"
TRIGGERS = (  # one statement each (a trigger body holds a ';', which migrate() would split); re-made at each
    # open, so their text always matches this code
    "DROP TRIGGER IF EXISTS delivery_ack_on_insert",
    f"CREATE TRIGGER delivery_ack_on_insert AFTER INSERT ON reservation {_WHEN} BEGIN {_ENQUEUE}; END",
    "DROP TRIGGER IF EXISTS delivery_ack_on_update",
    f"CREATE TRIGGER delivery_ack_on_update AFTER UPDATE OF payload ON reservation {_WHEN} BEGIN {_ENQUEUE}; END",
)


@dataclass(frozen=True)
class Delivery:
    message_uid: str
    hr_number: str


@dataclass(frozen=True)
class AckStatus:
    """What setup-status shows."""

    counts: dict[str, int]
    disabled_at: datetime | None
    disabled_note: str | None
    last_ack_at: datetime | None


@dataclass(frozen=True)
class AckRound:
    """What one round did: acknowledged deliveries, and why it stopped."""

    acknowledged: int
    stopped: str


class DeliveryAcks:
    """The acknowledgement queue in mirror.db. Safe for several processes; thread-safe in one."""

    def __init__(self, db_path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._conn = connect(Path(db_path))
        self._lock = threading.Lock()
        self._clock = clock
        self.owner = lease_owner()
        with self._lock:
            migrate(self._conn, "delivery_acks", MIGRATIONS)
            with immediate(self._conn) as conn:
                for trigger in TRIGGERS:
                    conn.execute(trigger)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate(self._conn) as conn:
            yield conn

    def _now(self) -> str:
        return stored(self._clock())

    # ------------------------------------------------------------------ the queue

    def tidy(self) -> None:
        """Retire what must not be sent: superseded, too old, or claimed by a process that died."""
        now = self._clock()
        with self._write() as conn:
            conn.execute(
                "UPDATE delivery_ack SET state = 'superseded', updated_at = ? WHERE state = 'pending' AND"
                " message_uid IS NOT (SELECT json_extract(r.payload, '$.message_uid') FROM reservation r"
                " WHERE r.hr_number = delivery_ack.hr_number)",
                (stored(now),),
            )
            conn.execute(
                "UPDATE delivery_ack SET state = 'too_old', updated_at = ? WHERE state = 'pending' AND seen_at < ?",
                (stored(now), stored(now - MAX_AGE)),
            )
            for row in conn.execute("SELECT message_uid, state FROM delivery_ack WHERE state LIKE ?", (SENDING + "%",)):
                if not owner_alive(row["state"][len(SENDING) :]):
                    conn.execute(
                        "UPDATE delivery_ack SET state = 'outcome_unknown', updated_at = ?, detail = ?"
                        " WHERE message_uid = ?",
                        (
                            stored(now),
                            "the server sending it stopped before HotelRunner answered",
                            row["message_uid"],
                        ),
                    )

    def claim(self) -> Delivery | None:
        """The oldest pending delivery, now this process's to send (no other process can claim it)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT message_uid, hr_number FROM delivery_ack WHERE state = 'pending' ORDER BY seen_at LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE delivery_ack SET state = ?, updated_at = ? WHERE message_uid = ? AND state = 'pending'",
                (SENDING + self.owner, self._now(), row["message_uid"]),
            )
        return Delivery(row["message_uid"], row["hr_number"])

    def finish(self, delivery: Delivery, state: str, detail: str | None = None) -> None:
        """Record how sending ended; 'pending' puts it back (nothing was sent)."""
        now = self._now()
        with self._write() as conn:
            conn.execute(
                "UPDATE delivery_ack SET state = ?, updated_at = ?, detail = ? WHERE message_uid = ? AND state = ?",
                (state, now, detail, delivery.message_uid, SENDING + self.owner),
            )
            if state == "acknowledged":
                conn.execute(  # it works: any earlier "not enabled" is over
                    "INSERT INTO delivery_ack_status (id, last_ack_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET"
                    " last_ack_at = excluded.last_ack_at, disabled_at = NULL, disabled_note = NULL",
                    (now,),
                )

    def ever_acknowledged(self) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM delivery_ack WHERE state = 'acknowledged' LIMIT 1").fetchone()
        return row is not None

    # ------------------------------------------------------------------ the endpoint switch

    def disable(self, note: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO delivery_ack_status (id, disabled_at, disabled_note) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET disabled_at = excluded.disabled_at,"
                " disabled_note = excluded.disabled_note",
                (self._now(), note),
            )

    def status(self) -> AckStatus:
        with self._lock:
            rows = self._conn.execute("SELECT state, COUNT(*) AS n FROM delivery_ack GROUP BY state").fetchall()
            row = self._conn.execute("SELECT * FROM delivery_ack_status WHERE id = 1").fetchone()
        counts: dict[str, int] = {}
        for r in rows:
            state = "sending" if r["state"].startswith(SENDING) else r["state"]
            counts[state] = counts.get(state, 0) + r["n"]
        return AckStatus(
            counts=counts,
            disabled_at=parse_stored(row["disabled_at"]) if row else None,
            disabled_note=row["disabled_note"] if row else None,
            last_ack_at=parse_stored(row["last_ack_at"]) if row else None,
        )

    def paused_until(self) -> datetime | None:
        """When the server tries the endpoint again after HotelRunner said it is not enabled (None: not paused)."""
        disabled = self.status().disabled_at
        if disabled is None:
            return None
        until = disabled + RETRY_DISABLED_AFTER
        return until if until > self._clock() else None


# --------------------------------------------------------------------------- sending


def _budget_left(services: Services) -> str | None:
    """Why acknowledging must wait now (the people using the server come first), or None."""
    quota = services.limiter.status()
    if quota.left_today <= quota.per_day // DAY_RESERVE_SHARE:
        return f"only {quota.left_today} requests left today: kept for the people using the server"
    keep = min(KEEP_FREE_PER_MINUTE, max(quota.per_minute - 1, 0))
    if quota.used_last_minute + keep >= quota.per_minute:
        return "the minute's slots are kept for the people using the server"
    return None


async def acknowledge_pending(services: Services, *, max_acks: int = ACKS_PER_ROUND) -> AckRound:
    """One round: acknowledge up to `max_acks` waiting deliveries, oldest first, within the budget."""
    settings = services.settings
    if not settings.acknowledge_deliveries:
        return AckRound(0, "off (HOTELRUNNER_ACKNOWLEDGE_DELIVERIES is not on)")
    if settings.read_only:
        return AckRound(0, "off: read-only mode writes nothing")
    if services.client is None:
        return AckRound(0, "off: no credentials")
    acks = services.acks
    paused = await off_loop(acks.paused_until)
    if paused is not None:
        return AckRound(0, f"not enabled by HotelRunner; next try after {paused:%Y-%m-%d %H:%M} UTC")
    await off_loop(acks.tidy)
    done = 0
    while done < max_acks:
        why = await off_loop(_budget_left, services)
        if why:
            return AckRound(done, why)
        delivery = await off_loop(acks.claim)
        if delivery is None:
            return AckRound(done, "nothing waiting")
        outcome = await _send(services, delivery)
        if outcome == "acknowledged":
            done += 1
        elif outcome != "next":
            return AckRound(done, outcome)
    return AckRound(done, "round limit")


async def _send(services: Services, delivery: Delivery) -> str:
    """Send one acknowledgement; 'acknowledged', 'next' (go on with the next one) or why to stop."""
    acks, client = services.acks, services.require_client()
    arguments = {"hr_number": delivery.hr_number, "message_uid": delivery.message_uid}
    try:
        with services.audit.tool_call("acknowledge_delivery (background)", None, arguments), quota_patience(0):
            await client.acknowledge_reservation(delivery.message_uid)
    except EndpointNotEnabled as exc:
        if exc.status == 404 and await off_loop(acks.ever_acknowledged):
            # the endpoint works here: HotelRunner no longer knows this message_uid (a newer one replaced it)
            await off_loop_shielded(
                acks.finish, delivery, "refused", "HotelRunner does not know this message_uid (404)"
            )
            return "next"
        await off_loop_shielded(acks.finish, delivery, "pending")
        await off_loop_shielded(acks.disable, exc.message)
        log.warning("HotelRunner has not enabled delivery acknowledgement for this app; stopped trying for a day")
        return "not enabled by HotelRunner"
    except OutcomeUnknown as exc:
        await off_loop_shielded(acks.finish, delivery, "outcome_unknown", exc.message[:300])
        return "next"
    except NotApplied as exc:
        await off_loop_shielded(acks.finish, delivery, "pending", exc.message[:300])
        return "HotelRunner said try again later"
    except UpstreamRejected as exc:
        await off_loop_shielded(acks.finish, delivery, "refused", exc.message[:300])
        return "next"
    except HotelRunnerError as exc:  # nothing was applied (quota, connection, audit): try again later
        await off_loop_shielded(acks.finish, delivery, "pending", exc.message[:300])
        return f"stopped: {exc.code}"
    except BaseException:
        await off_loop_shielded(acks.finish, delivery, "outcome_unknown", "interrupted while sending")
        raise
    await off_loop_shielded(acks.finish, delivery, "acknowledged")
    return "acknowledged"


async def keep_acknowledging(services: Callable[[], Awaitable[Services]], poll_seconds: float = POLL_SECONDS) -> None:
    """The background task of a server process: a round every `poll_seconds` while the setting is on."""
    while True:
        try:
            opened = await services()
            if not opened.settings.acknowledge_deliveries or opened.settings.read_only:
                return
            done = await acknowledge_pending(opened)
        except Exception:  # a broken data folder or a bug must not stop the server
            log.debug("acknowledging deliveries failed this round", exc_info=True)
        else:
            if done.stopped == "round limit":  # more are waiting and the budget allows: go on
                await anyio.sleep(0)
                continue
        await anyio.sleep(poll_seconds)


def describe(services: Services) -> dict[str, Any]:
    """setup-status's `delivery_acknowledgement` section, in plain words."""
    settings = services.settings
    if not settings.acknowledge_deliveries:
        return {
            "setting": "off",
            "state": "deliveries are not acknowledged (HOTELRUNNER_ACKNOWLEDGE_DELIVERIES=false, the default): "
            "HotelRunner keeps listing them as undelivered for a PMS that may rely on that",
        }
    status = services.acks.status()
    counts = status.counts
    section: dict[str, Any] = {
        "setting": "on",
        "acknowledged": counts.get("acknowledged", 0),
        "waiting": counts.get("pending", 0) + counts.get("sending", 0),
        "outcome_unknown": counts.get("outcome_unknown", 0),
        "refused": counts.get("refused", 0),
        "last_acknowledged_at": iso_z(status.last_ack_at) if status.last_ack_at else None,
    }
    paused = services.acks.paused_until()
    if settings.read_only:
        section["state"] = "off: read-only mode sends nothing, acknowledgements included"
    elif paused is not None:
        section["state"] = (
            "NOT ENABLED BY HOTELRUNNER: acknowledging deliveries is an endpoint HotelRunner switches on per app, on "
            "request (integrations@hotelrunner.com). Its refusal is not a credentials problem; nothing was "
            f"acknowledged, and this server stopped trying at {status.disabled_at:%Y-%m-%d %H:%M} UTC. It tries "
            f"once more after {paused:%Y-%m-%d %H:%M} UTC; or turn HOTELRUNNER_ACKNOWLEDGE_DELIVERIES off."
        )
        section["hotelrunner_said"] = status.disabled_note
    else:
        section["state"] = (
            "on: each delivery is acknowledged once it is in the mirror, within the quota (never waiting for a "
            "slot; a fifth of the day and some of each minute are kept for people)"
        )
    if section["outcome_unknown"]:
        section["outcome_unknown_note"] = (
            "these were being acknowledged when HotelRunner did not answer (or the server stopped): they are never "
            "sent twice; HotelRunner's panel shows whether they left the undelivered list"
        )
    return section
