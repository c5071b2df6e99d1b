"""The reservation mirror: upsert ordering, history, queries, occupancy, several processes, restarts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hotelrunner_mcp.errors import InvalidRequest
from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.reservations.mirror import ReservationStore, UpsertCounts
from hotelrunner_mcp.reservations.queries import (
    DateRange,
    ReservationQuery,
    fold,
    guest_search_text,
    occupancy_grid,
)
from hotelrunner_mcp.storage.sqlite import connect

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def booking(hr_number: str = "R1", *, updated: int = 0, **fields: Any) -> Reservation:
    """A Villa Thaifa booking as HotelRunner sends it; `updated` is minutes after T0."""
    checkin = fields.pop("checkin", "2026-08-10")
    checkout = fields.pop("checkout", "2026-08-13")
    rooms = fields.pop("rooms", None) or [
        {"inv_code": "DDS", "code": "DDS", "price": "447.00", "nights": 3, "state": "confirmed"}
    ]
    data: dict[str, Any] = {
        "hr_number": hr_number,
        "provider_number": f"BDC-{hr_number}",
        "channel": "bookingcom",
        "state": "confirmed",
        "guest": "Anna Schmidt",
        "completed_at": (T0 - timedelta(days=5)).isoformat(),
        "updated_at": (T0 + timedelta(minutes=updated)).isoformat(),
        "checkin_date": checkin,
        "checkout_date": checkout,
        "total": "447.00",
        "currency": "EUR",
        "address": {"email": f"{hr_number.lower()}@example.com"},
        "rooms": rooms,
        **fields,
    }
    return Reservation.model_validate(data)


@pytest.fixture
def store(tmp_path: Path):
    with ReservationStore(tmp_path / "mirror.db") as s:
        yield s


def numbers(reservations: list[Reservation]) -> list[str]:
    return [r.hr_number for r in reservations]


# --------------------------------------------------------------------------- upsert rules and history


def test_upsert_new_then_unchanged_then_updated(store: ReservationStore) -> None:
    assert store.upsert(booking(), source="sync") == "new"
    assert store.upsert(booking(), source="push") == "unchanged"
    assert store.upsert(booking(updated=5, state="canceled"), source="push") == "updated"
    assert store.get("R1").state == "canceled"
    assert store.count() == 1


def test_older_version_never_overwrites_newer_but_is_kept_in_history(store: ReservationStore) -> None:
    store.upsert(booking(updated=10, state="canceled"), source="push")
    assert store.upsert(booking(updated=0), source="sync") == "stale"
    assert store.get("R1").state == "canceled"
    history = store.history("R1")
    assert [(v.result, v.state) for v in history] == [("stale", "confirmed"), ("new", "canceled")]
    assert history[1].changes == ["state: confirmed → canceled"]
    # the same stale push again adds nothing
    assert store.upsert(booking(updated=0), source="push") == "stale"
    assert len(store.history("R1")) == 2


def test_delivery_fields_alone_do_not_make_a_version(store: ReservationStore) -> None:
    store.upsert(booking(message_uid="m-1"), source="listing")
    assert store.upsert(booking(message_uid="m-2", reason="confirm"), source="push") == "unchanged"
    assert len(store.history("R1")) == 1


def test_the_same_content_written_differently_is_one_version(store: ReservationStore) -> None:
    store.upsert(booking(total="447.00", message_uid="m-1"), source="sync")
    same = booking(total=447, message_uid="m-2", updated_at="2026-07-01T13:00:00+03:00")
    assert store.upsert(same, source="push") == "unchanged"
    assert len(store.history("R1")) == 1
    assert store.get("R1").message_uid == "m-2"  # the latest delivery is the one to acknowledge


def test_same_stamp_with_other_content_is_a_correction(store: ReservationStore) -> None:
    store.upsert(booking(note="late arrival"), source="sync")
    assert store.upsert(booking(note="arrives 23:00"), source="lookup") == "updated"
    assert store.get("R1").note == "arrives 23:00"
    assert store.history("R1")[-1].changes == ["note: late arrival → arrives 23:00"]


def test_history_lists_every_version_with_what_changed(store: ReservationStore) -> None:
    store.upsert(booking(), source="sync")
    store.upsert(booking(updated=1, checkout="2026-08-15", total="745.00"), source="push")
    store.upsert(booking(updated=2, checkout="2026-08-15", total="745.00", state="canceled"), source="push")
    history = store.history("R1")
    assert [v.source for v in history] == ["sync", "push", "push"]
    assert history[0].changes == []
    assert history[1].changes == ["checkout_date: 2026-08-13 → 2026-08-15", "total: 447.00 → 745.00"]
    assert history[2].changes == ["state: confirmed → canceled"]
    assert history[1].reservation.checkout_date == date(2026, 8, 15)


def test_upsert_many_counts_each_outcome(store: ReservationStore) -> None:
    store.upsert(booking("R1", updated=5), source="push")
    store.upsert(booking("R2"), source="push")
    counts = store.upsert_many(
        [booking("R1", updated=0), booking("R2"), booking("R3"), booking("R4"), booking("R2", updated=9, note="x")],
        source="sync",
    )
    assert counts == UpsertCounts(new=2, updated=1, unchanged=1, stale=1)


def test_get_by_channel_number(store: ReservationStore) -> None:
    store.upsert(booking("R754208185"), source="sync")
    assert store.get("BDC-R754208185").hr_number == "R754208185"
    assert store.get("R404") is None


def test_change_feed_follows_new_and_updated_versions_only(store: ReservationStore) -> None:
    assert store.latest_change_id() == 0
    store.upsert(booking("R1", guest="Jürgen Müller"), source="sync")
    mark = store.latest_change_id()
    before_push = datetime.now(UTC) - timedelta(seconds=1)
    store.upsert(booking("R1", updated=3, state="canceled", guest="Jürgen Müller"), source="push")
    store.upsert(booking("R1", updated=1), source="push")  # stale: not a change
    store.upsert(booking("R2"), source="push")
    events = store.changes_since(mark)
    assert [(e.hr_number, e.kind, e.source, e.state) for e in events] == [
        ("R1", "updated", "push", "canceled"),
        ("R2", "new", "push", "confirmed"),
    ]
    assert events[0].guest == "Jürgen Müller" and events[0].changes == ["state: confirmed → canceled"]
    assert store.latest_change_id() == events[-1].id > mark
    assert [e.hr_number for e in store.changes_since(before_push)] == ["R1", "R1", "R2"]
    assert store.changes_since(store.latest_change_id()) == []
    assert store.last_change().hr_number == "R2"


# --------------------------------------------------------------------------- queries


@pytest.fixture
def riad(store: ReservationStore) -> ReservationStore:
    """Six bookings, most around mid-August."""
    store.upsert_many(
        [
            booking(
                "R1",
                checkin="2026-08-10",
                checkout="2026-08-13",
                guest="Jürgen Müller",
                channel="bookingcom",
                completed_at="2026-06-01T09:00:00Z",
            ),
            booking(
                "R2",
                checkin="2026-08-12",
                checkout="2026-08-14",
                guest="Chloé Dubois",
                channel="expedia",
                completed_at="2026-06-20T23:30:00+00:00",
                updated=30,
            ),
            booking(
                "R3",
                checkin="2026-08-13",
                checkout="2026-08-20",
                guest="Omar Benali",
                channel="online",
                rooms=[{"inv_code": "PRES", "price": "3143.00", "nights": 7}],
                completed_at="2026-06-21T00:30:00Z",
            ),
            booking("R4", checkin="2026-08-01", checkout="2026-08-05", guest="Emma Brown", state="canceled"),
            booking(
                "R5",
                checkin="2026-09-01",
                checkout="2026-09-03",
                guest="MÜLLER, Hans",
                address={"email": "hans@beispiel.de"},
                updated=60,
            ),
            booking(
                "R6",
                checkin="2026-09-05",
                checkout="2026-09-06",
                guest="Søren Łukasz Straße",
                completed_at="2026-06-30T08:00:00Z",
            ),
        ],
        source="sync",
    )
    return store


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ReservationQuery(arriving=DateRange.on(date(2026, 8, 12))), ["R2"]),
        (ReservationQuery(arriving=DateRange(date(2026, 8, 10), date(2026, 8, 13))), ["R1", "R2", "R3"]),
        (ReservationQuery(departing=DateRange.on(date(2026, 8, 13))), ["R1"]),
        (ReservationQuery(in_house_on=date(2026, 8, 13)), ["R2", "R3"]),  # R1 leaves that morning
        (ReservationQuery(in_house_on=date(2026, 8, 12)), ["R1", "R2"]),
        (ReservationQuery(overlapping=DateRange(date(2026, 8, 4), date(2026, 8, 10))), ["R4", "R1"]),
        (ReservationQuery(overlapping=DateRange(date(2026, 8, 14), date(2026, 8, 31))), ["R3"]),
        (ReservationQuery(created=DateRange(date(2026, 6, 20), date(2026, 6, 20))), ["R2"]),
        (ReservationQuery(updated_since=T0 + timedelta(minutes=30)), ["R2", "R5"]),
        (ReservationQuery(guest="muller"), ["R1", "R5"]),
        (ReservationQuery(guest="MÜLL"), ["R1", "R5"]),
        (ReservationQuery(guest="chloe"), ["R2"]),
        (ReservationQuery(guest="beispiel.de"), ["R5"]),
        (ReservationQuery(guest="100%"), []),
        (ReservationQuery(guest="soren lukasz strasse"), ["R6"]),
        (ReservationQuery(channel="Expedia"), ["R2"]),
        (ReservationQuery(state="canceled"), ["R4"]),
        (ReservationQuery(inv_code="PRES"), ["R3"]),
        (ReservationQuery(channel="bookingcom", in_house_on=date(2026, 8, 11)), ["R1"]),
    ],
)
def test_find_answers_stay_date_and_guest_questions(riad: ReservationStore, query, expected) -> None:
    assert numbers(riad.find(query)) == expected


def test_sort_descending_and_limit(riad: ReservationStore) -> None:
    assert numbers(riad.find(ReservationQuery(sort="checkout", descending=True, limit=2))) == ["R6", "R5"]
    assert numbers(riad.find(ReservationQuery(sort="created"))) == ["R1", "R2", "R3", "R4", "R5", "R6"]
    assert numbers(riad.find(ReservationQuery(sort="updated", descending=True, limit=1))) == ["R5"]
    assert riad.count(ReservationQuery(guest="muller", limit=1)) == 2
    assert riad.count() == 6


@pytest.mark.parametrize(
    "text", ["ü", "ll", "mül", "ÜLLER, H", '"', 'o"b', "AND", "a*", "-", "muller OR chloe", "r3@", "x", "ren łu"]
)
def test_guest_search_is_a_folded_substring_whatever_its_length(riad: ReservationStore, text: str) -> None:
    """Long texts go through the trigram index, one or two letters through a scan: the same answers,
    and search syntax (quotes, AND, *) is only text."""
    everyone = riad.find(ReservationQuery())
    expected = [r.hr_number for r in everyone if fold(text).strip() in guest_search_text(r)]
    assert numbers(riad.find(ReservationQuery(guest=text))) == expected
    assert riad.count(ReservationQuery(guest=text)) == len(expected)
    assert numbers(riad.find(ReservationQuery(guest=text, limit=1))) == expected[:1]


def test_guest_search_follows_every_change(store: ReservationStore) -> None:
    store.upsert(booking("R1", guest="Anna Schmidt"), source="sync")
    store.upsert(booking("R2", guest="Ben Schmidt", checkin="2026-09-01", checkout="2026-09-02"), source="sync")
    assert numbers(store.find(ReservationQuery(guest="schmidt"))) == ["R1", "R2"]
    store.upsert(booking("R1", updated=5, guest="Anna Weber"), source="push")
    assert numbers(store.find(ReservationQuery(guest="schmidt"))) == ["R2"]
    assert numbers(store.find(ReservationQuery(guest="weber"))) == ["R1"]
    assert store.count(ReservationQuery(guest="schmidt")) == 1
    # combined with another filter
    september = DateRange(date(2026, 9, 1), date(2026, 9, 30))
    assert numbers(store.find(ReservationQuery(guest="schmidt", arriving=september))) == ["R2"]
    assert store.count(ReservationQuery(guest="weber", arriving=september)) == 0


def test_guest_search_survives_the_reservations_being_renumbered(store: ReservationStore, tmp_path: Path) -> None:
    """The reservation table has no INTEGER PRIMARY KEY: a VACUUM or a dump and reload may give its rows new
    rowids. The guest index names rows by hr_number, so a search still finds the right guests afterwards."""
    store.upsert(booking("R1", guest="Anna Schmidt"), source="sync")
    store.upsert(booking("R2", guest="Ben Weber", checkin="2026-09-01", checkout="2026-09-02"), source="sync")
    with connect(store.db_path) as raw:
        raw.execute("UPDATE reservation SET rowid = rowid + 1000 WHERE hr_number = 'R1'")
        raw.execute("UPDATE reservation SET rowid = 1 WHERE hr_number = 'R2'")
    assert numbers(store.find(ReservationQuery(guest="schmidt"))) == ["R1"]
    assert numbers(store.find(ReservationQuery(guest="weber"))) == ["R2"]
    store.upsert(booking("R1", updated=5, guest="Anna Weber"), source="push")
    assert numbers(store.find(ReservationQuery(guest="weber"))) == ["R1", "R2"]
    assert store.count(ReservationQuery(guest="schmidt")) == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: ReservationQuery(sort="price"),  # type: ignore[arg-type]
        lambda: ReservationQuery(limit=0),
        lambda: ReservationQuery(guest="  "),
        lambda: DateRange(date(2026, 8, 2), date(2026, 8, 1)),
    ],
)
def test_bad_questions_are_refused_with_a_fix(make) -> None:
    with pytest.raises(InvalidRequest):
        make()


# --------------------------------------------------------------------------- occupancy


def test_occupancy_per_night_and_room_type(store: ReservationStore) -> None:
    store.upsert_many(
        [
            # 3 nights at 447 → 149 a night
            booking("R1", checkin="2026-08-10", checkout="2026-08-13"),
            # priced per day
            booking(
                "R2",
                checkin="2026-08-11",
                checkout="2026-08-13",
                rooms=[
                    {
                        "inv_code": "DDS",
                        "price": "320.00",
                        "nights": 2,
                        "daily_prices": [
                            {"date": "2026-08-11", "price": "150.00"},
                            {"date": "2026-08-12", "price": "170.00"},
                        ],
                    },
                    {"inv_code": "PRES", "price": "898.00", "nights": 2},
                    {"inv_code": "FAM", "price": "378.00", "nights": 2, "state": "canceled"},
                ],
            ),
            booking("R3", checkin="2026-08-10", checkout="2026-08-12", state="canceled"),
        ],
        source="sync",
    )
    grid = store.occupancy(date(2026, 8, 10), date(2026, 8, 12), {"DDS": 2, "PRES": 1, "FAM": 2})
    table = {(c.night.day, c.inv_code): (c.rooms_sold, c.rooms_total, c.revenue, c.adr) for c in grid}
    assert table == {
        (10, "DDS"): (1, 2, Decimal("149.00"), Decimal("149.00")),
        (10, "FAM"): (0, 2, Decimal("0.00"), None),
        (10, "PRES"): (0, 1, Decimal("0.00"), None),
        (11, "DDS"): (2, 2, Decimal("299.00"), Decimal("149.50")),
        (11, "FAM"): (0, 2, Decimal("0.00"), None),
        (11, "PRES"): (1, 1, Decimal("449.00"), Decimal("449.00")),
        (12, "DDS"): (2, 2, Decimal("319.00"), Decimal("159.50")),
        (12, "FAM"): (0, 2, Decimal("0.00"), None),
        (12, "PRES"): (1, 1, Decimal("449.00"), Decimal("449.00")),
    }
    assert [c.occupancy for c in grid if c.night.day == 11 and c.inv_code == "DDS"] == [1.0]
    assert {c.currency for c in grid if c.rooms_sold} == {"EUR"}


def test_occupancy_shows_unknown_room_types_and_refuses_huge_ranges(store: ReservationStore) -> None:
    store.upsert(
        booking("R1", checkin="2026-08-10", checkout="2026-08-11", rooms=[{"inv_code": "OLD", "price": "99"}]),
        source="push",
    )
    grid = store.occupancy(date(2026, 8, 10), date(2026, 8, 10), {})
    assert [(c.inv_code, c.rooms_sold, c.rooms_total, c.revenue) for c in grid] == [("OLD", 1, None, Decimal("99.00"))]
    with pytest.raises(InvalidRequest):
        store.occupancy(date(2026, 1, 1), date(2027, 6, 1), {})


def test_occupancy_follows_modifications_cancellations_and_currencies(tmp_path: Path) -> None:
    """The per-night sums stay equal to counting the current bookings' nights, however they change."""
    with ReservationStore(tmp_path / "mirror.db") as store:
        store.upsert_many(
            [booking(f"R{i}", checkin=f"2026-08-{10 + i}", checkout=f"2026-08-{14 + i}") for i in range(5)],
            source="sync",
        )
        store.upsert(booking("R1", updated=1, checkin="2026-08-20", checkout="2026-08-22"), source="push")  # moved
        store.upsert(booking("R2", updated=1, state="canceled"), source="push")
        store.upsert(booking("R3", updated=1, currency="USD"), source="push")
        store.upsert(
            booking("R4", updated=1, rooms=[{"inv_code": "PRES", "price": "600"}, {"inv_code": "DDS"}]), source="push"
        )
        store.upsert(booking("R2", updated=0), source="sync")  # stale: still canceled
        start, end, rooms = date(2026, 8, 1), date(2026, 8, 31), {"DDS": 3, "PRES": 1}
        expected = occupancy_grid(store.find(ReservationQuery()), start, end, rooms)
        assert store.occupancy(start, end, rooms) == expected
        mixed = [c for c in expected if c.night == date(2026, 8, 11) and c.inv_code == "DDS"]
        assert mixed[0].rooms_sold == 3 and mixed[0].currency is None and mixed[0].revenue is None  # EUR and USD


