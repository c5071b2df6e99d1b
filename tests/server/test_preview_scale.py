"""A large preview neither freezes the server nor grows quadratically (issue 12, Medium 5): validation and
compiling run off the event loop, and inputs that would make them unbounded are refused up front."""

from __future__ import annotations

from datetime import timedelta

import anyio

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings

from .conftest import connect

START = property_today() + timedelta(days=2)


async def test_another_request_is_answered_while_the_largest_preview_is_built(roomy_settings: Settings) -> None:
    """No timing assert: a quick read sent after the preview started must complete before the preview does."""
    rooms = ["DLXTRP", "DLXDBL", "DBLSUP", "EXESTE", "DLXKNG", "FAMSTE", "SUITE", "PRESTE"]
    changes = [
        {
            "room": room,
            "start_date": (START + timedelta(days=d)).isoformat(),
            "end_date": (START + timedelta(days=d)).isoformat(),
            "price": str(150 + d % 40),
        }
        for room in rooms
        for d in range(365)
    ]
    order: list[str] = []
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_rooms")

        async def preview() -> None:
            await mcp.ok("update_calendar", changes=changes)
            order.append("preview")

        async def quick_read() -> None:
            await anyio.sleep(0.05)  # let the preview start first
            await mcp.resource("hotelrunner://guide")
            order.append("read")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(preview)
            tasks.start_soon(quick_read)
    assert order == ["read", "preview"]


async def test_a_huge_channel_list_is_refused_before_any_work(roomy_settings: Settings) -> None:
    change = {
        "room": "SUITE",
        "start_date": START.isoformat(),
        "end_date": START.isoformat(),
        "price": "180",
        "channels": ["bookingcom"] * 40_000,
    }
    async with connect(roomy_settings) as mcp:
        refused = await mcp.error("update_calendar", changes=[change])
    assert "channels" in refused and "50" in refused
