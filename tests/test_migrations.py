"""A data folder written by the server before schema versions existed opens with nothing lost
(tests/fixtures/data-folder-af87e5f: reservations, ledger values, quota entries, an open plan)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from hotelrunner_mcp.calendar.ledger import CalendarLedger
from hotelrunner_mcp.calendar.plans import PlanStore
from hotelrunner_mcp.gate.quota import QuotaLimiter
from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.reservations.mirror import MIGRATIONS as MIRROR_MIGRATIONS
from hotelrunner_mcp.reservations.mirror import ReservationStore
from hotelrunner_mcp.reservations.queries import ReservationQuery, fold, guest_search_text, occupancy_grid
from hotelrunner_mcp.storage.sqlite import migrate

FIXTURE = Path(__file__).parent / "fixtures" / "data-folder-af87e5f"


@pytest.fixture
def old_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(FIXTURE, folder)
    return folder


def test_every_reservation_ledger_value_quota_entry_and_plan_survives(old_folder: Path) -> None:
    manifest = json.loads((old_folder / "manifest.json").read_text())
    with ReservationStore(old_folder / "mirror.db") as store:
        assert sorted(r.hr_number for r in store.find(ReservationQuery())) == manifest["reservations"]
    with CalendarLedger(old_folder / "mirror.db") as ledger:
        for inv, rate, day, field, value in manifest["ledger_sample"]:
            found = ledger.previous(inv, rate or None, date.fromisoformat(day), field)
            assert found is not None and str(found.value) == value
    limiter = QuotaLimiter(old_folder / "quota.db", key="any", per_minute=5, per_day=250)
    limiter.status()  # opens (and migrates) the ledger
    limiter.close()
    with sqlite3.connect(old_folder / "quota.db") as raw:
        for table, rows in manifest["quota_tables"].items():
            assert raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == rows
        assert dict(raw.execute("SELECT component, version FROM schema_versions")) == {"quota": 3}
    plans = PlanStore(old_folder / "plans.db", ttl_seconds=600)
    try:
        plan = plans.get(manifest["open_plan"])
        assert plan is not None and plan.used_at is None and plan.outcome is None
    finally:
        plans.close()
    with sqlite3.connect(old_folder / "mirror.db") as raw:
        versions = dict(raw.execute("SELECT component, version FROM schema_versions"))
        assert raw.execute("SELECT COUNT(*) FROM ledger_writes").fetchone()[0] == manifest["ledger_writes"]
    assert versions == {"reservation_mirror": len(MIRROR_MIGRATIONS), "calendar_ledger": 1}


def test_an_old_mirror_gets_its_guest_index_night_sums_and_shared_payloads(old_folder: Path) -> None:
    """The steps that came later build what the queries read from the reservations already there, and
    every version of the history still reads as it was stored."""
    with sqlite3.connect(old_folder / "mirror.db") as raw:
        stored = {(n, i): p for n, i, p in raw.execute("SELECT hr_number, id, payload FROM reservation_version")}
    with ReservationStore(old_folder / "mirror.db") as store:
        everyone = store.find(ReservationQuery())
        history = {(n, v.version_id): v.reservation for n, _ in stored for v in store.history(n)}
        assert history == {key: Reservation.model_validate_json(payload) for key, payload in stored.items()}
        guests = sorted({fold(r.guest)[:4] for r in everyone if r.guest and len(fold(r.guest)) >= 4})
        assert guests
        for text in guests:
            expected = [r.hr_number for r in everyone if text in guest_search_text(r)]
            assert [r.hr_number for r in store.find(ReservationQuery(guest=text))] == expected
        stays = sorted(r.checkin_date for r in everyone if r.checkin_date)
        start, end = stays[0], stays[0] + timedelta(days=365)
        rooms = {"DLXTRP": 3, "SUITE": 2}
        assert store.occupancy(start, end, rooms) == occupancy_grid(everyone, start, end, rooms)
        assert sum(c.rooms_sold for c in store.occupancy(start, end, rooms)) > 0


def test_a_folder_from_a_newer_server_is_refused_not_misread(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.row_factory = sqlite3.Row
    migrate(conn, "thing", ("CREATE TABLE t (a)", "ALTER TABLE t ADD COLUMN b"))
    with pytest.raises(sqlite3.DatabaseError, match="newer than this server knows"):
        migrate(conn, "thing", ("CREATE TABLE t (a)",))
    assert migrate(conn, "thing", ("CREATE TABLE t (a)", "ALTER TABLE t ADD COLUMN b")) == 2  # idempotent


def test_a_mirror_with_the_first_guest_index_gets_one_that_survives_renumbering(old_folder: Path) -> None:
    """Step 6 once built the guest index keyed by rowid (which a VACUUM or a dump and reload may renumber). A
    file that ran it is at version 9 with that index: step 10 replaces it, and a guest search then finds only
    the right guests."""
    db = old_folder / "mirror.db"
    ReservationStore(db).close()
    with sqlite3.connect(db) as conn:  # put back what step 6 built, as a file at version 9 holds it
        for trigger in ("insert", "update", "delete"):
            conn.execute(f"DROP TRIGGER reservation_guest_{trigger}")
        conn.execute("DROP TABLE reservation_guest")
        conn.execute("DROP INDEX reservation_guest_key")
        conn.execute("ALTER TABLE reservation DROP COLUMN guest_key")
        conn.execute("ALTER TABLE sync_progress DROP COLUMN unordered")  # (step 11)
        conn.execute(
            "CREATE VIRTUAL TABLE reservation_guest USING fts5(guest_search, tokenize = 'trigram case_sensitive 1')"
        )
        conn.execute("INSERT INTO reservation_guest (rowid, guest_search) SELECT rowid, guest_search FROM reservation")
        conn.execute("UPDATE schema_versions SET version = 9 WHERE component = 'reservation_mirror'")
        conn.execute("UPDATE reservation SET rowid = rowid + 1000")  # and a dump and reload renumbered it
    with ReservationStore(db) as store:
        everyone = store.find(ReservationQuery())
        guest = next(r for r in everyone if r.guest)
        text = fold(guest.guest or "")[:5]
        expected = sorted(r.hr_number for r in everyone if text in guest_search_text(r))
        assert len(expected) < len(everyone)
        assert sorted(r.hr_number for r in store.find(ReservationQuery(guest=text))) == expected
        assert store.count(ReservationQuery(guest=text)) == len(expected)
    with sqlite3.connect(db) as conn:
        version = conn.execute("SELECT version FROM schema_versions WHERE component = 'reservation_mirror'").fetchone()
    assert version[0] == len(MIRROR_MIGRATIONS)