def test_history_keeps_each_versions_own_record(tmp_path: Path) -> None:
    """The current version shares the reservation's stored record; each version still reads as it
    arrived, delivery fields included, also after the record changed and the store was reopened."""
    path = tmp_path / "mirror.db"
    with ReservationStore(path) as store:
        store.upsert(booking(message_uid="m-1"), source="push")
        store.upsert(booking(message_uid="m-2"), source="push")  # unchanged: only the delivery differs
        assert [v.reservation.message_uid for v in store.history("R1")] == ["m-1"]
        store.upsert(booking(updated=5, state="canceled", message_uid="m-3"), source="push")
        store.upsert(booking(updated=1, note="late", message_uid="m-0"), source="sync")  # stale
    with ReservationStore(path) as store:
        history = store.history("R1")
        assert [(v.result, v.reservation.message_uid, v.state) for v in history] == [
            ("new", "m-1", "confirmed"),
            ("stale", "m-0", "confirmed"),
            ("updated", "m-3", "canceled"),
        ]
        assert history[1].reservation.note == "late" and store.get("R1").message_uid == "m-3"
        events = store.changes_since(0)
        assert [(e.kind, e.guest, e.checkin_date) for e in events] == [
            ("new", "Anna Schmidt", date(2026, 8, 10)),
            ("updated", "Anna Schmidt", date(2026, 8, 10)),
        ]
        assert store.last_change() == events[-1] and store.latest_changes(5) == events


