"""Quota soak: N processes (real HotelRunnerClient through the Gate, one data folder) against the sandbox
enforcing the quota at arrival, through a proxy adding 0-150 ms of arrival lag. Prints figures; asserts
nothing. The issue's bar: 10 minutes, 8 processes, 0 x 429, never more than the limit in a rolling window.

    .venv/bin/python bench/quota_soak.py                 # 10 minutes, 8 processes, 5 per 3 s window
    .venv/bin/python bench/quota_soak.py --seconds 120   # shorter
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jitter_proxy import SoakResult, max_in_window, run_soak


def report(result: SoakResult, wall: float) -> None:
    window, limit = result.window_seconds, result.per_window
    lags = sorted(result.proxy_delays) or [0.0]
    waited = [float(w.get("waited", 0.0)) for w in result.workers]  # type: ignore[arg-type]
    ok = [int(w.get("ok", 0)) for w in result.workers]  # type: ignore[call-overload]
    span = result.arrivals[-1] - result.arrivals[0] if len(result.arrivals) > 1 else 0.0
    print(
        f"quota soak: {result.processes} processes x {result.seconds:g} s, limit {limit} per {window:g} s window "
        f"(the sandbox counts at arrival), arrival lag 0-{lags[-1] * 1000:.0f} ms added by the proxy "
        f"(median {statistics.median(lags) * 1000:.0f} ms); wall time {wall:.0f} s"
    )
    print(
        f"  requests sent (arrived at the sandbox): {result.sent}; answered 429: {result.rate_limited}; "
        f"worker errors: {len(result.worker_errors())} {sorted(set(map(str, result.worker_errors())))}"
    )
    print(
        f"  most in any rolling {window:g} s window at arrival: {result.busiest_window} (limit {limit}); "
        f"in a window 5 % longer: {result.busiest_longer_window}; "
        f"in a window twice as long: {max_in_window(result.arrivals, 2 * window)} (limit would be {2 * limit})"
    )
    print(
        f"  throughput: {result.throughput_per_window:.2f} requests per {window:g} s window "
        f"({result.throughput_per_window / limit:.0%} of the limit) over {span:.0f} s; "
        f"per process {min(ok)}-{max(ok)} requests, mean time per call incl. quota wait "
        f"{sum(waited) / max(1, sum(ok)):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long the processes send (default 600)")
    parser.add_argument("--processes", type=int, default=8, help="server processes on one data folder (default 8)")
    parser.add_argument("--window", type=float, default=3.0, help="the shortened 'minute' in seconds (default 3)")
    parser.add_argument("--limit", type=int, default=5, help="requests per window (default 5)")
    parser.add_argument("--max-delay", type=float, default=0.15, help="max arrival lag the proxy adds (default 0.15)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the proxy's delays")
    args = parser.parse_args()
    started = time.monotonic()
    result = run_soak(
        processes=args.processes,
        seconds=args.seconds,
        window_seconds=args.window,
        per_window=args.limit,
        max_delay=args.max_delay,
        seed=args.seed,
    )
    report(result, time.monotonic() - started)


if __name__ == "__main__":
    main()
