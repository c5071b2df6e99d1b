"""Every kind of bad calendar change is refused with a message naming the problem, before any request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream

TODAY = property_today()
START = TODAY + timedelta(days=3)
OTHER_WEEKDAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(START.weekday() + 1) % 7]


def change(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "room": "DLXTRP",
        "start_date": str(START),
        "end_date": str(START + timedelta(days=6)),
        "price": "180",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


CASES = {
    "date in the past": (change(start_date=str(TODAY - timedelta(days=1))), ["start_date", "in the past"]),
    "end before start": (change(end_date=str(START - timedelta(days=1))), ["end_date", "before start_date"]),
    "span too long": (change(end_date=str(START + timedelta(days=400))), ["end_date", "split it"]),
    "price zero": (change(price="0"), ["price", "greater than 0"]),
    "price negative": (change(price="-20"), ["price", "greater than 0"]),
    "availability below zero": (change(price=None, availability=-1), ["availability", "0 or more"]),
    "availability above the room type's size": (
        change(price=None, availability=4),
        ["DLXTRP has 3 room(s)", "oversell"],
    ),
    "an implausible minimum stay": (change(price=None, min_stay=10000), ["min_stay", "1 to 365 nights"]),
    "unknown room": (change(room="NOPE"), ["unknown room 'NOPE'", "DLXTRP"]),
    "room in the wrong case": (change(room="dlxtrp"), ["did you mean 'DLXTRP'"]),
    "non-refundable rate price": (change(rate_code="NR:DLXTRP"), ["NR:DLXTRP", "does not accept price", "DLXTRP"]),
    "non-refundable rate restriction": (
        change(rate_code="NR:DLXTRP", price=None, stop_sale=True),
        ["does not accept stop_sale"],
    ),
    "rate of another room": (change(rate_code="SUITE"), ["has no rate 'SUITE'", "belongs to SUITE"]),
    "min_stay above max_stay": (change(price=None, min_stay=5, max_stay=2), ["min_stay", "max_stay"]),
    "unknown channel": (change(channels=["airbnb"]), ["airbnb", "not connected", "bookingcom"]),
    "no field set": (change(price=None), ["sets nothing"]),
    "weekday outside the range": (change(end_date=str(START), weekdays=[OTHER_WEEKDAY]), ["never occur"]),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_change_is_refused_before_any_request(case: str, settings: Settings, sandbox: RunningSandbox) -> None:
    bad, expected = CASES[case]
    async with connect(settings) as mcp:
        await mcp.ok("get_rooms")  # the catalog every write is checked against
        sandbox.control.clear_requests()
        message = await mcp.error("update_calendar", changes=[bad])

    for words in expected:
        assert words in message, message
    assert "nothing was sent" in message
    assert upstream(sandbox) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_date", "2026-02-30"),
        ("end_date", "next friday"),
        ("price", "cheap"),
        ("weekdays", ["friday"]),
        ("colour", "red"),
    ],
)
async def test_malformed_arguments_are_refused_naming_the_field(
    field: str, value: Any, settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(settings) as mcp:
        message = await mcp.error("update_calendar", changes=[change(**{field: value})])

    assert field in message, message
    assert upstream(sandbox) == []


async def test_every_problem_is_listed_at_once(settings: Settings, sandbox: RunningSandbox) -> None:
    changes = [change(price="-1"), change(room="NOPE"), change(start_date=str(TODAY - timedelta(days=2)))]
    async with connect(settings) as mcp:
        message = await mcp.error("update_calendar", changes=changes)

    assert "3 problems" in message
    assert "changes[0].price" in message and "changes[1].room" in message and "changes[2].start_date" in message


async def test_an_empty_change_list_is_refused(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        message = await mcp.error("update_calendar", changes=[])

    assert "changes" in message
    assert upstream(sandbox) == []


async def test_a_misspelled_argument_is_refused_not_ignored(settings: Settings, sandbox: RunningSandbox) -> None:
    """Ignored, `arrival_from` would return every booking as if it matched (issue 12, Low)."""
    async with connect(settings) as mcp:
        refused = await mcp.error("get_reservations", arrival_from="2027-01-01")
        tools = (await mcp.client.list_tools()).tools
    assert "arrival_from" in refused and "Extra inputs are not permitted" in refused
    assert upstream(sandbox) == []
    assert all(t.input_schema.get("additionalProperties") is False for t in tools)
