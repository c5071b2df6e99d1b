"""Quota waits clients survive (issue 9), at the gate: progress notices keep coming while a wait lasts, and
one tool call's waits together end at its budget, past which it is refused at once, saying what it did."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from hotelrunner_mcp.errors import QuotaWaitTooLong
from hotelrunner_mcp.gate.audit import AuditLog
from hotelrunner_mcp.gate.gate import Gate, UpstreamCall, quota_wait_budget, quota_wait_notifier
from hotelrunner_mcp.gate.quota import QuotaLimiter
from hotelrunner_mcp.hotelrunner.redact import Redactor

READ = UpstreamCall("GET", "/rooms")


async def answered() -> httpx2.Response:
    return httpx2.Response(200, json={"status": "ok"})


def gate(tmp_path: Path, *, minute_seconds: float) -> Gate:
    redactor = Redactor()
    limiter = QuotaLimiter(
        tmp_path / "quota.db", key="k", per_minute=1, per_day=100, minute_seconds=minute_seconds, max_wait_seconds=600
    )
    return Gate(limiter, AuditLog(tmp_path / "audit.jsonl", redactor), redactor)


async def test_a_wait_is_announced_again_and_again_until_the_slot_comes(tmp_path: Path) -> None:
    door = gate(tmp_path, minute_seconds=1.2)
    told: list[float] = []

    async def tell(seconds_left: float) -> None:
        told.append(seconds_left)

    with quota_wait_notifier(tell, every_seconds=0.3):
        await door.send(READ, answered)
        await door.send(READ, answered)  # waits about 1.2 s
    assert len(told) >= 3, told  # not one notice, then silence
    assert told == sorted(told, reverse=True)  # each says how long is left, less each time


async def test_a_slot_past_the_calls_budget_is_refused_at_once_and_says_what_the_call_did(tmp_path: Path) -> None:
    door = gate(tmp_path, minute_seconds=60.0)
    audit = door.audit
    with audit.tool_call("get_reservations", "pytest", {}) as call, quota_wait_budget(40.0):
        await door.send(READ, answered)
        with pytest.raises(QuotaWaitTooLong) as refused:
            await door.send(READ, answered)  # the next slot is ~60 s away: past the 40 s budget
    assert call.upstream_requests == 1
    message = str(refused.value)
    assert "already sent 1 request(s)" in message and "nothing more was sent" in message
    assert "try again after" in message
    assert door.limiter.status().used_today == 1  # the refusal counted nothing


async def test_without_a_budget_the_limiters_own_bound_holds(tmp_path: Path) -> None:
    door = gate(tmp_path, minute_seconds=60.0)
    await door.send(READ, answered)
    with quota_wait_budget(0.0), pytest.raises(QuotaWaitTooLong, match="Nothing was sent"):
        await door.send(READ, answered)
