"""Heavy mirror reads run off the event loop: while a year of occupancy is being computed, tools/list
and another question are answered. The occupancy computation is held (not timed) until they are back; on the
event loop it would hold everything else instead and the order below would be reversed."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import anyio
import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.reservations import mirror
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, utc_today


async def test_a_quick_request_and_a_question_are_answered_while_a_big_occupancy_query_runs(
    sandbox: RunningSandbox, roomy_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real = mirror.grid_of_sums

    def held(*args: Any, **kwargs: Any) -> list[mirror.NightOccupancy]:
        entered.set()
        release.wait(60)  # a liveness guard, not a timing assert: the test releases it
        return real(*args, **kwargs)

    monkeypatch.setattr(mirror, "grid_of_sums", held)
    order: list[str] = []
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_reservations", limit=1)  # the first sync, before the race

        async def year_of_occupancy() -> None:
            answer = await mcp.ok("get_occupancy", start=utc_today(), end=utc_today() + timedelta(days=365))
            assert answer["totals"]["room_nights_sold"] > 0
            order.append("occupancy")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(year_of_occupancy)
            await anyio.to_thread.run_sync(entered.wait, 60)
            listed = await mcp.client.list_tools()  # the quickest request (ping is legacy-only in this protocol)
            assert listed.tools
            order.append("tools/list")
            arrivals = await mcp.ok("get_reservations", arriving_from=utc_today(), limit=5)
            assert arrivals["matching"] > 0
            order.append("reservations")
            release.set()
    assert order == ["tools/list", "reservations", "occupancy"]
