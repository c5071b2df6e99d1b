"""Gate: nothing reaches HotelRunner unless it is on the audit log and counted first."""

from __future__ import annotations

import contextlib
import math
import random
from datetime import datetime
from pathlib import Path

import anyio
import httpx2
import pytest

from hotelrunner_mcp.errors import QuotaExhausted, QuotaWaitTooLong, RecordingUnavailable
from hotelrunner_mcp.gate.audit import AuditLog, read_audit
from hotelrunner_mcp.gate.gate import Gate, UpstreamCall, quota_patience, quota_wait_notifier
from hotelrunner_mcp.gate.quota import MAX_RETRY_AFTER_SECONDS, QuotaLimiter
from hotelrunner_mcp.hotelrunner.redact import Redactor

TOKEN = "tok-SECRET-2718"
WRITE = UpstreamCall("PUT", "/rooms/~", params={"inv_code": "DLXTRP", "price": "169", "token": TOKEN}, write=True)
READ = UpstreamCall("GET", "/rooms")


class Upstream:
    """Stands for one HTTP attempt: records that it ran, answers `response` or raises `error`."""

    def __init__(self, response: httpx2.Response | None = None, error: Exception | None = None) -> None:
        self.response = response or httpx2.Response(200, json={"status": "ok", "transaction_id": 4242})
        self.error = error
        self.calls = 0
        self.audit_seen_before: list[dict] = []

    def attempt_for(self, audit_path: Path):  # type: ignore[no-untyped-def]
        async def attempt() -> httpx2.Response:
            self.calls += 1
            self.audit_seen_before = read_audit(audit_path)
            if self.error is not None:
                raise self.error
            return self.response

        return attempt


def make_gate(
    tmp_path: Path, *, audit_path: Path | None = None, quota_path: Path | None = None, per_day: int = 250
) -> Gate:
    redactor = Redactor([TOKEN])
    limiter = QuotaLimiter(quota_path or tmp_path / "quota.db", key="k", per_minute=100, per_day=per_day)
    return Gate(limiter, AuditLog(audit_path or tmp_path / "audit.jsonl", redactor), redactor)


