"""A property of any size through the real server over stdio: a first sync of N bookings, then the
common questions. Prints figures; asserts nothing about time.

    .venv/bin/python bench/scale.py              # 2,000 and 20,000 bookings
    .venv/bin/python bench/scale.py 2000 100000  # any sizes
    .venv/bin/python bench/scale.py --runs 5 100000

The sandbox is seeded with N bookings made over the last 30 days (`SandboxConfig(bookings=N)`:
availability not checked). Both the sandbox and the server keep HotelRunner's quota (5 a minute, 250 a
day) but with shortened windows (a "minute" of 0.05 s, a "day" of 2 s), so a backfill that needs
several days of quota runs in seconds while still being paced by it. The backfill is asked for the way
an agent would: get_reservations at the default max_sync_requests (10), repeated until the first sync
completes. Figures per size: questions and upstream requests of the backfill against ceil(listed/50),
pages read twice, wall time, mirror.db size, the server's peak RSS, and the latency of the common
questions (median of 3), both server side (the tool call's `duration_ms` in the server's audit log:
from the call's start to its answer, before the answer is serialized) and client side (the round trip
over stdio), plus tools/list sent while a year of occupancy runs and tools/list alone (medians too).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from hotelrunner_mcp.commands.sandbox_link import server_env
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox

SIZES = (2_000, 20_000)
PAGE_SIZE = 50
MINUTE_SECONDS, DAY_SECONDS = 0.05, 2.0
LOOKBACK = timedelta(days=30)


def listable(sandbox: RunningSandbox) -> int:
    oldest = datetime.now(UTC).date() - LOOKBACK
    return sum(1 for r in sandbox.control.reservations() if date.fromisoformat(str(r["completed_at"])[:10]) >= oldest)


def server_pids() -> list[int]:
    """Our child processes running the server (stdio_client starts it)."""
    import os

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"hotelrunner_mcp" in cmdline:
            found.append(int(entry.name))
    return found


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def ask(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"{tool} failed: {' '.join(getattr(c, 'text', '') for c in result.content)}")
    return result.structured_content


def last_duration_ms(audit: Path, tool: str) -> float:
    """The server's own time for its latest call of `tool`: the audit log's end line for it."""
    for line in reversed(audit.read_text().splitlines()):
        entry = json.loads(line)
        if entry.get("event") == "tool_call" and entry.get("phase") == "end" and entry.get("tool") == tool:
            return float(entry["duration_ms"])
    raise RuntimeError(f"no audit line for {tool}")


async def timed(call: Callable[[], Awaitable[Any]], audit: Path, tool: str, runs: int) -> tuple[float, float]:
    """Median server-side and client-side milliseconds of `runs` calls."""
    server, client = [], []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        client.append((time.perf_counter() - started) * 1000)
        server.append(last_duration_ms(audit, tool))
    return statistics.median(server), statistics.median(client)


async def measure(n: int, runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    config = SandboxConfig(
        seed=3, bookings=n, per_minute=5, per_day=250, minute_seconds=MINUTE_SECONDS, day_seconds=DAY_SECONDS
    )
    with run_sandbox(config) as sandbox, tempfile.TemporaryDirectory() as tmp:
        seeded = time.perf_counter() - started
        listed = listable(sandbox)
        data = Path(tmp) / "data"
        env = server_env(
            sandbox,
            data,
            HOTELRUNNER_QUOTA_MINUTE_SECONDS=str(MINUTE_SECONDS),
            HOTELRUNNER_QUOTA_DAY_SECONDS=str(DAY_SECONDS),
        )
        params = StdioServerParameters(command=sys.executable, args=["-m", "hotelrunner_mcp", "serve"], env=env)
        with (data.parent / "server.log").open("w") as errlog:
            result = await run_questions(params, errlog, sandbox, data / "audit.jsonl", runs)
        size_mib = sum(f.stat().st_size for f in data.glob("mirror.db*")) / 2**20
    return {"bookings": n, "listed": listed, "seed_s": seeded, "mirror_mib": size_mib, **result}


async def run_questions(
    params: StdioServerParameters, errlog: Any, sandbox: RunningSandbox, audit: Path, runs: int
) -> dict[str, Any]:
    # an initialize-handshake session: ping, the quickest request, is gone from the 2026-07-28 protocol
    async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
        pid = server_pids()[0]
        questions = 0
        began = time.perf_counter()
        while True:
            answer = await ask(client, "get_reservations", limit=1)
            questions += 1
            if answer["sync"] is None or answer["sync"]["complete"]:
                break
        backfill_s = time.perf_counter() - began
        pages = [r.params.get("page") for r in sandbox.control.requests() if r.path == "/reservations"]
        twice = sum(c - 1 for c in Counter(pages).values() if c > 1)
        mirrored = answer["matching"]
        today = datetime.now(UTC).date()
        week = today + timedelta(days=6)
        questions_asked: dict[str, tuple[str, dict[str, Any]]] = {
            "arrivals, a week": ("get_reservations", {"arriving_from": today, "arriving_to": week, "limit": 20}),
            "guest search": ("get_reservations", {"guest": "mar", "limit": 20}),
            "occupancy, 30 nights": ("get_occupancy", {"start": today, "end": today + timedelta(days=29)}),
            "occupancy, 365 nights": ("get_occupancy", {"start": today, "end": today + timedelta(days=364)}),
        }
        latency = {}
        for name, (tool, arguments) in questions_asked.items():
            latency[name] = await timed(lambda t=tool, a=arguments: ask(client, t, **a), audit, tool, runs)
        year: dict[str, float] = {}
        alone = []
        for _ in range(runs):
            t = time.perf_counter()
            await client.list_tools()
            alone.append((time.perf_counter() - t) * 1000)
        year["tools/list alone"] = statistics.median(alone)

        async def year_of_occupancy() -> None:
            t = time.perf_counter()
            await ask(client, "get_occupancy", start=today, end=today + timedelta(days=364))
            calls.append((time.perf_counter() - t) * 1000)

        calls: list[float] = []
        lists: list[float] = []
        pings: list[float] = []
        for _ in range(runs):
            for quick, spent in ((client.list_tools, lists), (client.send_ping, pings)):
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(year_of_occupancy)
                    await anyio.sleep(0.005)
                    t = time.perf_counter()
                    await quick()
                    spent.append((time.perf_counter() - t) * 1000)
        year["tools/list"], year["ping"] = statistics.median(lists), statistics.median(pings)
        year["call"] = statistics.median(calls)
        rss = peak_rss_mib(pid)
    return {
        "mirrored": mirrored,
        "questions": questions,
        "requests": len(pages),
        "pages_read_twice": twice,
        "backfill_s": backfill_s,
        "rss_mib": rss,
        "latency": latency,
        "during_year": year,
    }


def main() -> None:
    warnings.filterwarnings("ignore", message="ping is removed")  # the session is legacy on purpose (above)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="bookings to seed, one run each")
    parser.add_argument("--runs", type=int, default=3, help="calls per question (the median is printed)")
    args = parser.parse_args()
    results = [anyio.run(measure, n, args.runs) for n in args.sizes]
    print(
        f"{'bookings':>9} {'mirrored':>9} {'questions':>9} {'requests':>8} {'ceil/50':>7} {'twice':>5} "
        f"{'backfill s':>10} {'mirror MiB':>10} {'peak RSS MiB':>12}"
    )
    for r in results:
        print(
            f"{r['bookings']:>9,} {r['mirrored']:>9,} {r['questions']:>9} {r['requests']:>8} {math.ceil(r['listed'] / PAGE_SIZE):>7} "
            f"{r['pages_read_twice']:>5} {r['backfill_s']:>10.1f} {r['mirror_mib']:>10.1f} {r['rss_mib']:>12.0f}"
        )
    print()
    names = list(results[0]["latency"])
    print(
        f"{'latency, ms: server / client (median of ' + str(args.runs) + ')':<44}"
        + "".join(f"{r['bookings']:>14,}" for r in results)
    )
    for name in names:
        print(
            f"{name:<44}" + "".join(f"{r['latency'][name][0]:>8.1f} / {r['latency'][name][1]:<4.0f}" for r in results)
        )
    for label, key in (
        ("tools/list alone", "tools/list alone"),
        ("tools/list during a year of occupancy", "tools/list"),
        ("ping during a year of occupancy", "ping"),
        ("  (that occupancy call, client side)", "call"),
    ):
        print(f"{label:<44}" + "".join(f"{r['during_year'][key]:>14.0f}" for r in results))


if __name__ == "__main__":
    main()
