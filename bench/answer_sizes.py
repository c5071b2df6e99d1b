"""How much of an agent's context each answer takes: the bytes of tools/list and of the common answers
with default arguments, through a real MCP client session against the sandbox. Prints figures; asserts
nothing (tests/server/test_answer_budgets.py asserts the budgets).

    .venv/bin/python bench/answer_sizes.py          # 400 bookings: a busy month for a 12-room riad
    .venv/bin/python bench/answer_sizes.py 2000

"Wire" is the whole tool result as JSON (text content and structured content together); "raw" is
HotelRunner's own JSON for the same bookings (compact, as the sandbox serves it), the yardstick the issue
measures the default view of a week's arrivals against. Tokens are estimated at 4 bytes each.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.types import CallToolResult

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.commands.sandbox_link import settings_for
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox
from hotelrunner_mcp.surface.server import build_server

ROOMS = ("DLXTRP", "DLXDBL", "DBLSUP", "EXESTE", "DLXKNG", "FAMSTE", "SUITE", "PRESTE")
MINUTE_SECONDS, DAY_SECONDS = 0.05, 2.0


def compact(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def sizes(result: CallToolResult) -> tuple[int, int, int]:
    """(text bytes, structured bytes, wire bytes) of one tool result."""
    text = sum(len(getattr(c, "text", "").encode()) for c in result.content)
    structured = compact(result.structured_content) if result.structured_content is not None else 0
    return text, structured, compact(result.model_dump(mode="json", by_alias=True, exclude_none=True))


def line(label: str, result: CallToolResult, extra: str = "") -> None:
    text, structured, wire = sizes(result)
    error = " ERROR" if result.is_error else ""
    print(
        f"{label:<44} text {text:>9,} B (~{text // 4:>7,} tokens)  structured {structured:>9,} B  wire {wire:>9,} B"
        f"{error}{extra}"
    )


async def main(bookings: int) -> None:
    config = SandboxConfig(
        seed=3, bookings=bookings, per_minute=5, per_day=250, minute_seconds=MINUTE_SECONDS, day_seconds=DAY_SECONDS
    )
    with run_sandbox(config) as sandbox, tempfile.TemporaryDirectory() as tmp:
        aimed = settings_for(sandbox, Settings(data_dir=Path(tmp) / "data", timeout_seconds=10))
        settings = replace(aimed, minute_seconds=MINUTE_SECONDS, day_seconds=DAY_SECONDS)
        start = property_today() + timedelta(days=2)
        async with Client(build_server(settings)) as client:
            listed = await client.list_tools()
            tools = compact(listed.model_dump(mode="json", by_alias=True, exclude_none=True))
            print(f"{'tools/list':<44} {tools:,} B (~{tools // 4:,} tokens) for {len(listed.tools)} tools")
            while True:  # the first sync, at the default pace of an agent's questions
                first = await client.call_tool("get_reservations", {"limit": 1})
                if (first.structured_content or {}).get("sync", {}) in (None, {}) or first.structured_content[
                    "sync"
                ].get("complete", True):
                    break
            week = {"arriving_from": start.isoformat(), "arriving_to": (start + timedelta(days=6)).isoformat()}
            arrivals = await client.call_tool("get_reservations", week)
            shown = {r["hr_number"] for r in (arrivals.structured_content or {}).get("reservations", [])}
            raw = sum(compact(r) for r in sandbox.control.reservations() if r.get("hr_number") in shown)
            _, structured, wire = sizes(arrivals)
            line(f"get_reservations: a week's arrivals ({len(shown)})", arrivals)
            if raw:
                print(
                    f"{'':<44} raw HotelRunner JSON {raw:,} B: structured {structured / raw:.0%}, wire {wire / raw:.0%}"
                )
            month = {"stay_from": start.isoformat(), "stay_to": (start + timedelta(days=29)).isoformat()}
            busy = await client.call_tool("get_reservations", month)
            line(
                "get_reservations: stays of a month",
                busy,
                f"  ({(busy.structured_content or {}).get('matching')} match)",
            )
            full = await client.call_tool("get_reservations", {**month, "detail": "full", "limit": 200})
            line("get_reservations: a month, full, limit=200", full)
            year = {"start": start.isoformat(), "end": (start + timedelta(days=364)).isoformat()}
            line("get_occupancy: 365 nights", await client.call_tool("get_occupancy", year))
            short = {"start": start.isoformat(), "end": (start + timedelta(days=29)).isoformat()}
            line("get_occupancy: 30 nights", await client.call_tool("get_occupancy", short))
            singles = [
                {"room": room, "start_date": day, "end_date": day, "price": str(150 + d % 40)}
                for room in ROOMS
                for d in range(365)
                for day in [(start + timedelta(days=d)).isoformat()]
            ]
            line(
                "update_calendar preview: 8 rooms x 365 nights",
                await client.call_tool("update_calendar", {"changes": singles}),
            )
            season = [
                {
                    "room": room,
                    "start_date": start.isoformat(),
                    "end_date": (start + timedelta(days=119)).isoformat(),
                    "price": "180",
                    "min_stay": 2,
                }
                for room in ROOMS[:3]
            ]
            line(
                "update_calendar preview: 3 rooms x 120 days",
                await client.call_tool("update_calendar", {"changes": season}),
            )
            calendar = {"start_date": start.isoformat(), "end_date": (start + timedelta(days=364)).isoformat()}
            line("get_calendar: a year (empty ledger)", await client.call_tool("get_calendar", calendar))


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 400)
