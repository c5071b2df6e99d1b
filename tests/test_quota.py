"""QuotaLimiter: rolling windows shared through SQLite by processes, restarts, refusals."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hotelrunner_mcp.errors import QuotaExhausted, QuotaWaitTooLong, RecordingUnavailable
from hotelrunner_mcp.quota import QuotaLimiter, quota_key


def limiter(db: Path, **overrides: object) -> QuotaLimiter:
    options: dict = {"key": "villa", "per_minute": 5, "per_day": 250, "minute_seconds": 60.0}
    options.update(overrides)
    return QuotaLimiter(db, **options)


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


_WORKER = textwrap.dedent(
    """
    import json, sys, anyio
    from pathlib import Path
    from hotelrunner_mcp.quota import QuotaLimiter

    async def main():
        q = QuotaLimiter(Path(sys.argv[1]), key="villa", per_minute=3, per_day=250,
                         minute_seconds=2.0, max_wait_seconds=60.0)
        times = [(await q.acquire("worker")).at for _ in range(8)]
        print(json.dumps(times))

    anyio.run(main)
    """
)


def test_two_processes_never_exceed_the_minute_limit_together(tmp_path: Path) -> None:
    db = tmp_path / "quota.db"
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    stamps: list[float] = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err.decode()
        stamps += json.loads(out)
    stamps.sort()
    assert len(stamps) == 16
    # Any 4 consecutive counted requests must span at least the 2-second window.
    crowded = [(a, b) for a, b in zip(stamps, stamps[3:]) if b - a < 2.0]
    assert crowded == []
    assert limiter(db, minute_seconds=2.0).status().used_today == 16


async def test_a_restarted_limiter_remembers_the_days_spend(tmp_path: Path) -> None:
    db = tmp_path / "quota.db"
    first = limiter(db, per_day=3)
    for _ in range(3):
        await first.acquire("read")
    first.close()

    restarted = limiter(db, per_day=3)
    status = restarted.status()
    assert (status.used_today, status.left_today) == (3, 0)
    with pytest.raises(QuotaExhausted) as refused:
        await restarted.acquire("read")
    assert refused.value.used == 3 and refused.value.limit == 3
    assert refused.value.next_free_at and refused.value.next_free_at.endswith("Z")
    assert "3 of 3" in str(refused.value) and "Nothing was sent" in str(refused.value)
    assert restarted.status().used_today == 3  # the refusal counted nothing


async def test_day_exhaustion_refuses_at_once_without_waiting(tmp_path: Path) -> None:
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    quota = limiter(tmp_path / "q.db", per_minute=1, per_day=1)
    await quota.acquire("read")
    with pytest.raises(QuotaExhausted):
        await quota.acquire("read", on_wait)
    assert waits == []


async def test_the_day_window_rolls(tmp_path: Path) -> None:
    clock = FakeClock()
    quota = limiter(tmp_path / "q.db", per_minute=10, per_day=2, day_seconds=100.0, clock=clock)
    await quota.acquire("a")
    clock.now += 50
    await quota.acquire("b")
    with pytest.raises(QuotaExhausted) as refused:
        await quota.acquire("c")
    assert refused.value.next_free_at == quota.status().next_free_at
    clock.now += 51  # the first request has left the 24 h window, the second has not
    ticket = await quota.acquire("c")
    assert (ticket.used_today, ticket.left_today) == (2, 0)


async def test_a_full_minute_waits_for_its_slot_and_tells_the_caller(tmp_path: Path) -> None:
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    quota = limiter(tmp_path / "q.db", per_minute=2, minute_seconds=0.3)
    first = await quota.acquire("a")
    await quota.acquire("b")
    third = await quota.acquire("c", on_wait)
    assert len(waits) == 1 and 0 < waits[0] <= 0.3
    assert third.at - first.at >= 0.3
    assert third.used_today == 3


async def test_a_wait_longer_than_allowed_is_refused_and_counts_nothing(tmp_path: Path) -> None:
    quota = limiter(tmp_path / "q.db", per_minute=1, minute_seconds=60.0, max_wait_seconds=1.0)
    await quota.acquire("a")
    with pytest.raises(QuotaWaitTooLong, match="Nothing was sent"):
        await quota.acquire("b")
    assert quota.status().used_today == 1


async def test_an_upstream_429_blocks_every_limiter_on_the_file(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    quota = limiter(db, max_wait_seconds=1.0)
    quota.note_rate_limited(120)
    other_process = limiter(db, max_wait_seconds=1.0)
    assert other_process.status().blocked_until is not None
    with pytest.raises(QuotaWaitTooLong):
        await other_process.acquire("read")
    assert other_process.status().used_today == 0


async def test_properties_have_separate_budgets(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    one = limiter(db, key=quota_key("111", "https://x"), per_day=1)
    two = limiter(db, key=quota_key("222", "https://x"), per_day=1)
    await one.acquire("a")
    await two.acquire("a")
    assert one.status().used_today == two.status().used_today == 1


def test_the_key_does_not_contain_the_hr_id() -> None:
    key = quota_key("987654", "https://app.hotelrunner.com/api/v2/apps")
    assert "987654" not in key and key == quota_key("987654", "https://app.hotelrunner.com/api/v2/apps")


async def test_an_unusable_ledger_refuses_the_request(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data folder should be")
    quota = limiter(blocker / "quota.db")
    with pytest.raises(RecordingUnavailable, match="refused rather than sent uncounted"):
        await quota.acquire("read")
