"""Preview plan ids: bound to one set of changes (by fingerprint), single use, short-lived.

Kept in SQLite so a plan previewed by one server process can be applied through another one on the
same data dir. Redeeming is one conditional UPDATE, so two concurrent applies cannot both win.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotelrunner_mcp.errors import InvalidRequest
from hotelrunner_mcp.gate.quota import iso_utc
from hotelrunner_mcp.storage.sqlite import connect, immediate, lease_owner, migrate, owner_alive

PLANS_DB_NAME = "plans.db"
KEEP_SECONDS_AFTER_EXPIRY = 86400.0  # expired or used plans are kept a day, so errors can say why

_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    plan_id     TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL,
    used_at     REAL,
    summary     TEXT
)
"""
MIGRATIONS = (
    _SCHEMA,
    # step 2: what became of an applied plan. 'applying:<owner>' until the apply ends, so a server that
    # was killed mid-apply is told "outcome unknown" instead of "already applied".
    "ALTER TABLE plans ADD COLUMN outcome TEXT",
)
APPLYING = "applying:"


def plans_db_path(data_dir: Path) -> Path:
    return data_dir / PLANS_DB_NAME


@dataclass(frozen=True)
class IssuedPlan:
    plan_id: str
    expires_at: float  # epoch seconds, same clock as the store

    @property
    def expires_at_iso(self) -> str:
        return iso_utc(self.expires_at) or "?"


@dataclass(frozen=True)
class StoredPlan:
    plan_id: str
    fingerprint: str
    created_at: float
    expires_at: float
    used_at: float | None
    summary: dict[str, Any] | None
    outcome: str | None = None  # None until applied; "applying:<owner>" while applying; then how it ended

    @property
    def interrupted(self) -> bool:
        """Redeemed by a process that died before recording how the apply ended."""
        return bool(
            self.outcome and self.outcome.startswith(APPLYING) and not owner_alive(self.outcome[len(APPLYING) :])
        )


class PlanStore:
    """Issue and redeem plan ids. Safe to share between threads and processes."""

    def __init__(self, db_path: Path, *, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._ttl = ttl_seconds
        self._clock = clock
        self._conn = connect(Path(db_path))
        self._lock = threading.Lock()  # one connection, never used by two threads at once
        with self._lock:
            migrate(self._conn, "plans", MIGRATIONS)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def issue(self, fingerprint: str, summary: dict[str, Any] | None = None) -> IssuedPlan:
        """A new plan id for these changes, valid for `ttl_seconds`."""
        now = self._clock()
        plan = IssuedPlan(secrets.token_urlsafe(12), now + self._ttl)
        with self._lock, immediate(self._conn) as conn:
            conn.execute("DELETE FROM plans WHERE expires_at < ?", (now - KEEP_SECONDS_AFTER_EXPIRY,))
            conn.execute(
                "INSERT INTO plans (plan_id, fingerprint, created_at, expires_at, summary) VALUES (?, ?, ?, ?, ?)",
                (
                    plan.plan_id,
                    fingerprint,
                    now,
                    plan.expires_at,
                    json.dumps(summary, default=str) if summary is not None else None,
                ),
            )
        return plan

    def get(self, plan_id: str) -> StoredPlan | None:
        """The stored plan, used or not, or None."""
        with self._lock:
            row = self._conn.execute("SELECT * FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
        if row is None:
            return None
        return StoredPlan(
            plan_id=row["plan_id"],
            fingerprint=row["fingerprint"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            used_at=row["used_at"],
            summary=json.loads(row["summary"]) if row["summary"] is not None else None,
            outcome=row["outcome"],
        )

    def check(self, plan_id: str, fingerprint: str) -> None:
        """Raise `InvalidRequest` now if `redeem` would refuse; uses nothing (so bad ids cost no request)."""
        now = self._clock()
        plan = self.get(plan_id)
        if plan is None or plan.used_at is not None or plan.fingerprint != fingerprint or plan.expires_at <= now:
            raise InvalidRequest(self._refusal(plan_id, fingerprint, now))

    def release(self, plan_id: str) -> None:
        """Make a redeemed plan usable again (its apply sent nothing), until it expires as before."""
        with self._lock, immediate(self._conn) as conn:
            conn.execute("UPDATE plans SET used_at = NULL, outcome = NULL WHERE plan_id = ?", (plan_id,))

    def finish(self, plan_id: str, outcome: str) -> None:
        """Record how an apply ended ("applied", "partial", "failed", "outcome_unknown")."""
        with self._lock, immediate(self._conn) as conn:
            conn.execute("UPDATE plans SET outcome = ? WHERE plan_id = ?", (outcome, plan_id))

    def interrupted(self) -> list[StoredPlan]:
        """Plans whose apply never recorded an end (the server was killed while sending them)."""
        with self._lock:
            rows = self._conn.execute("SELECT plan_id FROM plans WHERE outcome LIKE ?", (APPLYING + "%",)).fetchall()
        found = [self.get(row["plan_id"]) for row in rows]
        return [plan for plan in found if plan is not None and plan.interrupted]

    def redeem(self, plan_id: str, fingerprint: str) -> None:
        """Use the plan once for exactly these changes, or raise `InvalidRequest` saying why not."""
        now = self._clock()
        with self._lock, immediate(self._conn) as conn:
            used = conn.execute(
                "UPDATE plans SET used_at = ?, outcome = ? WHERE plan_id = ? AND fingerprint = ? AND used_at IS NULL"
                " AND expires_at > ?",
                (now, APPLYING + lease_owner(), plan_id, fingerprint, now),
            ).rowcount
        if used == 1:
            return
        raise InvalidRequest(self._refusal(plan_id, fingerprint, now))

    def _refusal(self, plan_id: str, fingerprint: str, now: float) -> str:
        plan = self.get(plan_id)
        if plan is None:
            return (
                f"unknown plan id {plan_id!r}; nothing was applied. Preview the changes again "
                "(without plan_id) and apply with the plan id that preview returns"
            )
        if plan.used_at is not None and (plan.interrupted or plan.outcome == "outcome_unknown"):
            return (
                f"plan {plan_id} was being applied at {iso_utc(plan.used_at)} and stopped before HotelRunner's "
                "answer was recorded: OUTCOME UNKNOWN, some of its requests may have been applied. "
                "Do not resend blindly: call check_channel_results and get_calendar, or look at the HotelRunner "
                "panel, then preview what is still needed and apply that new plan id"
            )
        if plan.used_at is not None:
            return (
                f"plan {plan_id} was already applied at {iso_utc(plan.used_at)}; a plan id works once. "
                "To change the calendar again, preview the new changes and apply with their plan id"
            )
        if plan.fingerprint != fingerprint:
            return (
                f"the changes differ from the ones previewed as plan {plan_id}; nothing was applied. "
                "Preview these changes to get their own plan id, or send exactly the previewed changes"
            )
        return (
            f"plan {plan_id} expired at {iso_utc(plan.expires_at)}; nothing was applied. "
            "Preview the changes again to get a fresh plan id"
        )
