"""Incremental sync against the sandbox over loopback HTTP, counting the requests HotelRunner receives.

The sandbox here runs on a clock the test moves, so "a day later" and "the mirror is 20 minutes old"
are exact. Each test starts one day after the sandbox's seed bookings were made.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.errors import UpstreamUnavailable
from hotelrunner_mcp.gate.audit import AuditLog
from hotelrunner_mcp.gate.gate import Gate
from hotelrunner_mcp.gate.quota import QuotaLimiter
from hotelrunner_mcp.hotelrunner.client import HotelRunnerClient
from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.reservations.mirror import ReservationStore
from hotelrunner_mcp.reservations.sync import ReservationSync
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox

SEEDED_AT = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
LOOKBACK_DAYS = 30


class Clock:
    """A wall clock the test moves; shared by the sandbox and the sync."""

    def __init__(self) -> None:
        self.now = SEEDED_AT

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def _hotel(clock: Clock) -> Iterator[RunningSandbox]:
    with run_sandbox(SandboxConfig(seed=11, clock=clock, per_minute=1000, per_day=100_000)) as running:
        yield running


@pytest.fixture
def hotel(_hotel: RunningSandbox, clock: Clock) -> RunningSandbox:
    """Seed bookings made up to SEEDED_AT; the test starts a day later with an empty request log."""
    clock.now = SEEDED_AT
    _hotel.control.reset()
    clock.advance(days=1)
    return _hotel


@dataclass
class Server:
    """What one server process holds: its client (through a Gate) and its view of mirror.db."""

    client: HotelRunnerClient
    store: ReservationStore

    def sync(self, clock: Clock, **options: object) -> ReservationSync:
        return ReservationSync(self.client, self.store, **{"max_age_seconds": 900, "clock": clock, **options})


@pytest.fixture
async def open_server(hotel: RunningSandbox, tmp_path: Path) -> AsyncIterator:
    """Open as many 'server processes' as a test needs, all on the same data folder."""
    opened: list[Server] = []

    def open_one() -> Server:
        settings = Settings(token=hotel.token, hr_id=hotel.hr_id, base_url=hotel.base_url, data_dir=tmp_path)
        redactor = Redactor([settings.token, settings.hr_id])
        limiter = QuotaLimiter(tmp_path / "quota.db", key="test", per_minute=1000, per_day=100_000)
        gate = Gate(limiter, AuditLog(settings.audit_file, redactor), redactor)
        server = Server(HotelRunnerClient(settings, gate), ReservationStore(tmp_path / "mirror.db"))
        opened.append(server)
        return server

    yield open_one
    for server in opened:
        await server.client.aclose()
        server.store.close()


@pytest.fixture
def server(open_server) -> Server:
    return open_server()


def listings(hotel: RunningSandbox) -> list[dict[str, object]]:
    """GET /reservations requests HotelRunner received since the log was last cleared."""
    return [r.params for r in hotel.control.requests() if r.method == "GET" and r.path == "/reservations"]


def visible_to_listing(hotel: RunningSandbox, today: date) -> list[dict[str, object]]:
    """Reservations HotelRunner's listing can show: booked within its look-back window."""
    oldest = (today - timedelta(days=LOOKBACK_DAYS)).isoformat()
    return [r for r in hotel.control.reservations() if str(r["completed_at"])[:10] >= oldest]


# --------------------------------------------------------------------------- backfill and increments


async def test_first_sync_backfills_the_whole_look_back_window(hotel, server: Server, clock: Clock) -> None:
    report = await server.sync(clock).sync()

    visible = visible_to_listing(hotel, clock.now.date())
    assert len(visible) > 50  # enough for several pages
    assert report.mode == "backfill"
    assert report.requests == len(listings(hotel)) == math.ceil(len(visible) / 50)
    assert (report.fetched, report.new, report.updated) == (len(visible), len(visible), 0)
    first = listings(hotel)[0]
    assert first["from_date"] == (clock.now.date() - timedelta(days=LOOKBACK_DAYS)).isoformat()
    assert (first["per_page"], first["undelivered"]) == ("50", "false")  # the docs' literal, never 0
    assert "from_last_update_date" not in first
    assert server.store.count() == len(visible)
    sample = visible[-1]
    assert server.store.get(str(sample["hr_number"])).state == sample["state"]


