"""`hotelrunner-mcp demo`: the sandbox, the real server as a subprocess over stdio, a real MCP client.

A short story at Villa Thaifa: rooms, this week's arrivals, next month's occupancy, a season of prices
previewed and applied in one call, what the ledger remembers, then the quota and the audit log.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.commands.sandbox_link import server_env
from hotelrunner_mcp.gate.audit import read_audit
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox

SEASON_ROOMS = ("DLXDBL", "DBLSUP", "SUITE")
SEASON_PRICES = {"DLXDBL": 165, "DBLSUP": 155, "SUITE": 185}  # first month; +5 € each following month


def _say(text: str = "") -> None:
    print(text, flush=True)


def _title(text: str) -> None:
    _say(f"\n== {text} " + "=" * max(0, 66 - len(text)))


class DemoSession:
    """A connected MCP client with a helper that fails loudly on a tool error."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            text = " ".join(getattr(c, "text", "") for c in result.content)
            raise RuntimeError(f"{tool} failed: {text}")
        assert result.structured_content is not None
        content: dict[str, Any] = result.structured_content
        return content


def season_changes(today: date) -> list[dict[str, Any]]:
    """Three rooms, 120 days from next month, a new price each month."""
    start = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    end = start + timedelta(days=119)
    changes = []
    month_start, step = start, 0
    while month_start <= end:
        month_end = min((month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1), end)
        for room in SEASON_ROOMS:
            changes.append(
                {
                    "room": room,
                    "start_date": month_start.isoformat(),
                    "end_date": month_end.isoformat(),
                    "price": SEASON_PRICES[room] + 5 * step,
                }
            )
        month_start, step = month_end + timedelta(days=1), step + 1
    return changes


