"""The audit log as a person reviewing it would read it after a session: one line per tool call and per
upstream request, with the MCP client's name, the arguments, and for a write its intent before its outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.gate.audit import read_audit
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect

DAY = str(property_today() + timedelta(days=8))
CHANGE = [{"room": "SUITE", "start_date": DAY, "end_date": DAY, "price": "199"}]


def lines_of(entries: list[dict[str, Any]], call_id: str) -> list[dict[str, Any]]:
    return [e for e in entries if e.get("call_id") == call_id]


async def test_a_preview_and_apply_leave_a_readable_trail(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        preview = await mcp.ok("update_calendar", changes=CHANGE)
        applied = await mcp.ok("update_calendar", changes=CHANGE, plan_id=preview["plan_id"])

    entries = read_audit(settings.audit_file)
    starts = [e for e in entries if e["event"] == "tool_call" and e["phase"] == "start"]
    assert [e["tool"] for e in starts] == ["update_calendar", "update_calendar"]
    assert all(e["client"] == "pytest-client" for e in starts)
    assert starts[0]["arguments"]["changes"][0] == {"room": "SUITE", "start_date": DAY, "end_date": DAY, "price": "199"}
    assert starts[1]["arguments"]["plan_id"] == preview["plan_id"]

    preview_lines = lines_of(entries, starts[0]["call_id"])
    assert [(e["event"], e.get("method"), e.get("path")) for e in preview_lines[1:-1]] == [
        ("upstream", "GET", "/rooms")
    ]
    assert preview_lines[-1]["phase"] == "end" and preview_lines[-1]["upstream_requests"] == 1

    apply_lines = lines_of(entries, starts[1]["call_id"])
    events = [e["event"] for e in apply_lines]
    assert events == ["tool_call", "upstream_intent", "upstream", "tool_call"]
    intent, outcome, end = apply_lines[1], apply_lines[2], apply_lines[3]
    assert intent["method"] == outcome["method"] == "PUT" and intent["path"] == outcome["path"]
    assert intent["time"] <= outcome["time"]
    assert outcome["status"] == 200 and outcome["duration_ms"] >= 0
    assert outcome["transaction_id"] == applied["results"][0]["transaction_id"]
    assert outcome["quota_left"] == applied["quota_left_today"]
    assert end["status"] == "ok" and end["upstream_requests"] == 1


async def test_a_refused_call_is_recorded_with_its_error(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        await mcp.error("update_calendar", changes=[{**CHANGE[0], "price": "-5"}])

    end = [e for e in read_audit(settings.audit_file) if e.get("phase") == "end"][-1]
    assert end["tool"] == "update_calendar" and end["status"] == "error" and end["error_code"] == "invalid_request"
    assert end["upstream_requests"] == 1  # the room list fetched to check the change against
