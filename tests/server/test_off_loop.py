"""SQLite work runs off the event loop: while a year of occupancy is being computed, or a ledger or plan store
read is in progress, tools/list, a resource and another question are answered. The store work is held (not
timed) until they are back; on the event loop it would hold everything else instead and the order below
would be reversed."""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import anyio
import pytest

from hotelrunner_mcp.calendar.ledger import CalendarLedger
from hotelrunner_mcp.calendar.plans import PlanStore
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.reservations import mirror
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.surface.resources import SETUP_STATUS_URI

from .conftest import Session, connect, utc_today


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


async def _get_calendar(mcp: Session) -> str:
    answer = await mcp.ok("get_calendar", start_date=utc_today(), end_date=utc_today() + timedelta(days=30))
    return str(answer["note"])


async def _apply_unknown_plan(mcp: Session) -> str:
    change = {"room": "SUITE", "start_date": str(utc_today()), "end_date": str(utc_today()), "price": "180"}
    return await mcp.error("update_calendar", changes=[change], plan_id="no-such-plan")


@pytest.mark.parametrize(
    ("store", "method", "ask", "answered"),
    [
        (CalendarLedger, "query", _get_calendar, "Only values set through this server"),
        (PlanStore, "check", _apply_unknown_plan, "unknown plan id"),
    ],
    ids=["ledger read (get_calendar)", "plan store read (update_calendar with a plan id)"],
)
async def test_other_requests_are_answered_while_a_store_read_is_held(
    roomy_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    store: type[Any],
    method: str,
    ask: Callable[[Session], Awaitable[str]],
    answered: str,
) -> None:
    """The held read runs in a worker thread, so tools/list and the setup-status resource (which reads the
    quota, the plans and the mirror) are answered before it ends. Run on the loop, it would hold them instead."""
    entered, release = threading.Event(), threading.Event()
    real = getattr(store, method)

    def held(self: Any, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(60)  # a liveness guard, not a timing assert: the test releases it
        return real(self, *args, **kwargs)

    monkeypatch.setattr(store, method, held)
    order: list[str] = []
    async with connect(roomy_settings) as mcp:

        async def held_call() -> None:
            assert answered in await ask(mcp)
            order.append(method)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(held_call)
            await anyio.to_thread.run_sync(entered.wait, 60)
            assert (await mcp.client.list_tools()).tools
            order.append("tools/list")
            status = json.loads(await mcp.resource(SETUP_STATUS_URI))
            assert status["quota"]["per_day"] == roomy_settings.per_day
            order.append("setup-status")
            release.set()
    assert order == ["tools/list", "setup-status", method]