async def test_sync_after_n_changes_costs_ceil_n_over_page_size(hotel, server: Server, clock: Clock) -> None:
    sync = server.sync(clock, page_size=4)
    await sync.sync()
    control = hotel.control
    live = [r for r in visible_to_listing(hotel, clock.now.date()) if r["state"] != "canceled"]
    clock.advance(hours=2)
    made = [
        control.create_booking(inv_code="DLXKNG" if i % 2 else "PRESTE", checkin=f"2026-12-{1 + 3 * i:02d}")
        for i in range(4)
    ]
    for reservation in live[:3]:
        control.modify_booking(str(reservation["hr_number"]), note="Arriving by taxi at 22:00")
    for reservation in live[3:6]:
        control.cancel_booking(str(reservation["hr_number"]))
    hotel.control.clear_requests()

    report = await sync.sync()

    assert report.mode == "incremental"
    assert report.requests == len(listings(hotel)) == math.ceil(10 / 4)
    assert (report.fetched, report.new, report.updated, report.unchanged) == (10, 4, 6, 0)
    assert listings(hotel)[0]["from_last_update_date"] == clock.now.date().isoformat()
    assert server.store.get(str(made[0]["hr_number"])) is not None
    assert server.store.get(str(live[3]["hr_number"])).state == "canceled"
    changes = server.store.history(str(live[0]["hr_number"]))[-1].changes
    assert any(c.startswith("note: ") and c.endswith(" → Arriving by taxi at 22:00") for c in changes)


async def test_idle_sync_costs_one_request_once_the_day_has_turned(hotel, server: Server, clock: Clock) -> None:
    sync = server.sync(clock)
    await sync.sync()
    hotel.control.create_booking(inv_code="PRESTE", checkin="2026-12-20")
    clock.advance(minutes=30)
    assert (await sync.sync()).fetched == 1
    clock.advance(days=1)
    # HotelRunner filters by update *date*: today's changes come once more, then never again
    again = await sync.sync()
    assert (again.fetched, again.unchanged, again.requests) == (1, 1, 1)
    hotel.control.clear_requests()
    idle = await sync.sync()
    assert (idle.requests, idle.fetched) == (1, 0)
    assert len(listings(hotel)) == 1


async def test_a_failed_sync_keeps_the_cursor_and_the_next_one_retries(hotel, server: Server, clock: Clock) -> None:
    sync = server.sync(clock)
    await sync.sync()
    before = server.store.sync_state()
    hotel.control.add_fault("503", times=2, paths=["/reservations"])  # the client's read retry fails too
    clock.advance(hours=1)
    with pytest.raises(UpstreamUnavailable):
        await sync.sync()
    assert server.store.sync_state() == before
    report = await sync.sync()
    assert report.mode == "incremental" and server.store.sync_state().last_sync_at == clock.now


# --------------------------------------------------------------------------- never two at once


async def test_concurrent_callers_in_one_process_share_one_sync(hotel, server: Server, clock: Clock) -> None:
    sync = server.sync(clock)
    reports = []

    async def ask() -> None:
        reports.append(await sync.ensure_fresh())

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(ask)

    one_sync = math.ceil(len(visible_to_listing(hotel, clock.now.date())) / 50)
    assert len(listings(hotel)) == one_sync
    assert sorted(r.shared for r in reports) == [False, True, True]
    assert len({replace(r, shared=False) for r in reports}) == 1  # everyone got the same report


async def test_a_second_process_waits_for_the_first_and_reuses_its_sync(hotel, open_server, clock: Clock) -> None:
    first, second = open_server(), open_server()
    syncs = [first.sync(clock, lease_poll_seconds=0.02), second.sync(clock, lease_poll_seconds=0.02)]
    reports = []

    async def run(sync: ReservationSync) -> None:
        reports.append(await sync.sync())

    async with anyio.create_task_group() as group:
        for sync in syncs:
            group.start_soon(run, sync)

    assert len(listings(hotel)) == reports[0].requests  # one sync's worth of requests, not two
    assert sorted(r.shared for r in reports) == [False, True]
    assert second.store.count() == first.store.count() > 0


