"""Gate: nothing reaches HotelRunner unless it is on the audit log and counted first."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from hotelrunner_mcp.audit import AuditLog, read_audit
from hotelrunner_mcp.errors import QuotaExhausted, RecordingUnavailable
from hotelrunner_mcp.gate import Gate, UpstreamCall, quota_wait_notifier
from hotelrunner_mcp.quota import QuotaLimiter
from hotelrunner_mcp.redact import Redactor

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


def make_gate(tmp_path: Path, *, audit_path: Path | None = None, quota_path: Path | None = None,
              per_day: int = 250) -> Gate:
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
    assert len(waits) == 1 and 0 < waits[0] <= 0.2
