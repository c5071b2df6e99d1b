"""The prompts a client offers its user: listed, and filled with what the user asked."""

from __future__ import annotations

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings

from .conftest import connect


async def test_the_prompts_are_listed_and_filled(settings: Settings) -> None:
    async with connect(settings) as mcp:
        listed = await mcp.client.list_prompts()
        assert {p.name for p in listed.prompts} == {"morning_briefing", "change_prices"}
        briefing = await mcp.client.get_prompt("morning_briefing", {})
        prices = await mcp.client.get_prompt("change_prices", {"request": "Suites +10 % every weekend in March"})
    text = briefing.messages[0].content.text  # type: ignore[union-attr]
    assert str(property_today()) in text and "get_reservation_changes" in text
    ask = prices.messages[0].content.text  # type: ignore[union-attr]
    assert "Suites +10 % every weekend in March" in ask and "plan_id" in ask and "explicit yes" in ask


async def test_read_only_lists_no_prompt_that_leads_to_a_write(settings: Settings) -> None:
    async with connect(settings.with_overrides(read_only=True)) as mcp:
        names = {p.name for p in (await mcp.client.list_prompts()).prompts}
    assert names == {"morning_briefing"}
