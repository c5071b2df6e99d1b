"""A quota wait that real clients survive (issue 9), through the MCP client: progress notices keep coming
while a tool call waits for its per-minute slot (a client whose timeout resets on progress keeps
listening), a call whose slot lies past the per-call bound answers at once and spends nothing more, and
log notices honour logging/setLevel."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import LoggingMessageNotificationParams

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.surface.server import build_server
from hotelrunner_mcp.surface.tools import runtime

from .conftest import connect, upstream

pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")


def one_a_minute(settings: Settings, minute_seconds: float) -> Settings:
    """One request per (shortened) minute, and a room list never remembered: each get_rooms sends one."""
    return settings.with_overrides(per_minute=1, minute_seconds=minute_seconds, rooms_ttl_seconds=0.0)


async def test_progress_notices_keep_coming_while_a_call_waits(
    settings: Settings, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "PROGRESS_EVERY_SECONDS", 0.4)  # 5 s in production; the window is short here
    notices: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notices.append((progress, total, message))

    async with connect(one_a_minute(settings, 2.0)) as mcp:
        await mcp.ok("get_rooms")
        result = await mcp.client.call_tool("get_rooms", {}, progress_callback=on_progress)
    assert not result.is_error
    assert len(notices) >= 3, notices
    progress = [p for p, _, _ in notices]
    assert progress == sorted(progress) and len(set(progress)) == len(progress)  # always increasing
    assert all(total is not None and total >= p for p, total, _ in notices)
    assert all(message and "s left" in message for _, _, message in notices)
    assert len(upstream(sandbox, "GET", "/rooms")) == 2


async def test_a_slot_past_the_bound_answers_at_once_and_spends_nothing(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    bounded = one_a_minute(settings, 60.0).with_overrides(max_quota_wait_seconds=Settings().max_quota_wait_seconds)
    assert bounded.max_quota_wait_seconds < 60  # the default: a client that gives up after 60 s gets an answer
    async with connect(bounded) as mcp:
        await mcp.ok("get_rooms")
        with anyio.fail_after(30):  # a safety net: waiting for the slot would take a minute
            refused = await mcp.error("get_rooms")
    assert "quota_wait_too_long" in refused and "try again after" in refused
    assert len(upstream(sandbox, "GET", "/rooms")) == 1  # the refused call sent nothing


async def test_log_notices_honour_logging_set_level(settings: Settings) -> None:
    async def run(level: str | None) -> list[LoggingMessageNotificationParams]:
        logged: list[LoggingMessageNotificationParams] = []

        async def on_log(params: LoggingMessageNotificationParams) -> None:
            logged.append(params)

        options: dict[str, Any] = {"mode": "legacy", "logging_callback": on_log}
        async with Client(build_server(one_a_minute(settings, 1.0)), **options) as client:
            if level is not None:
                await client.set_logging_level(level)  # type: ignore[arg-type]
            for _ in range(2):  # the second waits for its slot
                assert not (await client.call_tool("get_rooms", {})).is_error
        return logged

    assert any("waiting for the next slot" in str(p.data) for p in await run(None))
    assert await run("warning") == []  # quota waits are info: below the level asked for
