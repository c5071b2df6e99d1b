"""The agent bounds what a question may spend on syncing: `max_sync_requests` stops the sync short,
the answer says so, and the next question picks up the rest where it stopped (no page read twice)."""

from __future__ import annotations

import anyio

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream


async def test_a_sync_stops_at_the_agents_limit_and_says_the_answer_is_partial(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(settings) as mcp:
        short = await mcp.ok("get_reservations", max_sync_requests=1, limit=200)
        assert short["quota_spent"] == 1
        assert short["sync"]["complete"] is False
        assert "PARTIAL" in short["freshness"] and "max_sync_requests" in short["freshness"]
        assert 0 < short["matching"] <= 50
        assert len(upstream(sandbox, "GET", "/reservations")) == 1

        assert "INCOMPLETE" in short["freshness"] and "more request(s) to go" in short["freshness"]

        full = await mcp.ok("get_reservations", limit=200)  # the mirror is still due: the sync resumes
        assert full["sync"]["complete"] is True
        assert "PARTIAL" not in full["freshness"] and "INCOMPLETE" not in full["freshness"]
        assert full["matching"] > short["matching"]
        assert full["quota_spent"] == full["sync"]["requests"] == 1  # page 2 only: page 1 is in the mirror
        assert [r.params["page"] for r in upstream(sandbox, "GET", "/reservations")] == ["1", "2"]


async def test_the_limit_is_checked_before_anything_is_spent(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        message = await mcp.error("get_reservations", max_sync_requests=0)
        assert "max_sync_requests" in message
    assert upstream(sandbox) == []


async def test_a_routine_refresh_never_makes_a_question_wait_for_the_minute_quota(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    """With the minute's slots spent, a due (not forced) sync is skipped at once and the mirror answers."""
    settings = settings.with_overrides(per_minute=2, max_quota_wait_seconds=60.0, mirror_max_age_seconds=0.0)
    async with connect(settings) as mcp:
        first = await mcp.ok("get_reservations", limit=1)
        assert first["quota_spent"] == 2  # the backfill took both slots of this minute
        with anyio.fail_after(20):  # waiting for the next minute would take about 60 s
            second = await mcp.ok("get_reservations", limit=1)
        assert second["quota_spent"] == 0
        assert second["matching"] == first["matching"]
        assert "failed" in second["freshness"] and "minute" in second["freshness"]
    assert len(upstream(sandbox, "GET", "/reservations")) == 2


async def test_refresh_with_a_number_asks_hotelrunner_for_that_booking_even_when_it_is_old(
    hotel: RunningSandbox, hotel_clock, hotel_settings: Settings
) -> None:
    """Syncs only list bookings made in the last 30 days; a lookup by number has no such window."""
    from datetime import timedelta

    hotel_clock.offset = -timedelta(days=45)
    # made 45 days ago for a stay far beyond the seeded bookings, so a room is always free
    booking = hotel.control.create_booking(inv_code="SUITE", checkin=str((hotel_clock() + timedelta(days=260)).date()))
    hotel_clock.offset = timedelta(0)
    number = str(booking["hr_number"])
    async with connect(hotel_settings) as mcp:
        first = await mcp.ok("get_reservations", number=number)
        assert [r["state"] for r in first["reservations"]] == ["confirmed"]
        hotel.control.cancel_booking(number)
        before = len(upstream(hotel))
        fresh = await mcp.ok("get_reservations", number=number, refresh=True)
    assert [r["state"] for r in fresh["reservations"]] == ["canceled"]
    assert fresh["quota_spent"] == 1 == len(upstream(hotel)) - before
    assert "looked up at HotelRunner" in fresh["freshness"]


async def test_bad_filters_are_refused_before_the_first_sync(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        message = await mcp.error("get_reservations", arriving_from="2026-12-10", arriving_to="2026-12-01")
    assert "swap" in message
    assert upstream(sandbox) == []


async def test_a_routine_refresh_does_not_wait_for_another_process_sync(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    from hotelrunner_mcp.reservations.mirror import ReservationStore
    from hotelrunner_mcp.reservations.sync import LEASE_NAME
    from hotelrunner_mcp.storage.sqlite import mirror_db_path

    settings = settings.with_overrides(mirror_max_age_seconds=0.0)
    async with connect(settings) as mcp:
        first = await mcp.ok("get_reservations", limit=1)
        with ReservationStore(mirror_db_path(settings.data_dir)) as other_process:
            assert other_process.acquire_lease(LEASE_NAME, "another-server", 120.0)
            with anyio.fail_after(20):  # waiting for that lease would take two minutes
                second = await mcp.ok("get_reservations", limit=1)
    assert second["matching"] == first["matching"] and second["quota_spent"] == 0
    assert "another server process is syncing" in second["freshness"]
