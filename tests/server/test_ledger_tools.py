"""The calendar ledger through a real MCP session: get_calendar answers what update_calendar set (at no
cost), a later preview shows the values it would replace, and check_channel_results records what each
channel said, so "did Expedia take my price?" has an answer."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect, per_date, upstream, utc_today

SEASON_START = utc_today() + timedelta(days=30)
SEASON_END = SEASON_START + timedelta(days=20)
CHANNELS = {"bookingcom", "expedia", "online"}


def season(
    price: str, room: str = "DLXTRP", start: date = SEASON_START, end: date = SEASON_END
) -> list[dict[str, Any]]:
    return [{"room": room, "start_date": str(start), "end_date": str(end), "price": price}]


async def preview_and_apply(mcp: Session, changes: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    preview = await mcp.ok("update_calendar", changes=changes)
    assert not preview["applied"] and preview["plan_id"]
    applied = await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])
    assert applied["applied"] and all(r["status"] == "ok" for r in applied["results"]), applied["results"]
    return preview, applied


async def test_get_calendar_returns_what_was_set_and_a_new_preview_shows_it_as_previous(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    days = (SEASON_END - SEASON_START).days + 1
    async with connect(roomy_settings) as mcp:
        first, applied = await preview_and_apply(mcp, season("185"))
        assert first["changes"][0]["previous"] == [{"field": "price", "values": {}, "unknown_dates": days}]
        [transaction] = [r["transaction_id"] for r in applied["results"]]
        spent = len(upstream(sandbox))

        ledger = await mcp.ok(
            "get_calendar", start_date=SEASON_START - timedelta(days=2), end_date=SEASON_END + timedelta(days=2)
        )
        assert ledger["quota_spent"] == 0
        assert [v["date"] for v in per_date(ledger["values"])] == [
            str(SEASON_START + timedelta(days=i)) for i in range(days)
        ]
        assert {
            (v["room"], v["rate_code"], v["field"], v["value"], v["transaction_id"]) for v in per_date(ledger["values"])
        } == {("DLXTRP", "DLXTRP", "price", "185.00", transaction)}
        assert all(v["channels"] == [] for v in per_date(ledger["values"]))  # every channel of the rate
        assert "unknown" in ledger["note"]
        elsewhere = await mcp.ok("get_calendar", start_date=SEASON_START, end_date=SEASON_END, room="DBLSUP")
        assert elsewhere["values"] == []  # never set here: unknown, not empty

        widened = season("195", end=SEASON_END + timedelta(days=5))
        again = await mcp.ok("update_calendar", changes=widened)
        assert again["changes"][0]["previous"] == [{"field": "price", "values": {"185.00": days}, "unknown_dates": 5}]
        assert len(upstream(sandbox)) == spent  # previews and ledger reads cost nothing

    for day in (SEASON_START, SEASON_END):
        snapshot = sandbox.control.calendar("DLXTRP", day, "DLXTRP")["channels"]
        assert {channel: values["price"] for channel, values in snapshot.items()} == dict.fromkeys(
            CHANNELS, Decimal("185.00")
        )


async def test_check_channel_results_records_an_expedia_refusal_that_get_calendar_then_shows(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    sandbox.control.set_channel_price_floor("expedia", "150")
    async with connect(roomy_settings) as mcp:
        await preview_and_apply(mcp, season("139", room="DBLSUP", end=SEASON_START + timedelta(days=2)))
        before = await mcp.ok("get_calendar", start_date=SEASON_START, end_date=SEASON_START)
        assert per_date(before["values"])[0]["channel_results"] == {}  # not checked yet

        checked = await mcp.ok("check_channel_results")
        [transaction] = checked["transactions"]
        assert (transaction["succeeded"], transaction["failed"], checked["quota_spent"]) == (2, 1, 1)
        # The channel names its room in its own words; our inv_code is nowhere in HotelRunner's details.
        assert transaction["failures"][0].startswith("expedia: ") and "150" in transaction["failures"][0]

        after = await mcp.ok("get_calendar", start_date=SEASON_START, end_date=SEASON_START + timedelta(days=2))
        for value in per_date(after["values"]):
            results = value["channel_results"]
            assert (results["bookingcom"], results["online"]) == ("succeeded", "succeeded")
            assert results["expedia"].startswith("failed: ") and "minimum price 150" in results["expedia"]
        nothing_left = await mcp.ok("check_channel_results")
        assert (nothing_left["transactions"], nothing_left["quota_spent"]) == ([], 0)

        undo = await mcp.ok(
            "update_calendar", changes=season("149", room="DBLSUP", end=SEASON_START + timedelta(days=2))
        )
        assert undo["changes"][0]["previous"][0]["values"] == {"139.00 (refused by expedia)": 3}

    expedia = sandbox.control.calendar("DBLSUP", SEASON_START, "DBLSUP")["channels"]["expedia"]
    assert expedia["price"] != Decimal("139")  # HotelRunner's own view agrees: Expedia kept its price


async def test_a_price_far_from_the_last_one_set_is_flagged_in_the_preview(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    async with connect(roomy_settings) as mcp:
        await preview_and_apply(mcp, season("180", room="SUITE", end=SEASON_START + timedelta(days=3)))
        typo = await mcp.ok("update_calendar", changes=season("18", room="SUITE", end=SEASON_START + timedelta(days=3)))
        nudge = await mcp.ok(
            "update_calendar", changes=season("190", room="SUITE", end=SEASON_START + timedelta(days=3))
        )
    assert typo["changes"][0]["warnings"] == [
        "price 18.00 is 90% below the 180.00 set before on some of these dates; confirm it is not a typo before applying"
    ]
    assert nudge["changes"][0]["warnings"] == []


async def test_a_price_far_below_what_guests_pay_is_flagged_without_any_history(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    """Issue 12, Medium 4: 1 EUR for every room for a year previewed with no warning, because the ledger
    held no earlier price. The mirror's booked nights are the reference instead."""
    year = [
        {
            "room": room,
            "start_date": SEASON_START.isoformat(),
            "end_date": (SEASON_START + timedelta(days=364)).isoformat(),
            "price": "1",
        }
        for room in ("SUITE", "DLXTRP")
    ]
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_reservations", arriving_from="2020-01-01")  # the mirror knows what guests pay
        preview = await mcp.ok("update_calendar", changes=year)
        fair = await mcp.ok("update_calendar", changes=[{**year[0], "price": "170"}])
    for change in preview["changes"]:
        [warning] = change["warnings"]
        assert warning.startswith("price 1.00 is 99% below the ") and "guests usually pay" in warning
    assert fair["changes"][0]["warnings"] == []
    assert [r for r in sandbox.control.requests() if r.method == "PUT"] == []  # a preview sends nothing
