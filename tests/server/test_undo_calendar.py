"""undo_calendar_change through a real MCP client: a season of prices applied, then undone, leaves the
sandbox calendar exactly as it was on every cell this server knew, in the fewest requests, and reports
the cells it could not restore."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect, per_date, upstream

ROOMS = ("DLXTRP", "DBLSUP", "SUITE")
KNOWN_DAYS = 60  # the baseline this server set; the season runs 120 days, so half of it is unknown before


def day(offset: int) -> date:
    return property_today() + timedelta(days=2 + offset)


def span(first: int, last: int) -> dict[str, str]:
    return {"start_date": str(day(first)), "end_date": str(day(last))}


def baseline() -> list[dict[str, Any]]:
    """What this server set first: a price per room for 60 days, a min stay on DLXTRP, and a Booking.com
    price of its own on SUITE for ten days."""
    changes = [{"room": room, **span(0, KNOWN_DAYS - 1), "price": str(120 + i)} for i, room in enumerate(ROOMS)]
    changes.append({"room": "DLXTRP", **span(0, 29), "min_stay": 2})
    changes.append({"room": "SUITE", **span(10, 19), "channels": ["bookingcom"], "price": "130"})
    return changes


def season() -> list[dict[str, Any]]:
    """The change to undo: 120 days of monthly prices on every channel, and a longer min stay."""
    changes = []
    for i, room in enumerate(ROOMS):
        for month, price in enumerate((140, 155, 170, 185)):
            changes.append({"room": room, **span(30 * month, 30 * month + 29), "price": str(price + i)})
    changes.append({"room": "DLXTRP", **span(0, 59), "min_stay": 3})
    return changes


async def apply(mcp: Session, changes: list[dict[str, Any]]) -> list[str]:
    preview = await mcp.ok("update_calendar", changes=changes)
    applied = await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])
    assert {r["status"] for r in applied["results"]} == {"ok"}
    return [r["transaction_id"] for r in applied["results"]]


def calendar(sandbox: RunningSandbox, days: range) -> dict[tuple[str, int], dict[str, Any]]:
    return {(room, d): sandbox.control.calendar(room, day(d)) for room in ROOMS for d in days}


def _known(cell: tuple[str, int], held: dict[str, Any]) -> dict[str, Any]:
    """A sandbox cell without the fields this server never set there before the season."""
    if cell[0] != "DLXTRP" or cell[1] < 30:
        return held
    drop = {k: v for k, v in held.items() if k != "min_stay"}
    drop["channels"] = {c: {k: v for k, v in f.items() if k != "min_stay"} for c, f in held["channels"].items()}
    return drop


async def test_a_season_undone_leaves_every_known_cell_as_it_was(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_rooms")
        await apply(mcp, baseline())
        before = calendar(sandbox, range(120))
        transactions = await apply(mcp, season())
        sandbox.control.clear_requests()
        preview = await mcp.ok("undo_calendar_change", transaction_ids=transactions)
        assert upstream(sandbox) == [] and preview["quota_spent"] == 0
        undone = await mcp.ok("undo_calendar_change", transaction_ids=transactions, plan_id=preview["plan_id"])
        sent = upstream(sandbox)
        again = await mcp.error("undo_calendar_change", transaction_ids=transactions, plan_id=preview["plan_id"])
        ledger = await mcp.ok("get_calendar", room="SUITE", **span(10, 10))

    after = calendar(sandbox, range(120))
    known = [(room, d) for room in ROOMS for d in range(KNOWN_DAYS)]
    # every field of every known cell is back, down to each channel; DLXTRP's min stay was known only on days 0-29
    assert {cell: _known(cell, after[cell]) for cell in known} == {cell: _known(cell, before[cell]) for cell in known}
    assert after[("DLXTRP", 12)]["min_stay"] == 2
    for i, room in enumerate(ROOMS):  # never known before the season: left as the season set them
        for d in (60, 89, 90, 119):
            assert after[(room, d)]["price"] == Decimal((140, 155, 170, 185)[d // 30] + i), (room, d)
    assert after[("DLXTRP", 45)]["min_stay"] == 3, "a min stay never set before is left alone"
    assert after[("SUITE", 15)]["channels"]["bookingcom"]["price"] == Decimal(130)  # type: ignore[index]
    assert after[("SUITE", 15)]["channels"]["expedia"]["price"] == Decimal(122)  # type: ignore[index]

    # the fewest requests: every room's 60 dates go in /rooms/daily calls, and SUITE's per-channel values in
    # successive calls, since the docs show each room once per call
    assert preview["upstream_requests"] == 3 < preview["naive_requests"]
    assert len(sent) == 3 and {r.path for r in sent} == {"/rooms/daily"} and undone["quota_spent"] == 3
    assert undone["applied"] is True and [r["status"] for r in undone["results"]] == ["ok"] * 3

    assert preview["unknown_cells"] == 3 * 60 + 30, preview[
        "unknown"
    ]  # prices on days 60-119, DLXTRP's min stay on days 30-59
    unknown = "\n".join(preview["unknown"])
    for room in ROOMS:
        assert f"{room} price on every channel: {day(60)}..{day(119)} (60 dates)" in unknown
    assert f"DLXTRP min_stay on every channel: {day(30)}..{day(59)} (30 dates)" in unknown
    assert preview["superseded_cells"] == preview["past_cells"] == 0
    # prices (SUITE's days 10-19 channel by channel, as they were set apart), and DLXTRP's min stays
    assert preview["restoring_cells"] == 2 * 60 + 50 + 10 * 3 + 30
    assert all(t in preview["undoing"] for t in transactions)
    assert preview["plan_id"] in preview["next_step"]

    assert "already applied" in again
    values = {(v["field"], tuple(v["channels"])): v["value"] for v in per_date(ledger["values"])}
    assert values[("price", ("bookingcom",))] == "130.00" and values[("price", ("expedia", "online"))] == "122.00"


async def test_a_time_range_undoes_what_was_set_in_it(roomy_settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_rooms")
        await apply(mcp, baseline())
        before = {cell: _known(cell, held) for cell, held in calendar(sandbox, range(0, 60, 7)).items()}
        start = datetime.now(UTC)
        await apply(mcp, season())
        preview = await mcp.ok("undo_calendar_change", set_from=start.isoformat())
        await mcp.ok("undo_calendar_change", set_from=start.isoformat(), plan_id=preview["plan_id"])
    assert {cell: _known(cell, held) for cell, held in calendar(sandbox, range(0, 60, 7)).items()} == before


async def test_cells_never_known_or_changed_again_are_left_alone(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_rooms")
        first = await apply(mcp, baseline())
        nothing_known = await mcp.ok("undo_calendar_change", transaction_ids=first)
        await apply(mcp, season())
        changed_since = await mcp.ok("undo_calendar_change", transaction_ids=first)
        sandbox.control.clear_requests()
        unknown_id = await mcp.error("undo_calendar_change", transaction_ids=["no-such-transaction"])
        neither = await mcp.error("undo_calendar_change")
        both = await mcp.error("undo_calendar_change", transaction_ids=first, set_from=datetime.now(UTC).isoformat())

    assert nothing_known["plan_id"] is None and nothing_known["upstream_requests"] == 0
    assert nothing_known["unknown_cells"] > 0 and "nothing was sent" in nothing_known["next_step"]
    assert changed_since["plan_id"] is None and changed_since["superseded_cells"] > 0
    assert "changed again later" in "\n".join(changed_since["superseded"])
    assert "no change with transaction id no-such-transaction" in unknown_id
    assert "say what to undo" in neither and "not both" in both
    assert upstream(sandbox) == []


async def test_a_plan_the_ledger_moved_past_is_refused(roomy_settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_rooms")
        await apply(mcp, baseline())
        transactions = await apply(mcp, season())
        plan = (await mcp.ok("undo_calendar_change", transaction_ids=transactions))["plan_id"]
        await apply(mcp, [{"room": "DBLSUP", **span(5, 5), "price": "199"}])  # another change meanwhile
        sandbox.control.clear_requests()
        refused = await mcp.error("undo_calendar_change", transaction_ids=transactions, plan_id=plan)
    assert "does not match this undo any more" in refused and upstream(sandbox) == []
