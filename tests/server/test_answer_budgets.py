"""Every answer fits an agent's context (issue 8): with default arguments no answer exceeds the budget, and an
answer that had to leave something out says what and how to get it, so that following it yields everything,
once. Through a real MCP session against a sandbox holding a busy season (400 bookings)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.commands.sandbox_link import settings_for
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from hotelrunner_mcp.surface.budget import ANSWER_BUDGET_BYTES

from .conftest import Session, connect, per_date

ROOMS = ("DLXTRP", "DLXDBL", "DBLSUP", "EXESTE", "DLXKNG", "FAMSTE", "SUITE", "PRESTE")
START = property_today() + timedelta(days=2)


@pytest.fixture(scope="module")
def busy() -> Iterator[RunningSandbox]:
    with run_sandbox(SandboxConfig(seed=3, bookings=400, per_minute=1000, per_day=100_000)) as sandbox:
        yield sandbox


@pytest.fixture
def busy_settings(busy: RunningSandbox, tmp_path: Path) -> Settings:
    base = Settings(data_dir=tmp_path / "data", timeout_seconds=5.0)
    return settings_for(busy, base).with_overrides(per_minute=1000, per_day=100_000)


def day(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


def year_of_prices(cheap_night: int | None = None, base: int = 400) -> list[dict[str, Any]]:
    """8 rooms x 365 single-night changes (2,920), each night its own price (above what guests pay); one absurdly
    cheap night if asked, which the preview warns about."""
    return [
        {
            "room": room,
            "start_date": day(d),
            "end_date": day(d),
            "price": "9" if d == cheap_night else str(base + d % 40),
        }
        for room in ROOMS
        for d in range(365)
    ]


async def text_of(mcp: Session, tool: str, **arguments: Any) -> tuple[int, dict[str, Any]]:
    """The bytes of the text an agent reads, and the structured answer."""
    result = await mcp.call(tool, **arguments)
    assert not result.is_error, result.text
    assert result.data is not None and json.loads(result.text) == result.data
    return len(result.text.encode()), result.data


async def test_no_default_answer_exceeds_the_budget_and_each_cut_one_says_so(busy_settings: Settings) -> None:
    async with connect(busy_settings) as mcp:
        first = await mcp.ok("get_reservations", max_sync_requests=50)
        assert first["sync"]["complete"] and first["matching"] >= 300
        questions: list[tuple[str, dict[str, Any]]] = [
            ("get_occupancy", {"start": day(0), "end": day(364)}),
            ("get_occupancy", {"start": day(0), "end": day(364), "include_nights": True}),
            ("get_reservations", {"stay_from": day(0), "stay_to": day(29)}),
            ("get_reservations", {"stay_from": day(0), "stay_to": day(29), "detail": "full", "limit": 200}),
            ("get_reservation_changes", {"since_change_id": 0, "limit": 500}),
            ("update_calendar", {"changes": year_of_prices()}),
        ]
        for tool, arguments in questions:
            size, answer = await text_of(mcp, tool, **arguments)
            assert size <= ANSWER_BUDGET_BYTES, (tool, size)
            assert answer["left_out"], f"{tool} with {sorted(arguments)} must have left something out"


async def test_a_year_of_prices_is_previewed_as_a_summary_and_every_change_can_be_read_page_by_page(
    busy_settings: Settings,
) -> None:
    changes = year_of_prices(cheap_night=40)
    async with connect(busy_settings) as mcp:
        await mcp.ok("get_reservations", max_sync_requests=50)  # the mirror knows what guests pay
        preview = await mcp.ok("update_calendar", changes=changes)
        assert preview["dates_touched"] == 2920 and preview["upstream_requests"] <= 10
        assert [(g["room"], g["field"], g["dates"], g["ranges"]) for g in preview["summary"]] == [
            (room, "price", 365, 1) for room in ROOMS
        ]
        assert {g["values"] for g in preview["summary"]} == {"9.00–439.00"}
        assert [g["warnings"] for g in preview["summary"]] == [1] * len(ROOMS)
        # the summary never hides a warning: the warned changes are listed one by one
        assert [c["index"] for c in preview["changes"]] == [r * 365 + 40 for r in range(len(ROOMS))]
        assert all("below" in c["warnings"][0] for c in preview["changes"])
        assert "detail='changes'" in preview["left_out"]

        some = changes[:400]  # every page is a new preview of every change: a shorter list keeps the test quick
        pages = [await mcp.ok("update_calendar", changes=some, detail="changes")]
        while pages[-1]["next_offset"] is not None:
            pages.append(
                await mcp.ok("update_calendar", changes=some, detail="changes", offset=pages[-1]["next_offset"])
            )
        listed = [c["index"] for page in pages for c in page["changes"]]
        assert listed == list(range(len(some))) and len(pages) > 1
        assert all(page["quota_spent"] == 0 and not page["applied"] and not page["summary"] for page in pages)

        applied = await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])
        assert applied["applied"] and [r["status"] for r in applied["results"]] == ["ok"] * applied["upstream_requests"]
        assert len(applied["summary"]) == len(ROOMS)  # the apply answer fits too


async def test_reservation_pages_list_every_match_once(busy_settings: Settings) -> None:
    filters = {"stay_from": day(0), "stay_to": day(29), "detail": "full", "limit": 200}
    async with connect(busy_settings) as mcp:
        await mcp.ok("get_reservations", max_sync_requests=50)
        first = await mcp.ok("get_reservations", **filters)
        every = await mcp.every("get_reservations", "reservations", **filters)
    numbers = [r["hr_number"] for r in every]
    assert len(first["reservations"]) < first["matching"] == len(numbers) == len(set(numbers))
    assert f"cursor={first['next_cursor']}" in first["left_out"]


async def test_a_year_of_the_ledger_comes_back_as_runs_of_dates(busy_settings: Settings) -> None:
    season = [
        {"room": room, "start_date": day(0), "end_date": day(364), "price": "180", "min_stay": 2} for room in ROOMS
    ]
    async with connect(busy_settings) as mcp:
        preview = await mcp.ok("update_calendar", changes=season)
        await mcp.ok("update_calendar", changes=season, plan_id=preview["plan_id"])
        size, _ = await text_of(mcp, "get_calendar", start_date=day(0), end_date=day(364))
        runs = await mcp.every("get_calendar", "values", start_date=day(0), end_date=day(364))
    assert size <= ANSWER_BUDGET_BYTES
    assert len(runs) <= 2 * len(ROOMS) * preview["upstream_requests"], "a row per run of dates and request"
    covered = {(v["room"], v["field"], v["value"], v["date"]) for v in per_date(runs)}
    assert covered == {
        (room, field, value, day(d))
        for room in ROOMS
        for field, value in (("price", "180.00"), ("min_stay", 2))
        for d in range(365)
    }


async def test_a_large_undo_fits_and_says_how_to_see_each_change(busy_settings: Settings) -> None:
    async with connect(busy_settings) as mcp:
        for base in (400, 420):  # a year of prices, then another: undoing the second puts the first back
            changes = year_of_prices(base=base)
            preview = await mcp.ok("update_calendar", changes=changes)
            applied = await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])
        transactions = [r["transaction_id"] for r in applied["results"]]
        size, undo = await text_of(mcp, "undo_calendar_change", transaction_ids=transactions)
    assert size <= ANSWER_BUDGET_BYTES and undo["restoring_cells"] == 2920 and undo["plan_id"]
    assert "narrower undo" in undo["left_out"] and "detail=" not in undo["left_out"]
    assert {g["room"] for g in undo["summary"]} == set(ROOMS)
