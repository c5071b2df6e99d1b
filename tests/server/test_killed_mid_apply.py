"""A server killed (kill -9) while HotelRunner holds one of its writes: after a restart, the plan is
"outcome unknown" with how to check, never "already applied" (issue 12, Medium 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.sandbox import RunningSandbox

from .support import connect_stdio, stdio_env

DAY = (property_today() + timedelta(days=12)).isoformat()
CHANGE = [{"room": "SUITE", "start_date": DAY, "end_date": DAY, "price": "181"}]


def rpc(proc: subprocess.Popen[bytes], message: dict) -> None:
    assert proc.stdin is not None
    proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()


def read_until(proc: subprocess.Popen[bytes], wanted_id: int) -> dict:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        assert line, "the server closed stdout"
        message = json.loads(line)
        if message.get("id") == wanted_id:
            return message


async def test_a_plan_whose_apply_was_killed_reads_outcome_unknown(sandbox: RunningSandbox, tmp_path: Path) -> None:
    env = stdio_env(sandbox, tmp_path / "data", HOTELRUNNER_TIMEOUT_SECONDS="20")  # killed long before it times out
    async with connect_stdio(env) as mcp:
        plan_id = (await mcp.ok("update_calendar", changes=CHANGE))["plan_id"]
    sandbox.control.add_fault("hang", paths=["/rooms/daily", "/rooms/~"])  # HotelRunner holds the write
    server = subprocess.Popen(
        [sys.executable, "-m", "hotelrunner_mcp", "serve"],
        env=env,
        cwd=env["HOTELRUNNER_DATA_DIR"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        rpc(
            server,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            },
        )
        read_until(server, 1)
        rpc(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        rpc(
            server,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "update_calendar", "arguments": {"changes": CHANGE, "plan_id": plan_id}},
            },
        )
        audit = Path(env["HOTELRUNNER_DATA_DIR"]) / "audit.jsonl"
        deadline = time.monotonic() + 30
        while '"upstream_intent"' not in (audit.read_text() if audit.exists() else ""):  # written before it leaves
            assert time.monotonic() < deadline, "the apply never started"
            time.sleep(0.05)
        time.sleep(0.5)  # on its way to HotelRunner, which holds it
    finally:
        server.kill()  # SIGKILL: no finally block of the server runs
        server.wait()
    sandbox.control.clear_faults()
    async with connect_stdio(env) as mcp:
        again = await mcp.error("update_calendar", changes=CHANGE, plan_id=plan_id)
        status = json.loads(await mcp.resource("hotelrunner://setup-status"))
    assert "OUTCOME UNKNOWN" in again and "already applied" not in again and "check_channel_results" in again
    assert [line for line in status["interrupted_calendar_changes"] if plan_id in line]
    assert os.path.exists(tmp_path / "data" / "plans.db")
