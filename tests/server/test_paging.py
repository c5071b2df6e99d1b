"""Reservation pages continue where the last one ended even when the mirror changes in between (a push, a
sync): the cursor names the last reservation shown, not a position, so a booking arriving at the front of the
list neither repeats one already shown nor pushes one out of sight."""

from __future__ import annotations

from datetime import timedelta

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, utc_today


async def test_a_booking_made_between_two_pages_repeats_nothing_and_skips_nothing(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    newest_first = {"sort": "created", "descending": True, "limit": 5}
    async with connect(roomy_settings) as mcp:
        before = await mcp.every("get_reservations", "reservations", max_sync_requests=50, **newest_first)
        first = await mcp.ok("get_reservations", **newest_first)
        assert first["next_cursor"] and f"cursor={first['next_cursor']}" in first["left_out"]
        booked = sandbox.control.create_booking(inv_code="SUITE", checkin=utc_today() + timedelta(days=300))
        synced = await mcp.ok("get_reservations", refresh=True, limit=1)
        assert synced["matching"] == len(before) + 1  # the new booking is in the mirror, at the list's front
        second = await mcp.ok("get_reservations", cursor=first["next_cursor"], **newest_first)
        rest = await mcp.every("get_reservations", "reservations", cursor=first["next_cursor"], **newest_first)
    shown = [r["hr_number"] for r in first["reservations"]]
    assert [r["hr_number"] for r in second["reservations"]] == [r["hr_number"] for r in before[5:10]]
    assert shown + [r["hr_number"] for r in rest] == [r["hr_number"] for r in before]
    assert booked["hr_number"] not in shown + [r["hr_number"] for r in rest]


async def test_a_cursor_that_is_not_one_is_refused_before_anything_is_spent(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_reservations", limit=1)
        refused = await mcp.error("get_reservations", cursor="not-a-cursor")
    assert "cursor" in refused and "next_cursor" in refused
