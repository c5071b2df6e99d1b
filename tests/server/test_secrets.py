"""The token and hr_id appear nowhere: not in the audit log, not on the server's stderr, not in any tool
answer or error — on the happy paths and on every failure path."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect
from .support import assert_no_secrets, connect_stdio, stdio_env

DAY = str(property_today() + timedelta(days=6))
CHANGE = [{"room": "DBLSUP", "start_date": DAY, "end_date": DAY, "price": "160", "min_stay": 2}]
FAULTS = ("500", "503", "429", "malformed", "hang")


async def exercise(mcp: Session, sandbox: RunningSandbox) -> list[str]:
    """Every tool on its happy path, then reads and writes under each fault; everything the client saw."""
    seen: list[str] = []

    async def call(tool: str, **arguments: Any) -> None:
        result = await mcp.call(tool, **arguments)
        assert "validation error" not in result.text, result.text  # the call must reach the tool, not bounce
        seen.append(result.text)

    await call("get_rooms")
    await call("get_reservations", refresh=True, detail="full", limit=50)
    await call("get_reservations", number="R000000000")
    preview = await mcp.ok("update_calendar", changes=CHANGE)
    await call("update_calendar", changes=CHANGE, plan_id=preview["plan_id"])
    await call("get_calendar", start_date=DAY, end_date=DAY)
    await call("check_channel_results")
    await call("get_occupancy", start=DAY, end=DAY)
    for kind in FAULTS:
        sandbox.control.add_fault(kind, times=2, delay=2)
        await call("get_rooms", refresh=True)
        sandbox.control.clear_faults()
        sandbox.control.add_fault(kind, times=1, delay=2)
        await call("update_calendar", changes=CHANGE, plan_id="stale")  # refused locally: never reaches the fault
        preview = await mcp.ok("update_calendar", changes=CHANGE)
        await call("update_calendar", changes=CHANGE, plan_id=preview["plan_id"])
        sandbox.control.clear_faults()
    seen.append(await mcp.resource("hotelrunner://setup-status"))
    return seen


async def test_nothing_the_client_sees_or_the_audit_log_holds_carries_a_secret(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    settings = roomy_settings.with_overrides(timeout_seconds=0.5)
    async with connect(settings) as mcp:
        seen = await exercise(mcp, sandbox)

    assert any("outcome unknown" in text for text in seen)  # the failure paths were really taken
    for text in seen:
        assert_no_secrets(text, sandbox)
    audit = settings.audit_file.read_text(encoding="utf-8")
    assert '"upstream_intent"' in audit and '"status":500' in audit  # writes and failures were recorded
    assert_no_secrets(audit, sandbox)
    assert stat.S_IMODE(os.stat(settings.audit_file).st_mode) == 0o600


async def test_rejected_credentials_do_not_echo_the_token(roomy_settings: Settings, sandbox: RunningSandbox) -> None:
    wrong = "wrong-token-1234567890"
    settings = roomy_settings.with_overrides(token=wrong)
    async with connect(settings) as mcp:
        rooms = await mcp.error("get_rooms")
        preview = await mcp.error("update_calendar", changes=CHANGE)

    for text in (rooms, preview, settings.audit_file.read_text(encoding="utf-8")):
        assert wrong not in text
        assert_no_secrets(text, sandbox)


async def test_the_server_process_stderr_carries_no_secret(sandbox: RunningSandbox, tmp_path: Path) -> None:
    stderr_path = tmp_path / "stderr.txt"
    env = stdio_env(sandbox, tmp_path / "data", HOTELRUNNER_TIMEOUT_SECONDS="0.5")
    with stderr_path.open("w", encoding="utf-8") as errlog:
        async with connect_stdio(env, errlog=errlog) as mcp:
            await mcp.ok("get_rooms")
            sandbox.control.add_fault("hang", delay=2)
            hung = await mcp.error("get_rooms", refresh=True)
            sandbox.control.clear_faults()
            sandbox.control.add_fault("500")
            failed = await mcp.error("get_reservations", refresh=True)
            sandbox.control.clear_faults()

    stderr = stderr_path.read_text(encoding="utf-8")
    assert "no answer within" in hung and "500" in failed
    assert stderr.strip(), "the server logged nothing at all: this test would prove nothing"
    assert_no_secrets(stderr, sandbox)
    assert_no_secrets(hung + failed, sandbox)


async def test_the_server_process_stderr_hides_a_rejected_token(sandbox: RunningSandbox, tmp_path: Path) -> None:
    wrong = "wrong-token-abcdefghij"
    stderr_path = tmp_path / "stderr.txt"
    env = stdio_env(sandbox, tmp_path / "data", HOTELRUNNER_TOKEN=wrong)
    with stderr_path.open("w", encoding="utf-8") as errlog:
        async with connect_stdio(env, errlog=errlog) as mcp:
            rejected = await mcp.error("get_rooms")

    stderr = stderr_path.read_text(encoding="utf-8")
    assert "rejected" in rejected
    for text in (stderr, rejected):
        assert wrong not in text
        assert_no_secrets(text, sandbox)
