"""Read-only mode: the write tool is not listed and a call to it is refused, in memory and over stdio;
reads keep working."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect, upstream
from .support import connect_stdio, stdio_env

DAY = str(property_today() + timedelta(days=5))
CHANGE = {"room": "DLXTRP", "start_date": DAY, "end_date": DAY, "price": "180"}


async def assert_read_only(mcp: Session, sandbox: RunningSandbox) -> None:
    names = {t.name for t in (await mcp.client.list_tools()).tools}
    assert "update_calendar" not in names
    assert {"get_rooms", "get_reservations", "get_calendar"} <= names

    with pytest.raises(MCPError) as refused:  # not registered at all: a JSON-RPC error, as for any unknown tool
        await mcp.client.call_tool("update_calendar", {"changes": [CHANGE]})
    assert (refused.value.code, refused.value.message) == (INVALID_PARAMS, "Unknown tool: update_calendar")
    assert [r for r in upstream(sandbox) if r.method == "PUT"] == []

    rooms = await mcp.ok("get_rooms")
    assert len([t for t in rooms["room_types"] if not t["default_room"]]) == 8
    status = await mcp.resource("hotelrunner://setup-status")
    assert '"read_only": true' in status


async def test_read_only_hides_and_refuses_the_write_tool(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings.with_overrides(read_only=True)) as mcp:
        await assert_read_only(mcp, sandbox)


async def test_read_only_over_stdio_with_the_flag(sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with connect_stdio(stdio_env(sandbox, tmp_path / "data"), "--read-only") as mcp:
        await assert_read_only(mcp, sandbox)


async def test_read_only_over_stdio_from_the_environment(sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with connect_stdio(stdio_env(sandbox, tmp_path / "data", HOTELRUNNER_READ_ONLY="true")) as mcp:
        await assert_read_only(mcp, sandbox)


async def test_writes_are_listed_when_not_read_only(settings: Settings) -> None:
    async with connect(settings) as mcp:
        tools = {t.name: t for t in (await mcp.client.list_tools()).tools}

    annotations = tools["update_calendar"].annotations
    assert annotations is not None and annotations.read_only_hint is False and annotations.destructive_hint is True
