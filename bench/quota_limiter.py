"""How long QuotaLimiter.acquire and finish take, and how two processes share one ledger. Prints figures;
asserts nothing.

    .venv/bin/python bench/quota_limiter.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import anyio

from hotelrunner_mcp.gate.quota import QuotaLimiter

WORKER = textwrap.dedent(
    """
    import json, sys, anyio
    from hotelrunner_mcp.gate.quota import QuotaLimiter
    from pathlib import Path

    async def main():
        q = QuotaLimiter(Path(sys.argv[1]), key="bench", per_minute=3, per_day=1000, minute_seconds=1.0)
        stamps = []
        for _ in range(6):
            ticket = await q.acquire("bench")
            await q.finish(ticket)  # what the Gate does when the answer is back
            stamps.append(ticket.at)
        print(json.dumps(stamps))

    anyio.run(main)
    """
)


async def latency(db: Path, count: int = 200) -> tuple[list[float], list[float]]:
    limiter = QuotaLimiter(db, key="bench", per_minute=10**6, per_day=10**6)
    acquire, finish = [], []
    for _ in range(count):
        started = time.perf_counter()
        ticket = await limiter.acquire("bench")
        counted = time.perf_counter()
        await limiter.finish(ticket)
        acquire.append((counted - started) * 1000)
        finish.append((time.perf_counter() - counted) * 1000)
    limiter.close()
    return acquire, finish


def two_processes(db: Path) -> list[float]:
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(db)], stdout=subprocess.PIPE) for _ in range(2)]
    stamps: list[float] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        stamps += json.loads(out)
    return sorted(stamps)


def _figures(timings: list[float]) -> str:
    ordered = sorted(timings)
    return (
        f"median {statistics.median(ordered):.2f} ms, p95 {ordered[int(len(ordered) * 0.95)]:.2f} ms, "
        f"max {ordered[-1]:.2f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        acquire, finish = anyio.run(latency, Path(tmp) / "latency.db")
        print(f"quota acquire (uncontended, {len(acquire)} calls): {_figures(acquire)}")
        print(f"quota finish (recording the answer time): {_figures(finish)}")
        stamps = two_processes(Path(tmp) / "shared.db")
        busiest = max(sum(1 for t in stamps if start <= t < start + 1.0) for start in stamps)
        print(
            f"two processes x 6 acquires, limit 3 per 1 s window: busiest window held {busiest}, "
            f"all 12 done in {stamps[-1] - stamps[0]:.2f} s (ideal about 3.0 s plus answer times and margins)"
        )


if __name__ == "__main__":
    main()
