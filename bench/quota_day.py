"""A day at Villa Thaifa through a real MCP client, counting what HotelRunner receives. Prints figures.

    .venv/bin/python bench/quota_day.py

The sandbox runs with the real quota (5 requests a minute, 250 a day) and so does the server: the real
`python -m hotelrunner_mcp serve` over stdio, plus `python -m hotelrunner_mcp webhook` as its own
process on the same data folder, receiving the pushes the sandbox sends during the day. The day: a
morning briefing, twenty questions about bookings, the week's arrivals, next month's occupancy, a
summer price change (preview, then apply), whether the channels took it, pushes, an evening check.

Upstream requests come from the sandbox's request log. The naive count is what an agent calling the
API directly would spend: one request per question, per page (HotelRunner's default 10 bookings a
page, and a stay-date or name question means reading every page) and per room and date for prices.
The day is compressed into seconds; spread over ten hours, each question moment after the mirror is
15 minutes old would add one idle sync (1 request), which the figures add as an upper bound.
"""

from __future__ import annotations

import math
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from hotelrunner_mcp.commands.sandbox_link import server_env
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox

DAILY_QUOTA = 250
NAIVE_PAGE_SIZE = 10  # HotelRunner's default per_page
LOOKBACK_DAYS = 30
QUESTION_MOMENTS = 8  # briefing, bookings, arrivals, occupancy, prices, channels, pushes, evening
CALLBACK_PATH = "/hotelrunner/callback"


@dataclass
class Tally:
    """Per part of the day: questions asked, what the naive agent would spend, what we spent."""

    rows: list[tuple[str, int, int, int]] = field(default_factory=list)

    def add(self, part: str, questions: int, naive: int, spent: int) -> None:
        self.rows.append((part, questions, naive, spent))

    def print(self) -> None:
        print(f"{'part of the day':<44} {'questions':>9} {'naive':>6} {'ours':>5}")
        for part, questions, naive, spent in self.rows:
            print(f"{part:<44} {questions:>9} {naive:>6} {spent:>5}")
        total_q, total_naive, total_ours = (sum(r[i] for r in self.rows) for i in (1, 2, 3))
        print(f"{'total':<44} {total_q:>9} {total_naive:>6} {total_ours:>5}")


