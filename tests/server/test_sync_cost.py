"""What keeping the mirror fresh costs, seen through real MCP sessions: a sync after N changes at
HotelRunner costs ceil(N / 50) requests, an idle one exactly 1, and callers arriving together share one.

`hotel` (conftest) made its seed bookings three days ago, so the only bookings HotelRunner reports as
updated since the first sync are the changes a test makes.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

import anyio
import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream, utc_today

PAGE_SIZE = 50


def listable(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """Every booking HotelRunner lists (made in the last 30 days on its own +03:00 clock), canceled ones included."""
    oldest = datetime.now(timezone(timedelta(hours=3))).date() - timedelta(days=30)
    return [r for r in sandbox.control.reservations() if date.fromisoformat(str(r["completed_at"])[:10]) >= oldest]


def make_changes(sandbox: RunningSandbox, n: int) -> dict[str, list[str]]:
    """n changes at HotelRunner: about a fifth modified, a tenth canceled, the rest new bookings."""
    existing = [r for r in listable(sandbox) if r["state"] != "canceled"]
    modified = [str(r["hr_number"]) for r in existing[: n // 5]]
    canceled = [str(r["hr_number"]) for r in existing[n // 5 : n // 5 + n // 10]]
    for number in modified:
        sandbox.control.modify_booking(number, note="Late arrival, around 23:30.")
    for number in canceled:
        sandbox.control.cancel_booking(number)
    created = []
    codes = ["DLXTRP", "DBLSUP", "FAMSTE", "DLXDBL", "EXESTE", "SUITE"]
    for i in range(n - len(modified) - len(canceled)):
        checkin = utc_today() + timedelta(days=140 + i // len(codes))
        created.append(
            str(sandbox.control.create_booking(inv_code=codes[i % len(codes)], checkin=checkin, nights=1)["hr_number"])
        )
    return {"modified": modified, "canceled": canceled, "created": created}


@pytest.mark.parametrize("n", [0, 12, 50, 61])
async def test_a_refresh_after_n_changes_costs_ceil_n_over_the_page_size(
    hotel: RunningSandbox, hotel_settings: Settings, n: int
) -> None:
    async with connect(hotel_settings) as mcp:
        backfill = await mcp.ok("get_reservations", limit=1)
        assert backfill["sync"]["mode"] == "backfill"
        hotel.control.clear_requests()
        changes = make_changes(hotel, n)

        answer = await mcp.ok("get_reservations", refresh=True, limit=1)

        expected = max(1, math.ceil(n / PAGE_SIZE))
        sent = upstream(hotel)
        assert answer["sync"]["mode"] == "incremental"
        assert answer["sync"]["requests"] == answer["quota_spent"] == len(sent) == expected
        assert answer["sync"]["new"] == len(changes["created"])
        assert answer["sync"]["updated"] == len(changes["modified"]) + len(changes["canceled"])
        assert [(r.method, r.path, r.params["page"]) for r in sent] == [
            ("GET", "/reservations", str(page)) for page in range(1, expected + 1)
        ]
        assert all(r.params["per_page"] == str(PAGE_SIZE) and "from_last_update_date" in r.params for r in sent)

        hotel.control.clear_requests()
        for number in changes["canceled"]:
            seen = await mcp.ok("get_reservations", number=number)
            assert seen["reservations"][0]["state"] == "canceled"
        for number in changes["modified"]:
            seen = await mcp.ok("get_reservations", number=number)
            assert seen["reservations"][0]["note"] == "«guest text»Late arrival, around 23:30.«end guest text»"
        assert upstream(hotel) == []


async def test_with_no_freshness_margin_every_question_pays_for_the_days_changes(
    hotel: RunningSandbox, hotel_settings: Settings
) -> None:
    async with connect(hotel_settings.with_overrides(mirror_max_age_seconds=0)) as mcp:
        await mcp.ok("get_reservations", limit=1)
        hotel.control.clear_requests()
        make_changes(hotel, 70)
        start = utc_today() + timedelta(days=140)
        occupancy = await mcp.ok("get_occupancy", start=start, end=start + timedelta(days=10))
        assert occupancy["quota_spent"] == len(upstream(hotel)) == 2
        assert occupancy["totals"]["room_nights_sold"] == 70 - 14 - 7  # the new one-night bookings
        # from_last_update_date is a date: the same day, HotelRunner lists today's 70 changes again
        again = await mcp.ok("get_occupancy", start=start, end=start)
        assert again["quota_spent"] == 2 and len(upstream(hotel)) == 4


async def test_two_calls_at_once_in_one_session_share_one_sync(hotel: RunningSandbox, hotel_settings: Settings) -> None:
    hotel.control.add_fault("latency", delay=0.5, times=1, paths=["/reservations"])  # the first page is slow
    answers: list[dict[str, Any]] = []
    async with connect(hotel_settings) as mcp:

        async def ask(**arguments: Any) -> None:
            answers.append(await mcp.ok("get_reservations", **arguments))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: ask(limit=1))
            tasks.start_soon(lambda: ask(channel="expedia"))

    backfill_pages = math.ceil(len(listable(hotel)) / PAGE_SIZE)
    assert len(upstream(hotel)) == backfill_pages
    assert sorted(a["sync"]["shared"] for a in answers) == [False, True]
    assert sum(a["quota_spent"] for a in answers if not a["sync"]["shared"]) == backfill_pages


async def test_two_servers_on_one_data_folder_share_one_sync(hotel: RunningSandbox, hotel_settings: Settings) -> None:
    hotel.control.add_fault("latency", delay=0.5, times=1, paths=["/reservations"])
    answers: list[dict[str, Any]] = []

    async def server_asks() -> None:
        async with connect(hotel_settings) as mcp:  # its own server, services and sync, same mirror.db
            answers.append(await mcp.ok("get_reservations", limit=1))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server_asks)
        tasks.start_soon(server_asks)

    assert len(upstream(hotel)) == math.ceil(len(listable(hotel)) / PAGE_SIZE)
    assert sorted(a["sync"]["shared"] for a in answers) == [False, True]
    assert answers[0]["matching"] == answers[1]["matching"] == len(listable(hotel))
