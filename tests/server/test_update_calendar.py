"""update_calendar through a real MCP session: a season in few requests, preview then apply with a plan id,
and the plan id's rules (once, only for those changes, not after expiry)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from mcp import Client

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.calendar.plans import PlanStore, plans_db_path
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.services import Services
from hotelrunner_mcp.surface.server import build_server
from hotelrunner_mcp.surface.tools.runtime import ToolRuntime

from .conftest import Session, connect, per_date, upstream

ROOMS = ("DLXTRP", "DBLSUP", "SUITE")
MONTH_PRICES = (Decimal("140"), Decimal("155.50"), Decimal("170"), Decimal("185"))  # one price per 30 days


def first_day() -> date:
    return property_today() + timedelta(days=2)


def season() -> list[dict[str, Any]]:
    """3 rooms x 120 days, a different price each 30 days and per room: 12 changes, 360 room-dates."""
    start = first_day()
    changes = []
    for offset, room in enumerate(ROOMS):
        for month, price in enumerate(MONTH_PRICES):
            begin = start + timedelta(days=30 * month)
            changes.append(
                {
                    "room": room,
                    "start_date": str(begin),
                    "end_date": str(begin + timedelta(days=29)),
                    "price": str(price + offset),
                }
            )
    return changes


def expected_price(room: str, day: date) -> Decimal:
    return MONTH_PRICES[(day - first_day()).days // 30] + ROOMS.index(room)


def one_change(price: str = "150") -> list[dict[str, Any]]:
    day = str(first_day())
    return [{"room": "DLXDBL", "start_date": day, "end_date": day, "price": price}]


def puts(sandbox: RunningSandbox) -> list[Any]:
    return [r for r in upstream(sandbox) if r.method == "PUT"]


async def warm_catalog(mcp: Session, sandbox: RunningSandbox) -> None:
    """Fetch the room list once (every write is checked against it) and forget that request."""
    await mcp.ok("get_rooms")
    sandbox.control.clear_requests()


async def test_a_season_for_three_rooms_costs_a_few_requests_and_lands(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(settings) as mcp:
        await warm_catalog(mcp, sandbox)
        preview = await mcp.ok("update_calendar", changes=season())
        assert upstream(sandbox) == []
        applied = await mcp.ok("update_calendar", changes=season(), plan_id=preview["plan_id"])
        ledger = {
            "values": await mcp.every(
                "get_calendar",
                "values",
                start_date=str(first_day()),
                end_date=str(first_day() + timedelta(days=119)),
                room="SUITE",
            )
        }

    assert preview["applied"] is False
    assert preview["quota_spent"] == 0
    assert preview["dates_touched"] == 360
    assert preview["naive_requests"] == 360
    assert preview["upstream_requests"] <= 6
    # PUT /rooms/daily takes up to 90 dates per room: 3 rooms x 120 dates = two calls (90 + 30 dates per room)
    assert preview["upstream_requests"] == 2
    assert all(r.startswith("PUT /rooms/daily") for r in preview["requests"])
    assert len(preview["changes"]) == 12 and "SUITE" in preview["changes"][-1]["description"]
    assert preview["plan_id"] in preview["next_step"]

    sent = puts(sandbox)
    assert applied["applied"] is True and applied["environment"].startswith("SANDBOX")
    assert len(sent) == preview["upstream_requests"] <= 6
    assert upstream(sandbox) == sent  # no read, no retry: only the planned writes
    assert applied["quota_spent"] == len(sent)
    assert [r["status"] for r in applied["results"]] == ["ok"] * len(sent)
    assert all(r["transaction_id"] for r in applied["results"])

    for room in ROOMS:
        for offset in (0, 29, 30, 75, 119):
            day = first_day() + timedelta(days=offset)
            held = sandbox.control.calendar(room, day, f"{room}")
            assert held["price"] == expected_price(room, day), (room, day, held)
    untouched = sandbox.control.calendar("DLXDBL", first_day())
    assert untouched["price"] == Decimal("159")

    values = {(v["date"], v["field"]): v["value"] for v in per_date(ledger["values"])}
    assert len(values) == 120
    for offset in (0, 45, 119):
        day = first_day() + timedelta(days=offset)
        assert Decimal(values[(str(day), "price")]) == expected_price("SUITE", day)


async def test_preview_spends_nothing_and_shows_every_change(settings: Settings, sandbox: RunningSandbox) -> None:
    changes = [
        {
            "room": "DLXDBL",
            "start_date": str(first_day()),
            "end_date": str(first_day() + timedelta(days=6)),
            "availability": 0,
        },
        {
            "room": "FAMSTE",
            "start_date": str(first_day()),
            "end_date": str(first_day() + timedelta(days=13)),
            "weekdays": ["fri", "sat"],
            "min_stay": 2,
            "channels": ["bookingcom"],
        },
    ]
    async with connect(settings) as mcp:
        await warm_catalog(mcp, sandbox)
        preview = await mcp.ok("update_calendar", changes=changes)

    assert upstream(sandbox) == []
    assert preview["applied"] is False and preview["results"] == []
    assert preview["upstream_requests"] >= 1 and len(preview["requests"]) == preview["upstream_requests"]
    first, second = (c["description"] for c in preview["changes"])
    assert "DLXDBL" in first and "availability" in first.lower()
    assert "FAMSTE" in second and "bookingcom" in second.lower()
    assert sandbox.control.calendar("DLXDBL", first_day())["availability"] == 1


# --------------------------------------------------------------------------- plan id rules


async def test_a_plan_id_applies_exactly_once(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        await warm_catalog(mcp, sandbox)
        plan_id = (await mcp.ok("update_calendar", changes=one_change()))["plan_id"]
        await mcp.ok("update_calendar", changes=one_change(), plan_id=plan_id)
        assert len(puts(sandbox)) == 1
        sandbox.control.clear_requests()
        again = await mcp.error("update_calendar", changes=one_change(), plan_id=plan_id)

    assert "already applied" in again and "works once" in again
    assert upstream(sandbox) == []


async def test_a_plan_id_does_not_apply_other_changes(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        await warm_catalog(mcp, sandbox)
        plan_id = (await mcp.ok("update_calendar", changes=one_change("150")))["plan_id"]
        refused = await mcp.error("update_calendar", changes=one_change("15"), plan_id=plan_id)
        assert upstream(sandbox) == []
        # the plan was not used up by the refusal: the previewed changes still apply
        await mcp.ok("update_calendar", changes=one_change("150.00"), plan_id=plan_id)

    assert "differ from the ones previewed" in refused and "nothing was applied" in refused
    assert len(puts(sandbox)) == 1
    assert sandbox.control.calendar("DLXDBL", first_day())["price"] == Decimal("150")


async def test_an_expired_plan_id_is_refused(settings: Settings, sandbox: RunningSandbox) -> None:
    """The plan store's clock is moved past the plan's lifetime (no sleeping)."""
    now = [time.time()]

    def opener(s: Settings) -> Services:
        services = Services.open(s)
        services.plans.close()
        services.plans = PlanStore(plans_db_path(s.data_dir), ttl_seconds=s.plan_ttl_seconds, clock=lambda: now[0])
        return services

    runtime = ToolRuntime(settings, opener)
    async with Client(build_server(settings, runtime)) as client:
        mcp = Session(client)
        await warm_catalog(mcp, sandbox)
        plan_id = (await mcp.ok("update_calendar", changes=one_change()))["plan_id"]
        now[0] += settings.plan_ttl_seconds + 1
        refused = await mcp.error("update_calendar", changes=one_change(), plan_id=plan_id)

    assert "expired" in refused and "Preview the changes again" in refused
    assert upstream(sandbox) == []


async def test_an_unknown_plan_id_is_refused(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        await warm_catalog(mcp, sandbox)
        refused = await mcp.error("update_calendar", changes=one_change(), plan_id="not-a-plan")

    assert "unknown plan id" in refused
    assert upstream(sandbox) == []


async def test_trusted_automation_may_apply_without_a_preview(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings.with_overrides(apply_without_preview=True)) as mcp:
        await warm_catalog(mcp, sandbox)
        applied = await mcp.ok("update_calendar", changes=one_change("171"))

    assert applied["applied"] is True and applied["quota_spent"] == 1
    assert sandbox.control.calendar("DLXDBL", first_day())["price"] == Decimal("171")


async def test_one_uniform_range_goes_as_a_single_range_request(settings: Settings, sandbox: RunningSandbox) -> None:
    """200 dates of one value: one PUT /rooms/~ instead of three /rooms/daily calls of 90 dates."""
    start, end = first_day(), first_day() + timedelta(days=199)
    changes = [{"room": "PRESTE", "start_date": str(start), "end_date": str(end), "price": "420", "min_stay": 2}]
    async with connect(settings) as mcp:
        await warm_catalog(mcp, sandbox)
        preview = await mcp.ok("update_calendar", changes=changes)
        applied = await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])

    assert preview["upstream_requests"] == 1 and preview["requests"][0].startswith("PUT /rooms/~")
    assert [(r.method, r.path) for r in upstream(sandbox)] == [("PUT", "/rooms/~")]
    assert applied["results"][0]["status"] == "ok"
    for day in (start, start + timedelta(days=100), end):
        held = sandbox.control.calendar("PRESTE", day)
        assert held["price"] == Decimal("420") and held["min_stay"] == 2
    assert sandbox.control.calendar("PRESTE", end + timedelta(days=1))["price"] == Decimal("449")


async def test_weekend_prices_for_a_season_land_only_on_weekends(settings: Settings, sandbox: RunningSandbox) -> None:
    start, end = first_day(), first_day() + timedelta(days=59)
    changes = [
        {"room": "DLXKNG", "start_date": str(start), "end_date": str(end), "price": "300"},
        {"room": "DLXKNG", "start_date": str(start), "end_date": str(end), "weekdays": ["fri", "sat"], "price": "360"},
    ]
    async with connect(settings) as mcp:
        await warm_catalog(mcp, sandbox)
        preview = await mcp.ok("update_calendar", changes=changes)
        await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])

    assert preview["upstream_requests"] <= 2
    assert len(upstream(sandbox, "PUT")) == preview["upstream_requests"]
    for offset in range(60):
        day = start + timedelta(days=offset)
        expected = Decimal("360") if day.weekday() in (4, 5) else Decimal("300")
        assert sandbox.control.calendar("DLXKNG", day)["price"] == expected, day


async def test_every_answer_counts_what_it_spent_including_the_room_list(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(settings) as mcp:
        cold = await mcp.ok("update_calendar", changes=season())
        assert cold["quota_spent"] == 1 == len(upstream(sandbox))  # the room list, fetched for validation
        applied = await mcp.ok("update_calendar", changes=season(), plan_id=cold["plan_id"])
        assert applied["quota_spent"] == 2 == len(upstream(sandbox, "PUT"))
        assert applied["quota_left_today"] == cold["quota_left_today"] - 2
        assert applied["environment"].startswith("SANDBOX")


async def test_an_unknown_calendar_field_is_refused_by_name(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        message = await mcp.error(
            "get_calendar", start_date=str(first_day()), end_date=str(first_day()), fields=["bogus"]
        )
    assert "fields" in message and "price" in message
    assert "Error executing tool get_calendar" not in message or len(message) > 40
