"""Through a real MCP session against the sandbox, which reads requests the way HotelRunner's docs
define them (rate_code ignored beside inv_code; a rate-only update sets its price and nothing else;
room_code required on ranges). Every request this server sends must mean what it was asked to mean:
the sandbox's request log shows no ignored field, and its calendar shows each price on its own rate."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect, per_date

START = property_today() + timedelta(days=20)


async def apply(mcp: Session, changes: list[dict[str, Any]]) -> dict[str, Any]:
    preview = await mcp.ok("update_calendar", changes=changes)
    return await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])


async def test_a_second_rate_price_lands_on_that_rate_and_the_master_keeps_its_own(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    day = START.isoformat()
    week_end = (START + timedelta(days=6)).isoformat()
    changes = [
        {"room": "DLXTRP", "start_date": day, "end_date": week_end, "price": "175", "min_stay": 2, "availability": 2},
        {"room": "DLXTRP", "rate_code": "HB:DLXTRP", "start_date": day, "end_date": week_end, "price": "215"},
        {"room": "FAMSTE", "rate_code": "HB:FAMSTE", "start_date": day, "end_date": day, "price": "249"},
    ]
    async with connect(roomy_settings) as mcp:
        applied = await apply(mcp, changes)
        assert {r["status"] for r in applied["results"]} == {"ok"}
        ledger = await mcp.ok("get_calendar", start_date=day, end_date=day, room="DLXTRP", fields=["price"])
    master = sandbox.control.calendar("DLXTRP", START, "DLXTRP")
    half_board = sandbox.control.calendar("DLXTRP", START, "HB:DLXTRP")
    assert {c["price"] for c in master["channels"].values()} == {Decimal("175")}
    assert {c["price"] for c in half_board["channels"].values()} == {Decimal("215")}
    assert master["availability"] == 2 and master["channels"]["bookingcom"]["min_stay"] == 2
    assert {(v["rate_code"], v["value"]) for v in per_date(ledger["values"])} == {
        ("DLXTRP", "175.00"),
        ("HB:DLXTRP", "215.00"),
    }
    writes = [r for r in sandbox.control.requests() if r.method == "PUT"]
    assert writes and all(r.ignored_fields == [] for r in writes), [(r.path, r.ignored_fields) for r in writes]


async def test_restrictions_on_a_second_rate_are_refused_before_anything_is_sent(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    change = {
        "room": "DLXTRP",
        "rate_code": "HB:DLXTRP",
        "start_date": START.isoformat(),
        "end_date": START.isoformat(),
        "stop_sale": True,
    }
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_rooms")
        sandbox.control.clear_requests()
        refused = await mcp.error("update_calendar", changes=[change])
    assert "HB:DLXTRP" in refused and ("does not accept stop_sale" in refused or "not the master rate" in refused)
    assert sandbox.control.requests() == []


async def test_a_range_update_names_room_code_as_the_docs_literal_requests_do(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    """A single uniform range goes as PUT /rooms/~, which the sandbox refuses without room_code."""
    day = START.isoformat()
    long_end = (START + timedelta(days=200)).isoformat()
    async with connect(roomy_settings) as mcp:
        applied = await apply(
            mcp,
            [
                {"room": "SUITE", "start_date": day, "end_date": long_end, "price": "199"},
                {"room": "PRESTE", "rate_code": "HB:PRESTE", "start_date": day, "end_date": long_end, "price": "519"},
            ],
        )
    assert {r["status"] for r in applied["results"]} == {"ok"}
    ranges = [r for r in sandbox.control.requests() if r.path == "/rooms/~"]
    assert ranges, "expected range requests"
    for request in ranges:
        assert "room_code" in request.params and not ("inv_code" in request.params and "rate_code" in request.params)
    assert sandbox.control.calendar("PRESTE", START, "HB:PRESTE")["channels"]["online"]["price"] == Decimal("519")