# --------------------------------------------------------------------------- persistence and concurrency


def test_everything_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "data" / "mirror.db"
    with ReservationStore(path) as first:
        first.upsert(booking("R1"), source="sync")
        first.upsert(booking("R1", updated=1, state="canceled"), source="push")
        first.set_sync_state(last_sync_at=T0, cursor=T0 + timedelta(minutes=1), report={"requests": 1})
        change_id = first.latest_change_id()
    with ReservationStore(path) as second:
        assert second.get("R1").state == "canceled"
        assert len(second.history("R1")) == 2
        assert second.latest_change_id() == change_id
        state = second.sync_state()
        assert (state.last_sync_at, state.cursor, state.last_report) == (T0, T0 + timedelta(minutes=1), {"requests": 1})


def test_sync_cursor_never_moves_backwards(store: ReservationStore) -> None:
    store.set_sync_state(last_sync_at=T0, cursor=T0 + timedelta(hours=1))
    store.set_sync_state(last_sync_at=T0 + timedelta(hours=2), cursor=T0)
    assert store.sync_state().cursor == T0 + timedelta(hours=1)
    assert store.sync_state().last_sync_at == T0 + timedelta(hours=2)


def test_lease_is_exclusive_until_released_or_expired(store: ReservationStore) -> None:
    assert store.acquire_lease("sync", "a", 60)
    assert not store.acquire_lease("sync", "b", 60)
    assert store.acquire_lease("sync", "a", 60)  # renew
    store.release_lease("sync", "a")
    assert store.acquire_lease("sync", "b", 0)
    assert store.acquire_lease("sync", "c", 60)  # b's lease had already expired


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone
    from pathlib import Path
    from hotelrunner_mcp.hotelrunner.models import Reservation
    from hotelrunner_mcp.reservations.mirror import ReservationStore

    path, minutes, note = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    stamp = (datetime(2026, 7, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)).isoformat()
    with ReservationStore(path) as store:
        for i in range(60):
            store.upsert(Reservation(hr_number=f"R{i}", updated_at=stamp, note=note, state="confirmed"), source="push")
    """
)


def test_two_processes_upserting_at_once_keep_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "mirror.db"
    ReservationStore(path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), minutes, note], stderr=subprocess.PIPE, text=True)
        for minutes, note in (("1", "older"), ("2", "newer"))
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    with ReservationStore(path) as store:
        assert store.count() == 60
        assert {r.note for r in store.find(ReservationQuery())} == {"newer"}
        assert all(len(store.history(f"R{i}")) == 2 for i in range(60))


def test_a_stamp_far_in_the_future_cannot_freeze_a_booking(tmp_path) -> None:
    """A sync answer stamped 9999-12-31 is bounded to about now, so the next real change still wins."""
    from datetime import UTC, datetime, timedelta

    from hotelrunner_mcp.hotelrunner.models import Reservation
    from hotelrunner_mcp.reservations.mirror import ReservationStore

    with ReservationStore(tmp_path / "m.db") as store:
        store.upsert(
            Reservation(hr_number="R9", state="confirmed", updated_at=datetime(9999, 12, 31, tzinfo=UTC)), source="sync"
        )
        later = datetime.now(UTC) + timedelta(days=2)
        assert store.upsert(Reservation(hr_number="R9", state="canceled", updated_at=later), source="sync") == "updated"
        assert store.get("R9").state == "canceled"


def test_the_state_filter_reads_both_spellings_of_canceled(tmp_path) -> None:
    from hotelrunner_mcp.hotelrunner.models import Reservation
    from hotelrunner_mcp.reservations.mirror import ReservationStore
    from hotelrunner_mcp.reservations.queries import ReservationQuery

    with ReservationStore(tmp_path / "m.db") as store:
        store.upsert(Reservation(hr_number="R1", state="cancelled"), source="sync")
        store.upsert(Reservation(hr_number="R2", state="canceled"), source="sync")
        store.upsert(Reservation(hr_number="R3", state="confirmed"), source="sync")
        for asked in ("canceled", "cancelled", "CANCELED"):
            assert sorted(r.hr_number for r in store.find(ReservationQuery(state=asked))) == ["R1", "R2"]


def test_heavy_reads_from_threads_that_come_and_go_do_not_pile_up_connections(riad: ReservationStore) -> None:
    """Worker threads end after a while idle and new ones start: the read connections are reused, so a server
    running for weeks keeps a handful of open files, not one more per thread that ever read."""
    import os
    import threading

    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    def read() -> None:
        riad.count(ReservationQuery(guest="a"))
        riad.find(ReservationQuery(limit=3))

    read()
    before = open_files()
    for _ in range(30):
        worker = threading.Thread(target=read)
        worker.start()
        worker.join()
    assert open_files() <= before + 2


@pytest.mark.parametrize("sort", ["checkin", "checkout", "created", "updated"])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_that_start_after_the_last_key_walk_the_whole_order_once(
    riad: ReservationStore, sort: str, descending: bool
) -> None:
    """Keyset paging over every sort, both ways, with ties and missing values (which sort last)."""
    riad.upsert(booking("R900", checkin=None, checkout=None, completed_at=None), source="sync")
    riad.upsert(booking("R901", checkin=None, checkout=None, completed_at=None), source="sync")
    riad.upsert(booking("R902", checkin="2026-08-10"), source="sync")  # a tie with the fixture's bookings
    order = ReservationQuery(sort=sort, descending=descending)  # type: ignore[arg-type]
    everyone = numbers(riad.find(order))
    walked: list[str] = []
    after = None
    while True:
        page = riad.find_keyed(replace(order, limit=2, after=after))
        if not page:
            break
        walked += [r.hr_number for r, _ in page]
        after = page[-1][1]
    assert walked == everyone and len(everyone) == riad.count()