class Agent:
    """An MCP session with the real server; counts what each step cost upstream (sandbox log)."""

    def __init__(self, client: Client, sandbox: RunningSandbox) -> None:
        self.client = client
        self.sandbox = sandbox

    def upstream(self) -> int:
        return len(self.sandbox.control.requests())

    async def ask(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments)
        if result.is_error or result.structured_content is None:
            text = " ".join(getattr(c, "text", "") for c in result.content)
            raise RuntimeError(f"{tool} failed: {text}")
        return result.structured_content


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def webhook_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """`hotelrunner-mcp webhook` as its own process; yields the callback URL once it answers."""
    port = free_port()
    with log.open("ab") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "hotelrunner_mcp", "webhook", "--port", str(port)],
            env=env,
            cwd=env["HOTELRUNNER_DATA_DIR"],
            stdout=errors,
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the webhook process did not start; see {log}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}{CALLBACK_PATH}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def listable(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    oldest = datetime.now(UTC).date() - timedelta(days=LOOKBACK_DAYS)
    return [r for r in sandbox.control.reservations() if date.fromisoformat(str(r["completed_at"])[:10]) >= oldest]


def summer_changes(today: date) -> list[dict[str, Any]]:
    """Next summer season's prices (90 nights from 1 June) for the three busiest room types, a little more
    on Friday and Saturday."""
    year = today.year + 1 if today >= date(today.year, 6, 1) else today.year
    start, end = str(date(year, 6, 1)), str(date(year, 6, 1) + timedelta(days=89))
    prices = {"DLXTRP": (189, 209), "DBLSUP": (165, 179), "FAMSTE": (215, 235)}
    changes: list[dict[str, Any]] = []
    for room, (week, weekend) in prices.items():
        changes.append({"room": room, "start_date": start, "end_date": end, "price": str(week)})
        changes.append(
            {"room": room, "start_date": start, "end_date": end, "weekdays": ["fri", "sat"], "price": str(weekend)}
        )
    return changes


async def play_day(agent: Agent, sandbox: RunningSandbox, callback_url: str, tally: Tally) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    pages = math.ceil(len(listable(sandbox)) / NAIVE_PAGE_SIZE)  # what reading every booking costs naively
    facts: dict[str, Any] = {"listing pages (naive)": pages}

    # 07:30 morning briefing
    before = agent.upstream()
    awaiting = await agent.ask("get_reservations", state="reserved", limit=50)
    arriving = await agent.ask("get_reservations", arriving_from=today, arriving_to=today)
    leaving = await agent.ask("get_reservations", departing_from=today, departing_to=today)
    in_house = await agent.ask("get_reservations", in_house_on=today, limit=50)
    tally.add("morning briefing (4 questions)", 4, 4 * pages, agent.upstream() - before)
    facts["briefing"] = (
        f"{awaiting['matching']} awaiting an answer, {arriving['matching']} arriving, "
        f"{leaving['matching']} leaving, {in_house['matching']} in house"
    )

    # 09:00 twenty questions about bookings: fourteen by number, six by guest name
    before = agent.upstream()
    bookings = [r for r in listable(sandbox) if r["state"] != "canceled"][:20]
    for i, booking in enumerate(bookings[:14]):
        number = booking["provider_number"] if i % 2 else booking["hr_number"]
        await agent.ask("get_reservations", number=str(number), detail="full")
    for booking in bookings[14:]:
        await agent.ask("get_reservations", guest=str(booking["lastname"]))
    tally.add("twenty booking questions (14 numbers, 6 names)", 20, 14 + 6 * pages, agent.upstream() - before)

    # 10:00 the week's arrivals, next month's occupancy
    before = agent.upstream()
    week = await agent.ask("get_reservations", arriving_from=today, arriving_to=today + timedelta(days=6), limit=100)
    tally.add("the week's arrivals", 1, pages, agent.upstream() - before)
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    before = agent.upstream()
    month = await agent.ask("get_occupancy", start=first, end=last, include_nights=False)
    tally.add("next month's occupancy", 1, pages, agent.upstream() - before)
    facts["week"] = f"{week['matching']} arrivals in the next 7 days"
    facts["next month"] = (
        f"{month['totals']['occupancy_pct']} % occupied, ADR {month['totals']['adr']} {month['totals']['currency']}"
    )

    # 11:00 a season's price change: preview, then apply; 15:00 did the channels take it?
    before = agent.upstream()
    changes = summer_changes(today)
    preview = await agent.ask("update_calendar", changes=changes)
    applied = await agent.ask("update_calendar", changes=changes, plan_id=preview["plan_id"])
    tally.add("summer prices, 3 rooms (preview, apply)", 2, preview["naive_requests"], agent.upstream() - before)
    before = agent.upstream()
    checked = await agent.ask("check_channel_results")
    transactions = len(checked["transactions"])
    tally.add("did the channels take it?", 1, transactions, agent.upstream() - before)
    facts["prices"] = (
        f"{preview['dates_touched']} room-dates, {applied['upstream_requests']} update request(s), "
        f"channels: {sum(t['succeeded'] for t in checked['transactions'])} succeeded, "
        f"{sum(t['failed'] for t in checked['transactions'])} failed"
    )

    # during the day: HotelRunner pushes new, modified and canceled bookings; the agent asks three times
    before = agent.upstream()
    since = (await agent.ask("get_reservation_changes", since_change_id=0, limit=1))["latest_change_id"]
    pushed = 0
    seen = 0
    for round_ in range(3):
        made = sandbox.control.create_booking(
            inv_code="SUITE", checkin=today + timedelta(days=150 + 5 * round_), nights=2
        )
        sandbox.control.push(str(made["hr_number"]), callback_url, "confirm").wait(10)
        target = bookings[round_]
        if round_ == 1:
            sandbox.control.cancel_booking(str(target["hr_number"]))
            sandbox.control.push(str(target["hr_number"]), callback_url, "cancel").wait(10)
        else:
            sandbox.control.modify_booking(str(target["hr_number"]), note="Arriving by taxi from the airport.")
            sandbox.control.push(str(target["hr_number"]), callback_url, "modify").wait(10)
        pushed += 2
        news = await agent.ask("get_reservation_changes", since_change_id=since)
        since = news["latest_change_id"]
        seen += len(news["changes"])
    tally.add("pushes during the day (3 'anything new?')", 3, 3, agent.upstream() - before)
    facts["pushes"] = f"{pushed} pushed by HotelRunner, {seen} changes seen by the agent"

    # 19:00 evening: who arrives tomorrow?
    before = agent.upstream()
    tomorrow = today + timedelta(days=1)
    evening = await agent.ask("get_reservations", arriving_from=tomorrow, arriving_to=tomorrow)
    tally.add("evening: tomorrow's arrivals", 1, pages, agent.upstream() - before)
    facts["tomorrow"] = f"{evening['matching']} arriving tomorrow"
    return facts


async def run() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, run_sandbox(SandboxConfig(seed=7)) as sandbox:  # 5/min, 250/day
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        env = server_env(sandbox, data_dir)
        log = Path(tmp) / "servers.log"
        tally = Tally()
        with webhook_process(env, log) as callback_url, log.open("a") as errlog:
            params = StdioServerParameters(
                command=sys.executable, args=["-m", "hotelrunner_mcp", "serve"], env=env, cwd=str(data_dir)
            )
            async with Client(stdio_client(params, errlog=errlog)) as client:
                facts = await play_day(Agent(client, sandbox), sandbox, callback_url, tally)
        sent = sandbox.control.requests()
        too_many = sum(1 for r in sent if r.status == 429)

    ours = len(sent)
    naive = sum(r[2] for r in tally.rows)
    print("quota day at Villa Thaifa (sandbox, real quota 5/min and 250/day, stdio server + webhook process)")
    for name, value in facts.items():
        print(f"  {name}: {value}")
    tally.print()
    print(f"upstream requests: {ours} (naive {naive}); {naive / max(ours, 1):.0f}x fewer")
    if naive > DAILY_QUOTA:
        print(f"the naive day needs more than HotelRunner's {DAILY_QUOTA} requests a day: it would stop before evening")
    print(
        f"spread over a real day (+1 idle sync per question moment, at most {QUESTION_MOMENTS}): "
        f"{ours + QUESTION_MOMENTS} requests, {naive / (ours + QUESTION_MOMENTS):.0f}x fewer"
    )
    print(f"HTTP 429 received: {too_many}; requests by endpoint: {endpoint_counts(sent)}")
    print(f"took {time.monotonic() - started:.1f} s")


def endpoint_counts(sent: list[Any]) -> str:
    counts: dict[str, int] = {}
    for request in sent:
        key = f"{request.method} {request.path}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


if __name__ == "__main__":
    anyio.run(run)
