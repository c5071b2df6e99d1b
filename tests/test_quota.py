"""QuotaLimiter: rolling windows shared through SQLite by processes, restarts, refusals, and counting a
request as possibly arriving upstream any time until its answer came back."""

from __future__ import annotations

import heapq
import json
import math
import random
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from hotelrunner_mcp.errors import QuotaExhausted, QuotaWaitTooLong, RecordingUnavailable
from hotelrunner_mcp.gate.quota import MAX_RETRY_AFTER_SECONDS, QuotaLimiter, QuotaTicket, quota_key
from jitter_proxy import max_in_window

T0 = 1_800_000_000.0


class FakeClock:
    """Injected time: `sleep` advances it (and records each pause) instead of waiting."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.during_sleep: Callable[[], Awaitable[None]] | None = None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.during_sleep is not None:
            hook, self.during_sleep = self.during_sleep, None
            await hook()


def limiter(db: Path, clock: FakeClock | None = None, **overrides: object) -> QuotaLimiter:
    options: dict = {"key": "villa", "per_minute": 5, "per_day": 250, "minute_seconds": 60.0}
    if clock is not None:
        options.update(clock=clock, sleep=clock.sleep, rng=random.Random(1))
    options.update(overrides)
    return QuotaLimiter(db, **options)


async def answered(quota: QuotaLimiter, clock: FakeClock, after: float = 0.0, label: str = "read") -> QuotaTicket:
    """One request through `quota` whose answer comes `after` seconds later."""
    ticket = await quota.acquire(label)
    clock.now += after
    await quota.finish(ticket)
    return ticket


# ---------------------------------------------------------------------- processes, restarts, the day

_WORKER = textwrap.dedent(
    """
    import json, sys, anyio
    from pathlib import Path
    from hotelrunner_mcp.gate.quota import QuotaLimiter

    async def main():
        q = QuotaLimiter(Path(sys.argv[1]), key="villa", per_minute=3, per_day=250,
                         minute_seconds=2.0, max_wait_seconds=60.0)
        times = []
        for _ in range(8):
            ticket = await q.acquire("worker")
            await q.finish(ticket)
            times.append(ticket.at)
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
    crowded = [(a, b) for a, b in zip(stamps, stamps[3:], strict=False) if b - a < 2.0]
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
    quota = limiter(tmp_path / "q.db", clock, per_minute=10, per_day=2, day_seconds=100.0)
    await answered(quota, clock)
    clock.now += 50
    await answered(quota, clock)
    with pytest.raises(QuotaExhausted) as refused:
        await quota.acquire("c")
    assert refused.value.next_free_at == quota.status().next_free_at
    clock.now += 51  # the first request has left the 24 h window (margin included), the second has not
    ticket = await quota.acquire("c")
    assert (ticket.used_today, ticket.left_today) == (2, 0)


async def test_a_full_minute_waits_for_its_slot_and_tells_the_caller(tmp_path: Path) -> None:
    waits: list[float] = []

    async def on_wait(seconds: float) -> None:
        waits.append(seconds)

    clock = FakeClock()
    quota = limiter(tmp_path / "q.db", clock, per_minute=2)
    first = await answered(quota, clock)
    await answered(quota, clock)
    third = await quota.acquire("c", on_wait)
    assert waits == [pytest.approx(60.0 + quota.margin_seconds)]
    assert third.at - first.at >= 60.0 + quota.margin_seconds
    assert third.used_today == 3 and third.waited_seconds == third.at - first.at


async def test_a_wait_longer_than_allowed_is_refused_and_counts_nothing(tmp_path: Path) -> None:
    quota = limiter(tmp_path / "q.db", per_minute=1, minute_seconds=60.0, max_wait_seconds=1.0)
    await quota.acquire("a")
    with pytest.raises(QuotaWaitTooLong, match="Nothing was sent"):
        await quota.acquire("b")
    assert quota.status().used_today == 1


async def test_a_routine_call_that_may_not_wait_is_refused_at_once(tmp_path: Path) -> None:
    clock = FakeClock()
    quota = limiter(tmp_path / "q.db", clock, per_minute=1)
    await answered(quota, clock)
    with pytest.raises(QuotaWaitTooLong):
        await quota.acquire("refresh", max_wait_seconds=0)
    assert clock.sleeps == [] and quota.status().used_today == 1


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


