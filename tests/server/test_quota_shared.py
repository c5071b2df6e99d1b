"""The quota is one budget for every server process on a data folder, and it survives restarts."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from mcp.types import LoggingMessageNotificationParams

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect, upstream
from .support import assert_tool_error, connect_stdio, stdio_env

PER_MINUTE = 3
WINDOW = 2.0  # seconds standing in for the minute
ARRIVAL_JITTER = 0.25  # counted when sent, logged on arrival: slack for a loaded machine (an unshared limit would put 6 in one instant)
CALLS_PER_PROCESS = 5


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times))


async def test_two_server_processes_share_the_per_minute_limit(sandbox: RunningSandbox, tmp_path: Path) -> None:
    env = stdio_env(
        sandbox,
        tmp_path / "shared",
        HOTELRUNNER_QUOTA_PER_MINUTE=str(PER_MINUTE),
        HOTELRUNNER_QUOTA_MINUTE_SECONDS=str(WINDOW),
        HOTELRUNNER_ROOMS_TTL_SECONDS="0",  # every get_rooms costs a request
    )
    notices: list[str] = []

    async def notice(params: LoggingMessageNotificationParams) -> None:
        notices.append(str(params.data))

    async def burst(mcp: Session) -> None:
        for _ in range(CALLS_PER_PROCESS):
            rooms = await mcp.ok("get_rooms")
            assert rooms["quota_spent"] == 1

    async with (
        connect_stdio(env, logging_callback=notice, log_level="info") as first,
        connect_stdio(env, logging_callback=notice, log_level="info") as second,
        anyio.create_task_group() as tasks,
    ):
        tasks.start_soon(burst, first)
        tasks.start_soon(burst, second)

    sent = upstream(sandbox, "GET", "/rooms")
    assert len(sent) == 2 * CALLS_PER_PROCESS
    assert all(r.status == 200 for r in sent)  # no 429
    assert most_in_any_window([r.at for r in sent], WINDOW - ARRIVAL_JITTER) <= PER_MINUTE
    assert any("waiting" in n and "next slot" in n for n in notices)  # the client is told about the wait


async def test_a_restarted_server_remembers_the_days_spend(settings: Settings, sandbox: RunningSandbox) -> None:
    budget = settings.with_overrides(per_day=3, rooms_ttl_seconds=0)
    async with connect(budget) as mcp:
        for _ in range(3):
            await mcp.ok("get_rooms")
    sandbox.control.clear_requests()

    async with connect(budget) as mcp:  # a new server on the same data folder
        status = json.loads(await mcp.resource("hotelrunner://setup-status"))
        refused = await mcp.error("get_rooms")

    assert status["quota"]["used_last_24h"] == 3
    assert status["quota"]["left_last_24h"] == 0
    assert status["quota"]["next_free_at"]
    assert_tool_error(refused, "get_rooms")
    assert "quota used up: 3 of 3" in refused and "Nothing was sent" in refused
    assert status["quota"]["next_free_at"] in refused  # when the next slot frees
    assert upstream(sandbox) == []
