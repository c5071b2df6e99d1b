"""SOAK (about 30 s): 8 processes, each a real HotelRunnerClient through the Gate on one data folder,
against the sandbox enforcing 5 requests per 3 s window at arrival, reached through a proxy that holds
each request 0-150 ms. HotelRunner must never see more than the limit in a rolling window, and never
answer 429. The 10-minute version with figures is bench/quota_soak.py.

Skip it with HOTELRUNNER_SKIP_SOAK=1 (or `-k "not soak"`).
"""

from __future__ import annotations

import os

import pytest

from jitter_proxy import run_soak

pytestmark = pytest.mark.skipif(os.environ.get("HOTELRUNNER_SKIP_SOAK") == "1", reason="HOTELRUNNER_SKIP_SOAK=1")


def test_soak_eight_processes_through_arrival_jitter_never_exceed_the_quota_at_arrival() -> None:
    result = run_soak(processes=8, seconds=20.0, window_seconds=3.0, per_window=5, max_delay=0.15)
    assert result.worker_errors() == []
    assert result.rate_limited == 0, f"{result.rate_limited} of {result.sent} requests were answered 429"
    assert result.busiest_window <= result.per_window, (
        f"a {result.window_seconds} s window held {result.busiest_window}"
    )
    assert result.sent >= 15  # the processes really ran against the limit (about 35 fit in 20 s)
    assert max(result.proxy_delays) > 0.05  # and the arrival lag was real
