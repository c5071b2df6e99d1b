"""Upstream faults seen through the tools: each one is a clear, actionable tool error (never a crash,
never a secret), reads are retried only where that is safe, and writes are never retried."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect, upstream
from .support import assert_no_secrets, assert_tool_error

DAY = str(property_today() + timedelta(days=4))
CHANGE = [{"room": "DLXTRP", "start_date": DAY, "end_date": DAY, "price": "181"}]


@pytest.fixture
def fast_settings(roomy_settings: Settings) -> Settings:
    """A short timeout so hangs cost about a second."""
    return roomy_settings.with_overrides(timeout_seconds=0.5)


async def failing(mcp: Session, sandbox: RunningSandbox, tool: str, **arguments: Any) -> str:
    text = await mcp.error(tool, **arguments)
    assert_tool_error(text, tool)
    assert_no_secrets(text, sandbox)
    assert "[sandbox]" in text  # sandbox answers say so, errors too
    return text


async def apply(mcp: Session, changes: list[dict[str, Any]]) -> tuple[bool, str]:
    """Preview then apply; (is_error, text) of the apply."""
    plan_id = (await mcp.ok("update_calendar", changes=changes))["plan_id"]
    result = await mcp.call("update_calendar", changes=changes, plan_id=plan_id)
    return result.is_error, result.text


# --------------------------------------------------------------------------- reads


async def test_wrong_token_says_the_credentials_were_rejected(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(fast_settings.with_overrides(token="not-the-token")) as mcp:
        text = await failing(mcp, sandbox, "get_rooms")

    assert "rejected" in text and "HOTELRUNNER_TOKEN" in text
    assert "not-the-token" not in text
    assert len(upstream(sandbox)) == 1  # not retried


async def test_429_is_respected_and_said(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("429", times=1)
    async with connect(fast_settings.with_overrides(max_quota_wait_seconds=0.5)) as mcp:
        text = await failing(mcp, sandbox, "get_rooms")
        paused = await failing(mcp, sandbox, "get_rooms", refresh=True)

    assert "429" in text and "too many requests" in text
    assert "Nothing was sent" in paused  # the slow-down is respected locally, not tested upstream
    assert len(upstream(sandbox)) == 1


async def test_500_on_a_read_is_an_outage_message(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("500")
    async with connect(fast_settings) as mcp:
        text = await failing(mcp, sandbox, "get_rooms")

    assert "500" in text and "Nothing was" in text


async def test_503_on_a_read_is_retried_once(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("503", times=1)
    async with connect(fast_settings) as mcp:
        rooms = await mcp.ok("get_rooms")

    assert len(rooms["room_types"]) == 9  # 8 room types and HotelRunner's Default Room
    assert [r.status for r in upstream(sandbox)] == [503, 200]
    assert rooms["quota_spent"] == 2  # each attempt is counted


async def test_503_twice_on_a_read_gives_up_with_a_clear_message(
    fast_settings: Settings, sandbox: RunningSandbox
) -> None:
    sandbox.control.add_fault("503")
    async with connect(fast_settings) as mcp:
        text = await failing(mcp, sandbox, "get_rooms")

    assert "503" in text and "maintenance" in text
    assert len(upstream(sandbox)) == 2


async def test_a_hanging_read_times_out(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    fault = sandbox.control.add_fault("hang", delay=3)
    async with connect(fast_settings) as mcp:
        text = await failing(mcp, sandbox, "get_rooms")

    assert "no answer within 0.5 s" in text
    assert fired(sandbox, fault) == 2  # a read may be retried once


async def test_a_malformed_answer_is_named(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("malformed", times=1)
    async with connect(fast_settings) as mcp:
        text = await failing(mcp, sandbox, "get_rooms")

    assert "not what its API documents" in text


async def test_reservation_reads_report_faults_too(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("500")
    async with connect(fast_settings) as mcp:
        text = await failing(mcp, sandbox, "get_reservations", refresh=True)

    assert "500" in text


# --------------------------------------------------------------------------- writes


def fired(sandbox: RunningSandbox, fault: dict[str, object]) -> int:
    return next(int(f["fired"]) for f in sandbox.control.faults() if f["id"] == fault["id"])  # type: ignore[call-overload]


@pytest.mark.parametrize("kind", ["500", "503", "malformed"])
async def test_a_failed_write_is_outcome_unknown_and_never_retried(
    kind: str, fast_settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(fast_settings) as mcp:
        await mcp.ok("get_rooms")
        sandbox.control.add_fault(kind, paths=["/rooms/daily"])
        is_error, text = await apply(mcp, CHANGE)

    assert is_error
    assert_tool_error(text, "update_calendar")
    assert_no_secrets(text, sandbox)
    assert "outcome unknown" in text and "Do not resend blindly" in text
    assert len(upstream(sandbox, "PUT")) == 1


async def test_a_hanging_write_is_outcome_unknown_and_never_retried(
    fast_settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(fast_settings) as mcp:
        await mcp.ok("get_rooms")
        fault = sandbox.control.add_fault("hang", delay=3, paths=["/rooms/daily"])
        is_error, text = await apply(mcp, CHANGE)

    assert is_error and "Outcome unknown" in text
    assert fired(sandbox, fault) == 1


async def test_try_again_on_a_write_says_not_applied(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(fast_settings) as mcp:
        await mcp.ok("get_rooms")
        sandbox.control.add_fault("try_again", times=1, paths=["/rooms/daily"])
        is_error, text = await apply(mcp, CHANGE)
        # the plan id is used up; a fresh preview and apply goes through
        retried_error, _ = await apply(mcp, CHANGE)

    assert is_error and "NOT applied" in text and "preview the changes again" in text
    assert not retried_error
    assert len(upstream(sandbox, "PUT")) == 2
    assert sandbox.control.calendar("DLXTRP", DAY)["price"] == Decimal("181")


TWO_REQUESTS = [  # one room, 100 dates with two prices: two /rooms/daily calls
    {
        "room": "DLXTRP",
        "start_date": DAY,
        "end_date": str(date.fromisoformat(DAY) + timedelta(days=49)),
        "price": "181",
    },
    {
        "room": "DLXTRP",
        "start_date": str(date.fromisoformat(DAY) + timedelta(days=50)),
        "end_date": str(date.fromisoformat(DAY) + timedelta(days=99)),
        "price": "191",
    },
]


async def test_when_nothing_is_accepted_a_later_unknown_outcome_is_not_hidden(
    fast_settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(fast_settings) as mcp:
        preview = await mcp.ok("update_calendar", changes=TWO_REQUESTS)
        assert preview["upstream_requests"] == 2
        sandbox.control.add_fault("try_again", times=1, paths=["/rooms/daily"])
        sandbox.control.add_fault("500", times=1, paths=["/rooms/daily"])
        text = await mcp.error("update_calendar", changes=TWO_REQUESTS, plan_id=preview["plan_id"])
    assert "MAY have been applied" in text and "outcome_unknown" in text and "not_applied" in text
    assert len(upstream(sandbox, "PUT", "/rooms/daily")) == 2


async def test_a_bad_plan_id_costs_nothing_not_even_the_room_list(
    fast_settings: Settings, sandbox: RunningSandbox
) -> None:
    async with connect(fast_settings) as mcp:
        text = await mcp.error("update_calendar", changes=CHANGE, plan_id="no-such-plan")
    assert "unknown plan id" in text
    assert upstream(sandbox) == []


async def test_a_plan_whose_apply_sent_nothing_stays_valid(fast_settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(fast_settings.with_overrides(per_minute=1, max_quota_wait_seconds=0.0)) as mcp:
        preview = await mcp.ok("update_calendar", changes=CHANGE)  # the room list takes the minute's only slot
        text = await mcp.error("update_calendar", changes=CHANGE, plan_id=preview["plan_id"])
        assert "still valid" in text and "0 sent" in text
        assert upstream(sandbox, "PUT") == []


async def test_a_broken_ledger_after_an_accepted_write_is_reported_not_hidden(
    fast_settings: Settings, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HotelRunner took the price but this server could not record it: the agent is told it was applied."""
    import sqlite3

    from hotelrunner_mcp.calendar.ledger import CalendarLedger

    def locked(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    async with connect(fast_settings) as mcp:
        preview = await mcp.ok("update_calendar", changes=CHANGE)
        monkeypatch.setattr(CalendarLedger, "record", locked)
        applied = await mcp.ok("update_calendar", changes=CHANGE, plan_id=preview["plan_id"])
    [result] = applied["results"]
    assert result["status"] == "ok" and result["transaction_id"]
    assert "could not record it" in result["message"]
    assert len(upstream(sandbox, "PUT")) == 1


async def test_an_unexpected_failure_says_what_was_already_spent(
    fast_settings: Settings, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotelrunner_mcp.reservations.mirror import ReservationStore

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ReservationStore, "upsert_many", broken)
    async with connect(fast_settings) as mcp:
        text = await failing(mcp, sandbox, "get_reservations")
    assert "failed inside this server (OSError) after 1 upstream request(s)" in text
    assert "internal_error" in text