# ---------------------------------------------------------------------- counting at arrival


async def test_a_slot_frees_one_window_after_the_answer_not_after_the_send(tmp_path: Path) -> None:
    """The request may have reached HotelRunner just before its answer came back, 2 s after it left."""
    clock = FakeClock()
    quota = limiter(tmp_path / "q.db", clock, per_minute=1)
    first = await answered(quota, clock, after=2.0)
    second = await quota.acquire("read")
    assert second.at >= first.at + 2.0 + 60.0 + quota.margin_seconds
    assert quota.margin_seconds > 0


async def test_a_request_never_answered_counts_until_its_timeout(tmp_path: Path) -> None:
    """A process killed mid-request left no answer time: its request may arrive up to the HTTP timeout."""
    clock = FakeClock()
    db = tmp_path / "q.db"
    dead = limiter(db, clock, per_minute=1, request_timeout_seconds=20.0)
    lost = await dead.acquire("read")  # never finished
    dead.close()
    clock.now += 65.0  # one window after the send, but the request may have arrived at +20 s
    other = limiter(db, clock, per_minute=1, request_timeout_seconds=20.0)
    assert other.status().used_last_minute == 1
    ticket = await other.acquire("read")
    assert ticket.at >= lost.at + 20.0 + 60.0 + other.margin_seconds


