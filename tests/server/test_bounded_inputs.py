"""Inputs out of any sane range get a clear error at no cost, not an internal error (issue 12, Low)."""

from __future__ import annotations

from typing import Any

import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream
from .support import assert_no_secrets


@pytest.mark.parametrize(
    ("tool", "arguments", "named"),
    [
        ("get_reservations", {"guest": "x" * 50_000}, "guest"),
        ("get_reservations", {"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),
        ("get_reservations", {"arriving_from": "9999-12-31"}, "arriving_from"),
        ("get_reservation_changes", {"since": "9999-12-31T23:59:59Z"}, "since"),
        ("get_reservation_changes", {"since_change_id": 10**30}, "since_change_id"),
        ("get_occupancy", {"start": "0001-01-01", "end": "0001-01-02"}, "start"),
        ("get_calendar", {"start_date": "1900-01-01", "end_date": "1900-01-02"}, "start_date"),
        ("get_reservations", {"number": "!!! not a number !!!"}, "not a reservation number"),
    ],
)
async def test_out_of_range_input_is_refused_clearly_and_costs_nothing(
    settings: Settings, sandbox: RunningSandbox, tool: str, arguments: dict[str, Any], named: str
) -> None:
    async with connect(settings) as mcp:
        text = await mcp.error(tool, **arguments)
    assert named in text and "internal" not in text.lower() and len(text) < 2000  # the 50k input is not echoed whole
    assert_no_secrets(text, sandbox)
    assert upstream(sandbox) == []


async def test_junk_lookups_do_not_spend_the_day(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        await mcp.ok("get_reservations", arriving_from="2020-01-01")  # the mirror is fresh: no sync below
        before = len(upstream(sandbox))
        for _ in range(25):
            answer = await mcp.ok("get_reservations", number="R000000001")
            assert answer["reservations"] == []
    assert len(upstream(sandbox)) - before == 1  # asked once, then remembered as unknown