async def story(mcp: DemoSession, sandbox: RunningSandbox, audit_path: Path) -> None:
    today = property_today()
    tools = await mcp.client.list_tools()
    _say(f"Connected. The server offers {len(tools.tools)} tools: {', '.join(t.name for t in tools.tools)}")

    _title("1. Rooms and rates (get_rooms)")
    rooms = await mcp.call("get_rooms")
    for room_type in rooms["room_types"]:
        rates = ", ".join(f"{r['rate_code']}{' (derived)' if not r['can_update'] else ''}" for r in room_type["rates"])
        _say(f"  {room_type['inv_code']:<7} {room_type['name']:<22} {rates}")
    _say(f"  cost: {rooms['quota_spent']} request · {rooms['environment']}")

    _title("2. This week's arrivals (get_reservations)")
    week = await mcp.call(
        "get_reservations",
        arriving_from=today.isoformat(),
        arriving_to=(today + timedelta(days=6)).isoformat(),
        limit=10,
    )
    for r in week["reservations"]:
        flag = "  ← awaits confirmation" if r["awaiting_response"] else ""
        _say(
            f"  {r['checkin']}  {r['hr_number']}  {r['guest']:<24} {r['nights']} n  {', '.join(r['rooms'])}  "
            f"{r['total']} {r['currency']} via {r['channel']}{flag}"
        )
    sync = week["sync"]
    _say(
        f"  {week['matching']} arrivals. The first question synced the mirror: {sync['requests']} requests for "
        f"{sync['new']} reservations; the next questions cost nothing."
    )

    _title("3. Next 30 nights (get_occupancy)")
    occupancy = await mcp.call(
        "get_occupancy", start=today.isoformat(), end=(today + timedelta(days=29)).isoformat(), include_nights=False
    )
    totals = occupancy["totals"]
    _say(
        f"  {totals['room_nights_sold']} of {totals['room_nights_available']} room-nights sold "
        f"({totals['occupancy_pct']} %), revenue {totals['revenue']} {totals['currency']}, ADR {totals['adr']}"
    )
    _say(f"  cost: {occupancy['quota_spent']} requests ({occupancy['freshness']})")

    _title("4. A season of prices in one call (update_calendar: preview)")
    changes = season_changes(today)
    preview = await mcp.call("update_calendar", changes=changes)
    for line in preview["changes"][:4]:
        _say(f"  - {line['description']}")
    _say(
        f"  … {len(changes)} changes, {preview['dates_touched']} room-dates: {preview['upstream_requests']} requests "
        f"instead of {preview['naive_requests']} (one per room and date). Nothing sent yet."
    )
    _say(f"  plan id {preview['plan_id']} (valid until {preview['plan_expires_at']})")

    _title("5. Apply the previewed plan")
    applied = await mcp.call("update_calendar", changes=changes, plan_id=preview["plan_id"])
    for result in applied["results"]:
        _say(f"  {result['status']:<8} transaction {result['transaction_id']}: {result['request']}")
    again = await mcp.client.call_tool("update_calendar", {"changes": changes, "plan_id": preview["plan_id"]})
    _say(
        f"  applying the same plan id again is refused: {' '.join(getattr(c, 'text', '') for c in again.content)[:110]}…"
    )

    _title("6. What we set, from the ledger (get_calendar)")
    first = changes[0]["start_date"]
    ledger = await mcp.call("get_calendar", start_date=first, end_date=first, fields=["price"])
    for value in ledger["values"]:
        _say(
            f"  {value['start_date']} {value['room']:<7} {value['rate_code']:<11} price {value['value']} "
            f"(transaction {value['transaction_id']})"
        )
    _say(f"  cost: {ledger['quota_spent']} requests. check_channel_results would now ask HotelRunner whether each")
    _say("  channel took the prices (1 request per transaction); HotelRunner allows 5 a minute, the demo has used 5.")

    _title("7. Quota and audit")
    status = json.loads((await mcp.client.read_resource("hotelrunner://setup-status")).contents[0].text)  # type: ignore[union-attr]
    quota = status["quota"]
    _say(f"  quota: {quota['used_last_24h']} of {quota['per_day']} used in 24 h, {quota['left_last_24h']} left")
    upstream = sandbox.control.requests()
    _say(
        f"  the sandbox received {len(upstream)} requests: "
        + ", ".join(f"{m} {p}" for m, p in sorted({(r.method, r.path) for r in upstream}))
    )
    lines = read_audit(audit_path)
    calls = sum(1 for line in lines if line.get("event") == "tool_call" and line.get("phase") == "end")
    _say(
        f"  audit log {audit_path}: {len(lines)} lines ({calls} tool calls), token present: "
        f"{sandbox.token in audit_path.read_text()}"
    )


async def _run(sandbox: RunningSandbox, data_dir: Path, errlog: Any) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    params = StdioServerParameters(  # cwd: the demo's own folder, so no .env/.env.local of yours is read
        command=sys.executable,
        args=["-m", "hotelrunner_mcp", "serve"],
        env=server_env(sandbox, data_dir),
        cwd=str(data_dir),
    )
    async with Client(stdio_client(params, errlog=errlog)) as client:
        await story(DemoSession(client), sandbox, data_dir / "audit.jsonl")


def run_demo() -> int:
    """Run the story; 0 when every step worked."""
    with tempfile.TemporaryDirectory(prefix="hotelrunner-demo-") as tmp, run_sandbox(SandboxConfig(seed=7)) as sandbox:
        data_dir = Path(tmp) / "data"
        server_log = Path(tmp) / "server-stderr.log"
        _say("hotelrunner-mcp demo: the real MCP server over stdio, driven by an MCP client, against the")
        _say(f"embedded HotelRunner sandbox at {sandbox.root_url} (test data, not HotelRunner).")
        with server_log.open("w") as errlog:
            try:
                anyio.run(_run, sandbox, data_dir, errlog)
            except Exception as exc:  # show the server's own log, then fail
                print(f"\ndemo failed: {exc}\n--- server stderr ---\n{server_log.read_text()[-3000:]}", file=sys.stderr)
                return 1
        _say("\nDone. Add the server to Claude Desktop or Claude Code as the README shows.")
    return 0