# --------------------------------------------------------------------------- freshness


async def test_ensure_fresh_syncs_only_when_the_mirror_is_too_old(hotel, server: Server, clock: Clock) -> None:
    sync = server.sync(clock, max_age_seconds=600)
    assert sync.freshness.age_seconds is None and sync.freshness.stale
    assert "never been synced" in sync.freshness.describe()
    assert (await sync.ensure_fresh()) is not None
    hotel.control.clear_requests()

    clock.advance(minutes=5)
    assert await sync.ensure_fresh() is None
    assert listings(hotel) == []
    assert sync.freshness.age_seconds == 300 and sync.freshness.describe().startswith("mirror synced 5 min ago")

    clock.advance(minutes=6)
    assert (await sync.ensure_fresh()).mode == "incremental"
    assert len(listings(hotel)) == 1
    assert sync.freshness.last_change_source == "sync"


async def test_freshness_reports_the_last_push(hotel, server: Server, clock: Clock) -> None:
    sync = server.sync(clock)
    await sync.sync()
    booked = hotel.control.create_booking(inv_code="PRESTE", checkin="2026-12-20")
    server.store.upsert(Reservation.model_validate(booked), source="push")
    freshness = sync.freshness
    assert freshness.last_change_source == "push" and freshness.last_push_at is not None
    assert "last push received" in freshness.describe()


async def test_waiting_for_a_live_lease_holder_is_bounded(hotel, server: Server, clock: Clock) -> None:
    """A lease held elsewhere (another machine on a shared folder, alive as far as we can tell) makes a
    first sync wait at most max_lease_wait_seconds, then say so, having sent nothing."""
    from hotelrunner_mcp.reservations.sync import LEASE_NAME, SyncBusy

    assert server.store.acquire_lease(LEASE_NAME, "other-host:12345-busy", 3600)
    sync = server.sync(clock, max_lease_wait_seconds=0.2, lease_poll_seconds=0.05)
    with pytest.raises(SyncBusy, match=r"held the reservation sync for over 0\.2 s"):
        await sync.sync()
    assert listings(hotel) == []


async def test_a_backfill_resumed_days_later_steps_back_over_the_bookings_that_left_the_window(
    hotel, server: Server, clock: Clock
) -> None:
    """HotelRunner lists the last 30 days by completed_at: days later its front is gone and every page
    starts further on. The resumed backfill reads the last page again and steps back until it meets what
    it read last, so no booking in between is skipped."""
    sync = server.sync(clock, page_size=4)
    first = await sync.sync(max_pages=10)
    assert first.complete is False and server.store.sync_progress() is not None
    clock.advance(days=5)  # about a sixth of the window left its front
    hotel.control.clear_requests()
    rest = await sync.sync()

    assert rest.complete is True and server.store.sync_progress() is None
    missing = [
        r["hr_number"] for r in visible_to_listing(hotel, clock.now.date()) if not server.store.get(str(r["hr_number"]))
    ]
    assert missing == []
    pages = [int(str(p["page"])) for p in listings(hotel)]
    back = pages.index(min(pages))
    assert pages[: back + 1] == list(range(10, pages[back] - 1, -1))  # the page it stopped after, then back
    assert pages[back] < 10  # a gap showed: 5 days of bookings left the front, more than a page of 4
    assert pages[back:] == list(range(pages[back], pages[-1] + 1))  # then forward, each page once


async def test_a_backfill_resumed_the_same_day_reads_no_page_twice(hotel, server: Server, clock: Clock) -> None:
    sync = server.sync(clock, page_size=4)
    await sync.sync(max_pages=5)
    clock.advance(minutes=30)
    await sync.sync(max_pages=5)
    report = await sync.sync()
    pages = [int(str(p["page"])) for p in listings(hotel)]
    assert pages == list(range(1, len(pages) + 1)) and report.complete
    assert server.store.count() == len(visible_to_listing(hotel, clock.now.date()))