async def test_a_process_with_a_longer_timeout_keeps_its_in_flight_bound(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "q.db"
    patient = limiter(db, clock, per_minute=1, request_timeout_seconds=60.0)
    await patient.acquire("slow read")  # in flight; may arrive up to +60 s
    hasty = limiter(db, clock, per_minute=1, request_timeout_seconds=20.0)
    clock.now += 10.0
    with pytest.raises(QuotaWaitTooLong):  # the take looks at (and would repair) the ledger
        await hasty.acquire("read", max_wait_seconds=0)
    clock.now = T0 + 100.0  # past +20 s + a window, within +60 s + a window
    assert hasty.status().used_last_minute == 1


async def test_a_waiter_looks_again_when_the_request_in_flight_ends(tmp_path: Path) -> None:
    """While the slot's holder is in flight, a waiter sleeps only as if it ended now, then re-checks:
    it neither oversleeps by the whole timeout nor goes before the holder's answer + a window."""
    clock = FakeClock()
    quota = limiter(tmp_path / "q.db", clock, per_minute=1, request_timeout_seconds=20.0, max_wait_seconds=70.0)
    holder = await quota.acquire("slow write")
    answered_at = T0 + 3.0

    async def answer_arrives() -> None:  # during the waiter's first sleep, 3 s after the send
        saved, clock.now = clock.now, answered_at
        await quota.finish(holder)
        clock.now = saved

    clock.during_sleep = answer_arrives
    waiter = await quota.acquire("read")
    assert waiter.at >= answered_at + 60.0 + quota.margin_seconds
    assert waiter.at < T0 + 20.0 + 60.0  # not held to the timeout bound once the answer is known
    assert len(clock.sleeps) == 2  # slept as if the holder ended at once, then the small remainder


async def test_waiters_for_one_slot_wake_at_different_moments(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    clock = FakeClock()
    first = limiter(db, clock, per_minute=1)
    await answered(first, clock)
    pauses = []
    for seed in range(4):
        waiter_clock = FakeClock(clock.now)
        waiter = limiter(db, waiter_clock, per_minute=1, rng=random.Random(seed), per_day=1000)
        waiter_clock.during_sleep = _stop_here  # we only want to see its first pause
        with pytest.raises(_Stop):
            await waiter.acquire("read")
        pauses.append(waiter_clock.sleeps[0])
    base = 60.0 + first.margin_seconds
    assert all(base <= pause <= base + 0.1 for pause in pauses)
    assert len(set(pauses)) == len(pauses)


class _Stop(Exception):
    pass


async def _stop_here() -> None:
    raise _Stop


class Simulation:
    """Processes sharing one ledger in simulated time: each sleep parks its task until the driver moves
    the clock there; the driver moves it only when every task is parked, so a run is deterministic."""

    def __init__(self, now: float = T0) -> None:
        self.now = now
        self._heap: list[tuple[float, int, anyio.Event]] = []
        self._seq = 0
        self._parked = 0
        self._alive = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        event = anyio.Event()
        heapq.heappush(self._heap, (self.now + max(0.0, seconds), self._seq, event))
        self._seq += 1
        self._parked += 1
        await event.wait()

    async def run(self, processes: list[Callable[[], Awaitable[None]]]) -> None:
        async def alive(process: Callable[[], Awaitable[None]]) -> None:
            try:
                await process()
            finally:
                self._alive -= 1

        self._alive = len(processes)
        async with anyio.create_task_group() as group:
            for process in processes:
                group.start_soon(alive, process)
            while self._alive:
                if self._parked < self._alive or not self._heap:
                    await anyio.sleep(0.0005)  # a task is in a ledger transaction (a thread)
                    continue
                wake, _, event = heapq.heappop(self._heap)
                self.now = max(self.now, wake)
                self._parked -= 1
                event.set()


@pytest.mark.parametrize("lag", ["at_answer", "random"])
async def test_eight_processes_never_put_more_than_the_limit_in_a_window_at_arrival(tmp_path: Path, lag: str) -> None:
    """8 processes, each request arriving anywhere between its send and its answer (the worst case: all
    at the answer), answers taking 5-800 ms: at arrival no rolling minute ever holds more than 5."""
    sim = Simulation()
    db = tmp_path / "q.db"
    end = T0 + 600.0
    arrivals: list[float] = []
    lags = random.Random(42)

    def process(number: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            quota = QuotaLimiter(
                db,
                key="villa",
                per_minute=5,
                per_day=100_000,
                clock=sim.clock,
                sleep=sim.sleep,
                rng=random.Random(number),
                max_wait_seconds=10_000.0,
            )
            while sim.now < end:
                ticket = await quota.acquire("read")
                duration = lags.uniform(0.005, 0.8)
                arrivals.append(ticket.at + (duration if lag == "at_answer" else lags.uniform(0.0, duration)))
                await sim.sleep(duration)
                await quota.finish(ticket)
            quota.close()

        return run

    await sim.run([process(n) for n in range(8)])
    assert max_in_window(arrivals, 60.0) == 5
    # ... and it is not timid: each slot is held about one window + the answer time + the margin.
    assert len(arrivals) >= 5 * math.floor(600.0 / (60.0 + 0.8 + 0.5))


# ---------------------------------------------------------------------- 429 and Retry-After


async def test_an_upstream_429_blocks_every_limiter_on_the_file(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    quota = limiter(db, max_wait_seconds=1.0)
    quota.note_rate_limited(120)
    other_process = limiter(db, max_wait_seconds=1.0)
    assert other_process.status().blocked_until is not None
    with pytest.raises(QuotaWaitTooLong):
        await other_process.acquire("read")
    assert other_process.status().used_today == 0


async def test_a_429_widens_the_margin_for_every_process_and_it_narrows_again(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "q.db"
    quota = limiter(db, clock, per_minute=1)
    other = limiter(db, clock, per_minute=1)
    margin = quota.margin_seconds

    async def gap_after_answer() -> float:
        ticket = await answered(other, clock)
        following = await other.acquire("read")
        await other.finish(following)
        return following.at - ticket.at - 60.0

    def about(seconds: float) -> object:  # the gap also holds the wake-up slack and jitter (< 0.07 s)
        return pytest.approx(seconds + 0.035, abs=0.035)

    assert await gap_after_answer() == about(margin)
    await answered(quota, clock)
    quota.note_rate_limited(1.0)  # proof we were too eager
    clock.now += 70.0
    assert await gap_after_answer() == about(2 * margin)
    quota.note_rate_limited(1.0)
    clock.now += 70.0
    assert await gap_after_answer() == about(3 * margin)  # the extra doubled: margin + 2 * margin
    clock.now += 60.0 * 61  # an hour later the margin is back to its fixed size
    assert await gap_after_answer() == about(margin)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        (math.inf, MAX_RETRY_AFTER_SECONDS),
        (1e300, MAX_RETRY_AFTER_SECONDS),
        (90.0, 90.0),
        (-5.0, 60.0),
        (0.0, 60.0),
        (math.nan, 60.0),
        (None, 60.0),
    ],
)
async def test_every_retry_after_is_bounded(tmp_path: Path, retry_after: float | None, expected: float) -> None:
    clock = FakeClock()
    quota = limiter(tmp_path / "q.db", clock, max_wait_seconds=10_000.0)
    quota.note_rate_limited(retry_after)
    status = quota.status()
    assert status.blocked_until is not None and status.next_free_at == status.blocked_until
    ticket = await quota.acquire("read")
    assert ticket.at == pytest.approx(T0 + expected, abs=0.2)


async def test_a_ledger_blocked_forever_by_an_older_version_recovers(tmp_path: Path) -> None:
    """An older version stored `Retry-After: inf` as is; every status read then overflowed."""
    db = tmp_path / "q.db"
    clock = FakeClock()
    limiter(db, clock).status()  # creates the file
    with sqlite3.connect(db) as raw:
        raw.execute("INSERT OR REPLACE INTO quota_blocks (key, until) VALUES ('villa', ?)", (math.inf,))
    quota = limiter(db, clock, max_wait_seconds=1.0)
    assert quota.status().blocked_until is not None  # readable
    with pytest.raises(QuotaWaitTooLong, match="Nothing was sent"):
        await quota.acquire("read")
    clock.now += MAX_RETRY_AFTER_SECONDS + 1
    assert (await quota.acquire("read")).used_today == 1


async def test_requests_stamped_in_the_future_do_not_block_for_days(tmp_path: Path) -> None:
    """A clock set back a day: the rows stamped 'tomorrow' keep counting, from now, for one window."""
    db = tmp_path / "q.db"
    clock = FakeClock(T0 + 86400.0)
    ahead = limiter(db, clock, per_minute=1)
    await answered(ahead, clock)
    clock.now = T0
    quota = limiter(db, clock, per_minute=1, max_wait_seconds=100.0)
    ticket = await quota.acquire("read")
    assert T0 + 60.0 <= ticket.at <= T0 + 61.0
    assert quota.status().used_today == 2


async def test_an_older_ledger_is_upgraded_and_its_rows_keep_counting(tmp_path: Path) -> None:
    db = tmp_path / "quota.db"
    with sqlite3.connect(db) as raw:  # the schema and rows as the previous version wrote them
        raw.executescript(
            "CREATE TABLE quota_requests (key TEXT NOT NULL, at REAL NOT NULL, label TEXT NOT NULL);"
            "CREATE INDEX quota_requests_key_at ON quota_requests (key, at);"
            "CREATE TABLE quota_blocks (key TEXT PRIMARY KEY, until REAL NOT NULL);"
        )
        raw.executemany("INSERT INTO quota_requests VALUES ('villa', ?, 'old')", [(T0 - 30.0,), (T0 - 10.0,)])
    clock = FakeClock()
    quota = limiter(db, clock, per_minute=3, request_timeout_seconds=20.0)
    status = quota.status()
    assert (status.used_last_minute, status.used_today) == (2, 2)
    await answered(quota, clock)
    with pytest.raises(QuotaWaitTooLong):
        await quota.acquire("read", max_wait_seconds=0)
    # the old rows count as in flight up to their send + the timeout: the oldest frees at -30 + 20 + 60
    ticket = await quota.acquire("read")
    assert ticket.at >= T0 - 30.0 + 20.0 + 60.0 + quota.margin_seconds
    columns = {row[1] for row in sqlite3.connect(db).execute("PRAGMA table_info(quota_requests)")}
    assert {"latest_at", "done_at"} <= columns


def test_processes_with_different_limits_hold_to_the_strictest(tmp_path: Path) -> None:
    """Issue 12, Medium 9: a process configured for 20 a minute beside one for 5 spent 20 in a minute
    for the property. The strictest limit seen on the ledger today holds for every process."""
    strict = QuotaLimiter(tmp_path / "q.db", key="k", per_minute=5, per_day=250)
    loose = QuotaLimiter(tmp_path / "q.db", key="k", per_minute=20, per_day=1000)
    try:
        anyio.run(strict.acquire, "GET /rooms")
        status = loose.status()
        assert (status.per_minute, status.per_day) == (5, 250)
        for _ in range(4):
            anyio.run(loose.acquire, "GET /reservations")
        with pytest.raises(QuotaWaitTooLong):
            anyio.run(lambda: loose.acquire("GET /reservations", max_wait_seconds=0))
    finally:
        strict.close()
        loose.close()
