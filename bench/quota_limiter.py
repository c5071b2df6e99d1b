"""How long QuotaLimiter.acquire takes, and how two processes share one ledger. Prints figures; asserts nothing.

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

from hotelrunner_mcp.quota import QuotaLimiter

WORKER = textwrap.dedent(
    """
    import json, sys, anyio
    from pathlib import Path
    from hotelrunner_mcp.quota import QuotaLimiter

    async def main():
        q = QuotaLimiter(Path(sys.argv[1]), key="bench", per_minute=3, per_day=1000, minute_seconds=1.0)
        print(json.dumps([(await q.acquire("bench")).at for _ in range(6)]))

    anyio.run(main)
    """
)


async def acquire_latency(db: Path, count: int = 200) -> list[float]:
    limiter = QuotaLimiter(db, key="bench", per_minute=10**6, per_day=10**6)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        await limiter.acquire("bench")
        timings.append((time.perf_counter() - started) * 1000)
    limiter.close()
    return timings


def two_processes(db: Path) -> list[float]:
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(db)], stdout=subprocess.PIPE) for _ in range(2)]
    stamps: list[float] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        stamps += json.loads(out)
    return sorted(stamps)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        timings = anyio.run(acquire_latency, Path(tmp) / "latency.db")
        print(f"quota acquire (uncontended, {len(timings)} calls): median {statistics.median(timings):.2f} ms, "
              f"p95 {sorted(timings)[int(len(timings) * 0.95)]:.2f} ms, max {max(timings):.2f} ms")
        stamps = two_processes(Path(tmp) / "shared.db")
        busiest = max(sum(1 for t in stamps if start <= t < start + 1.0) for start in stamps)
        print(f"two processes x 6 acquires, limit 3 per 1 s window: busiest window held {busiest}, "
              f"all 12 done in {stamps[-1] - stamps[0]:.2f} s (ideal about 3.0 s)")


if __name__ == "__main__":
    main()
