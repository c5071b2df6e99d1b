"""get_rooms through a real MCP session against the sandbox: room types, rates, the remembered list."""

from __future__ import annotations

import anyio

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream

SANDBOX_ROOMS = {"DLXTRP", "DLXDBL", "DBLSUP", "EXESTE", "DLXKNG", "FAMSTE", "SUITE", "PRESTE"}


async def test_lists_the_eight_room_types_with_what_each_rate_may_update(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(settings) as mcp:
        answer = await mcp.ok("get_rooms")

    assert {t["inv_code"] for t in answer["room_types"] if not t["default_room"]} == SANDBOX_ROOMS
    assert [t["inv_code"] for t in answer["room_types"] if t["default_room"]] == ["HR:99"]  # HotelRunner's Default Room
    assert answer["environment"].startswith("SANDBOX")
    assert answer["from_cache"] is False
    assert answer["quota_spent"] == 1
    triple = next(t for t in answer["room_types"] if t["inv_code"] == "DLXTRP")
    rates = {r["rate_code"]: r for r in triple["rates"]}
    assert triple["name"] == "Deluxe Triple"
    assert rates["DLXTRP"]["master"] is True and rates["HB:DLXTRP"]["master"] is False
    assert rates["HB:DLXTRP"]["can_update"] == ["price"]
    assert sorted(rates["DLXTRP"]["can_update"]) == ["availability", "price", "restrictions"]
    assert rates["DLXTRP"]["currency"] == "EUR"
    assert rates["NR:DLXTRP"]["non_refundable"] is True
    assert rates["NR:DLXTRP"]["can_update"] == []
    assert len(upstream(sandbox, "GET", "/rooms")) == 1


async def test_the_list_is_remembered_and_refresh_fetches_it_again(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        first = await mcp.ok("get_rooms")
        second = await mcp.ok("get_rooms")
        assert len(upstream(sandbox)) == 1
        refreshed = await mcp.ok("get_rooms", refresh=True)

    assert second["from_cache"] is True
    assert second["quota_spent"] == 0
    assert second["room_types"] == first["room_types"]
    assert second["quota_left_today"] == first["quota_left_today"]
    assert refreshed["from_cache"] is False
    assert refreshed["quota_spent"] == 1
    assert len(upstream(sandbox, "GET", "/rooms")) == 2


async def test_a_zero_ttl_fetches_every_time(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings.with_overrides(rooms_ttl_seconds=0)) as mcp:
        await mcp.ok("get_rooms")
        again = await mcp.ok("get_rooms")

    assert again["from_cache"] is False
    assert len(upstream(sandbox, "GET", "/rooms")) == 2


async def test_the_tool_is_announced_as_a_read_that_costs_quota(settings: Settings) -> None:
    async with connect(settings.with_overrides(output_schemas=True)) as mcp:  # published only when asked for
        tools = {t.name: t for t in (await mcp.client.list_tools()).tools}

    rooms = tools["get_rooms"]
    assert rooms.annotations is not None
    assert rooms.annotations.read_only_hint is True
    assert rooms.annotations.destructive_hint is False
    assert rooms.annotations.open_world_hint is True
    assert "request" in (rooms.description or "") and "quota" in (rooms.description or "")
    assert rooms.output_schema is not None and "room_types" in rooms.output_schema["properties"]


async def test_concurrent_calls_share_one_fetch(settings: Settings, sandbox: RunningSandbox) -> None:
    answers: list[dict[str, object]] = []
    async with connect(settings) as mcp:

        async def ask() -> None:
            answers.append(await mcp.ok("get_rooms"))

        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(ask)

    assert len(upstream(sandbox, "GET", "/rooms")) == 1
    assert sorted(a["quota_spent"] for a in answers) == [0, 0, 1]