async def test_a_write_is_on_disk_before_it_is_sent_and_its_outcome_after(tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    upstream = Upstream()
    response = await gate.send(WRITE, upstream.attempt_for(tmp_path / "audit.jsonl"))
    assert response.status_code == 200
    assert [r["event"] for r in upstream.audit_seen_before] == ["upstream_intent"]
    intent, outcome = read_audit(tmp_path / "audit.jsonl")
    assert intent["params"] == {"inv_code": "DLXTRP", "price": "169"}  # the token param is dropped
    assert (outcome["status"], outcome["transaction_id"], outcome["quota_left"]) == (200, "4242", 249)
    assert gate.last_success_at is not None and gate.limiter.status().used_today == 1


async def test_upstream_lines_carry_the_tool_call(tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    with gate.audit.tool_call("list_rooms", "claude-desktop", {}):
        await gate.send(READ, Upstream().attempt_for(tmp_path / "audit.jsonl"))
    start, upstream, end = read_audit(tmp_path / "audit.jsonl")
    assert upstream["tool"] == "list_rooms" and upstream["call_id"] == start["call_id"] == end["call_id"]
    assert upstream["client"] == "claude-desktop" and upstream["duration_ms"] >= 0


@pytest.mark.parametrize("call", [READ, WRITE], ids=["read", "write"])
async def test_an_unwritable_audit_log_sends_nothing(tmp_path: Path, call: UpstreamCall) -> None:
    (tmp_path / "blocker").write_text("")
    gate = make_gate(tmp_path, audit_path=tmp_path / "blocker" / "audit.jsonl")
    upstream = Upstream()
    with pytest.raises(RecordingUnavailable):
        await gate.send(call, upstream.attempt_for(tmp_path / "unused"))
    assert upstream.calls == 0 and gate.limiter.status().used_today == 0


async def test_an_unwritable_quota_ledger_sends_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("")
    gate = make_gate(tmp_path, quota_path=tmp_path / "blocker" / "quota.db")
    upstream = Upstream()
    with pytest.raises(RecordingUnavailable):
        await gate.send(READ, upstream.attempt_for(tmp_path / "audit.jsonl"))
    assert upstream.calls == 0


async def test_an_exhausted_day_sends_nothing_and_says_so_in_the_log(tmp_path: Path) -> None:
    gate = make_gate(tmp_path, per_day=1)
    upstream = Upstream()
    await gate.send(READ, upstream.attempt_for(tmp_path / "audit.jsonl"))
    with pytest.raises(QuotaExhausted):
        await gate.send(WRITE, upstream.attempt_for(tmp_path / "audit.jsonl"))
    assert upstream.calls == 1
    refused = read_audit(tmp_path / "audit.jsonl")[-1]
    assert (refused["sent"], refused["error_code"]) == (False, "quota_exhausted")


async def test_a_429_blocks_the_shared_quota(tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    upstream = Upstream(httpx2.Response(429, headers={"Retry-After": "90"}))
    response = await gate.send(READ, upstream.attempt_for(tmp_path / "audit.jsonl"))
    assert response.status_code == 429  # mapping to an error is the client's job
    assert gate.limiter.status().blocked_until is not None and gate.last_success_at is None


async def test_a_failed_attempt_is_logged_redacted_and_re_raised(tmp_path: Path) -> None:
    gate = make_gate(tmp_path)
    error = httpx2.ConnectError(f"cannot reach https://app.hotelrunner.com/rooms?token={TOKEN}")
    with pytest.raises(httpx2.ConnectError):
        await gate.send(READ, Upstream(error=error).attempt_for(tmp_path / "audit.jsonl"))
    line = read_audit(tmp_path / "audit.jsonl")[-1]
    assert line["error_code"] == "ConnectError" and "token=***" in line["error"]
    assert TOKEN not in (tmp_path / "audit.jsonl").read_text()


async def test_a_waiting_request_tells_the_caller_through_the_notifier(tmp_path: Path) -> None:
    redactor = Redactor()
    limiter = QuotaLimiter(tmp_path / "q.db", key="k", per_minute=1, per_day=9, minute_seconds=0.2)
    gate = Gate(limiter, AuditLog(tmp_path / "audit.jsonl", redactor), redactor)
    waits: list[float] = []

    async def tell(seconds: float) -> None:
        waits.append(seconds)

    with quota_wait_notifier(tell):
        for _ in range(2):
            await gate.send(READ, Upstream().attempt_for(tmp_path / "audit.jsonl"))
    assert len(waits) == 1 and 0 < waits[0] <= 0.2 + limiter.margin_seconds


class Clock:
    """Injected time for the limiter; an attempt advances it by its `latency`."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def timed_gate(tmp_path: Path, clock: Clock, *, per_minute: int = 1) -> Gate:
    redactor = Redactor()
    limiter = QuotaLimiter(
        tmp_path / "q.db",
        key="k",
        per_minute=per_minute,
        per_day=250,
        request_timeout_seconds=20.0,
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(0),
    )
    return Gate(limiter, AuditLog(tmp_path / "audit.jsonl", redactor), redactor)


def slow(clock: Clock, latency: float, response: httpx2.Response | None = None, error: Exception | None = None):  # type: ignore[no-untyped-def]
    async def attempt() -> httpx2.Response:
        clock.now += latency
        if error is not None:
            raise error
        return response or httpx2.Response(200, json={"status": "ok"})

    return attempt


@pytest.mark.parametrize("outcome", ["answer", "connect_error"])
async def test_the_gate_tells_the_limiter_when_the_request_was_over(tmp_path: Path, outcome: str) -> None:
    """Counted from the send until the answer (2 s later) + one window: not until send + window, and not
    until the 20 s timeout bound either."""
    clock = Clock()
    gate = timed_gate(tmp_path, clock)
    sent_at = clock.now
    attempt = slow(clock, 2.0) if outcome == "answer" else slow(clock, 2.0, error=httpx2.ConnectError("refused"))
    with contextlib.suppress(httpx2.ConnectError):
        await gate.send(READ, attempt)
    margin = gate.limiter.margin_seconds
    clock.now = sent_at + 60.0 + 1.0  # one window after the send, but the request may have arrived at +2 s
    assert gate.limiter.status().used_last_minute == 1
    clock.now = sent_at + 2.0 + 60.0 + margin + 0.01
    assert gate.limiter.status().used_last_minute == 0


async def test_a_cancelled_attempt_counts_until_its_timeout(tmp_path: Path) -> None:
    """Cancelled mid-flight, the request may still reach HotelRunner: it keeps its send + timeout bound."""
    clock = Clock()
    gate = timed_gate(tmp_path, clock)
    sent_at = clock.now

    async def hangs() -> httpx2.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    with anyio.move_on_after(0.05):
        await gate.send(READ, hangs)
    [line] = [r for r in read_audit(gate.audit.path) if r["event"] == "upstream"]  # a killed read is still audited
    assert line["sent"] is True and "Cancel" in line["error_code"]
    clock.now = sent_at + 60.0 + 5.0
    assert gate.limiter.status().used_last_minute == 1
    clock.now = sent_at + 20.0 + 60.0 + gate.limiter.margin_seconds + 0.01
    assert gate.limiter.status().used_last_minute == 0


async def test_the_next_request_waits_for_the_slow_answer_plus_a_window(tmp_path: Path) -> None:
    clock = Clock()
    gate = timed_gate(tmp_path, clock)
    waits: list[float] = []

    async def tell(seconds: float) -> None:
        waits.append(seconds)

    first_sent = clock.now
    with quota_wait_notifier(tell):
        await gate.send(READ, slow(clock, 3.0))
        await gate.send(READ, slow(clock, 0.1))
    second = read_audit(tmp_path / "audit.jsonl")[-1]
    assert second["status"] == 200 and waits == [pytest.approx(60.0 + gate.limiter.margin_seconds)]
    assert clock.now >= first_sent + 3.0 + 60.0 + gate.limiter.margin_seconds + 0.1
    with quota_patience(0), pytest.raises(QuotaWaitTooLong, match="Nothing was sent"):  # a routine refresh never waits
        await gate.send(READ, slow(clock, 0.1))


_FAR_DATE = "Fri, 31 Dec 9999 23:59:59 GMT"


@pytest.mark.parametrize(
    ("header", "blocked_for"),
    [
        ("90", 90.0),
        ("inf", MAX_RETRY_AFTER_SECONDS),
        ("Infinity", MAX_RETRY_AFTER_SECONDS),
        ("1e400", MAX_RETRY_AFTER_SECONDS),
        ("99999999999999999999999", MAX_RETRY_AFTER_SECONDS),
        ("-5", 60.0),
        ("nan", 60.0),
        ("soon", 60.0),
        ("", 60.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),  # a date in the past
        (_FAR_DATE, MAX_RETRY_AFTER_SECONDS),
        ("Fri, 15 Jan 2027 08:00:30 GMT", 30.0),  # an HTTP-date 30 s after the clock's now: honoured
    ],
)
async def test_every_retry_after_is_bounded(tmp_path: Path, header: str, blocked_for: float) -> None:
    """`Retry-After: inf` once broke every tool (OverflowError) until quota.db was edited by hand."""
    clock = Clock()  # 2027-01-15T08:00:00Z
    gate = timed_gate(tmp_path, clock, per_minute=100)
    headers = {"Retry-After": header} if header else {}
    response = await gate.send(READ, slow(clock, 0.0, httpx2.Response(429, headers=headers)))
    assert response.status_code == 429
    status = gate.limiter.status()
    assert status.blocked_until is not None
    blocked_until = _epoch(status.blocked_until)
    assert math.isclose(blocked_until - clock.now, blocked_for, abs_tol=1.0)
    clock.now = blocked_until + 1.0  # the block ends: the next request goes at once
    with quota_patience(0):
        await gate.send(READ, slow(clock, 0.1))
    assert gate.limiter.status().used_today == 2


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
