"""respond_to_reservation through a real MCP client against the sandbox: confirm and cancel after a preview,
every refusal made before anything is sent, the person asked directly where the client can, and the
mirror showing the new state at once."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult, ErrorData, Implementation

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.surface.server import build_server

from .conftest import Session, connect, upstream

FIRE = "/reservations/fire"


def reserved_booking(sandbox: RunningSandbox, guest: str = "Ana Lopez", weeks_ahead: int = 8) -> str:
    """A direct booking awaiting the property's answer (the sandbox makes online bookings `reserved`)."""
    checkin = date.today() + timedelta(weeks=weeks_ahead)
    made = sandbox.control.create_booking(
        channel="online", guest_name=guest, inv_code="DBLSUP", nights=3, checkin=checkin
    )
    assert made["state"] == "reserved"
    return str(made["hr_number"])


async def warm(mcp: Session, sandbox: RunningSandbox) -> None:
    """Sync the mirror once (the bookings exist there), then forget those requests."""
    await mcp.ok("get_reservations", refresh=True, limit=1)
    sandbox.control.clear_requests()


async def test_a_reserved_booking_is_confirmed_after_a_preview(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    number = reserved_booking(sandbox)
    async with connect(roomy_settings) as mcp:
        await warm(mcp, sandbox)
        waiting = await mcp.ok("get_reservations", awaiting_response=True)
        preview = await mcp.ok("respond_to_reservation", reservation=number, action="confirm")
        assert upstream(sandbox) == [] and preview["quota_spent"] == 0
        applied = await mcp.ok(
            "respond_to_reservation", reservation=number, action="confirm", plan_id=preview["plan_id"]
        )
        sent = upstream(sandbox)
        again = await mcp.error(
            "respond_to_reservation", reservation=number, action="confirm", plan_id=preview["plan_id"]
        )
        mirror = await mcp.ok("get_reservations", number=number)

    listed = {r["hr_number"]: r for r in waiting["reservations"]}
    assert listed[number]["awaiting_response"] is True and listed[number]["waiting"]
    booked = [r["booked_at"] for r in waiting["reservations"]]
    assert booked == sorted(booked), "awaiting bookings come oldest first"

    assert preview["applied"] is False and preview["plan_id"] and preview["upstream_requests"] == 1
    facts = preview["booking"]
    assert facts["guest"] == "Ana Lopez" and facts["nights"] == 3 and facts["state"] == "reserved"
    assert facts["waiting"] and facts["total"] and facts["checkin"] and facts["rooms"]
    assert "Ana Lopez" in preview["description"] and "cannot" in preview["cannot_be_undone"]
    assert preview["plan_id"] in preview["next_step"]

    assert applied["applied"] is True and applied["new_state"] == "confirmed"
    assert "plan id" in applied["approved_by"]
    assert [(r.method, r.path) for r in sent] == [("PUT", FIRE)]
    assert sent[0].params["event"] == "confirm" and sent[0].params["hr_number"] == number
    assert sandbox.control.reservation(number)["state"] == "confirmed"

    assert "already applied" in again and len(upstream(sandbox)) == 1  # the second apply sent nothing
    assert mirror["reservations"][0]["state"] == "confirmed" and mirror["quota_spent"] == 0


async def test_a_booking_is_canceled_with_a_reason_and_never_without(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    number = reserved_booking(sandbox, "Karim Benali")
    async with connect(roomy_settings) as mcp:
        await warm(mcp, sandbox)
        no_reason = await mcp.error("respond_to_reservation", reservation=number, action="cancel")
        bad_reason = await mcp.call("respond_to_reservation", reservation=number, action="cancel", cancel_reason="x")
        assert upstream(sandbox) == []
        preview = await mcp.ok("respond_to_reservation", reservation=number, action="cancel", cancel_reason="no_room")
        applied = await mcp.ok(
            "respond_to_reservation",
            reservation=number,
            action="cancel",
            cancel_reason="no_room",
            plan_id=preview["plan_id"],
        )
        mirror = await mcp.ok("get_reservations", number=number)

    assert "cancel_reason" in no_reason and "customer" in no_reason and "(error: invalid_request)" in no_reason
    assert bad_reason.is_error
    assert "final" in preview["cannot_be_undone"] and "no_room" in preview["description"]
    assert applied["applied"] is True and applied["new_state"] == "canceled"
    held = sandbox.control.reservation(number)
    assert held["state"] == "canceled" and held["cancel_reason"] == "no_room"
    assert [(r.method, r.path) for r in upstream(sandbox)] == [("PUT", FIRE)]
    assert mirror["reservations"][0]["state"] == "canceled"


async def test_refusals_cost_nothing(roomy_settings: Settings, sandbox: RunningSandbox) -> None:
    first, second = reserved_booking(sandbox, "Ana Lopez"), reserved_booking(sandbox, "Leila Haddad", weeks_ahead=9)
    confirmed = next(r["hr_number"] for r in sandbox.control.reservations() if r["state"] == "confirmed")
    canceled = next(r["hr_number"] for r in sandbox.control.reservations() if r["state"] == "canceled")
    async with connect(roomy_settings) as mcp:
        await warm(mcp, sandbox)
        plan = (await mcp.ok("respond_to_reservation", reservation=first, action="confirm"))["plan_id"]
        other_booking = await mcp.error("respond_to_reservation", reservation=second, action="confirm", plan_id=plan)
        other_action = await mcp.error(
            "respond_to_reservation", reservation=first, action="cancel", cancel_reason="customer", plan_id=plan
        )
        not_awaiting = await mcp.error("respond_to_reservation", reservation=confirmed, action="confirm")
        already_canceled = await mcp.error(
            "respond_to_reservation", reservation=canceled, action="cancel", cancel_reason="customer"
        )
        unknown_plan = await mcp.error("respond_to_reservation", reservation=first, action="confirm", plan_id="nope")
        day = str(date.today() + timedelta(days=30))
        calendar_plan = await mcp.ok(
            "update_calendar", changes=[{"room": "DLXDBL", "start_date": day, "end_date": day, "price": "150"}]
        )
        wrong_kind = await mcp.error(
            "respond_to_reservation", reservation=first, action="confirm", plan_id=calendar_plan["plan_id"]
        )

    assert "previewed for booking" in other_booking and first in other_booking
    assert "previewed to confirm" in other_action
    assert "does not await" in not_awaiting and "confirmed" in not_awaiting
    assert "already canceled" in already_canceled
    assert "unknown plan id" in unknown_plan
    assert "calendar plan" in wrong_kind
    assert [r for r in upstream(sandbox) if r.path == FIRE] == []
    assert sandbox.control.reservation(first)["state"] == "reserved"


async def test_a_plan_previewed_before_the_booking_changed_is_refused(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    number = reserved_booking(sandbox)
    async with connect(roomy_settings) as mcp:
        await warm(mcp, sandbox)
        plan = (await mcp.ok("respond_to_reservation", reservation=number, action="confirm"))["plan_id"]
        sandbox.control.modify_booking(number, nights=4)  # the guest changes the stay...
        await mcp.ok("get_reservations", number=number, refresh=True)  # ...and the mirror learns it
        sandbox.control.clear_requests()
        refused = await mcp.error("respond_to_reservation", reservation=number, action="confirm", plan_id=plan)

    assert "changed since" in refused and upstream(sandbox) == []


async def test_hotelrunner_refusing_the_state_change_says_the_current_state(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    number = reserved_booking(sandbox)
    async with connect(roomy_settings) as mcp:
        await warm(mcp, sandbox)
        plan = (await mcp.ok("respond_to_reservation", reservation=number, action="confirm"))["plan_id"]
        sandbox.control.cancel_booking(number)  # the guest cancels; no push reaches this server
        refused = await mcp.error("respond_to_reservation", reservation=number, action="confirm", plan_id=plan)
        after = await mcp.ok("get_reservations", number=number)

    assert "state_change_is_not_available" in refused and "canceled" in refused
    fires = [r for r in upstream(sandbox) if r.path == FIRE]
    assert len(fires) == 1, "never retried"
    assert after["reservations"][0]["state"] == "canceled", "the lookup after the refusal updated the mirror"


# --------------------------------------------------------------------------- a client that can ask the person


@asynccontextmanager
async def connect_asking(
    settings: Settings, answer: str, seen: list[ElicitRequestParams], mode: str = "auto"
) -> AsyncIterator[Session]:
    """A session whose client supports form elicitation and answers `answer` (accept-yes, accept-no,
    decline, cancel) to every question, keeping what it was asked. mode="legacy": the 2025 protocol,
    where the question is a request in the middle of the call rather than a round of the call."""

    async def person(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        seen.append(params)
        if answer.startswith("accept"):
            return ElicitResult(action="accept", content={"send": answer == "accept-yes"})
        return ElicitResult(action=answer)  # type: ignore[arg-type]

    client = Client(
        build_server(settings),
        client_info=Implementation(name="pytest-asking", version="1"),
        elicitation_callback=person,
        mode=mode,  # type: ignore[arg-type]
    )
    async with client:
        yield Session(client)


async def _apply_with_person(
    settings: Settings, sandbox: RunningSandbox, answer: str, mode: str = "auto"
) -> tuple[dict[str, Any] | str, list[ElicitRequestParams], str]:
    number = reserved_booking(sandbox, "Sofia Rossi")
    seen: list[ElicitRequestParams] = []
    async with connect_asking(settings, answer, seen, mode) as mcp:
        await warm(mcp, sandbox)
        preview = await mcp.ok("respond_to_reservation", reservation=number, action="confirm")
        assert seen == [], "a preview never asks"
        result = await mcp.call(
            "respond_to_reservation", reservation=number, action="confirm", plan_id=preview["plan_id"]
        )
    return (result.text if result.is_error else result.data or {}), seen, number


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_declined_confirmation_sends_nothing_and_says_so(
    roomy_settings: Settings, sandbox: RunningSandbox, mode: str
) -> None:
    answer, seen, number = await _apply_with_person(roomy_settings, sandbox, "decline", mode)
    assert isinstance(answer, dict)
    assert answer["applied"] is False and answer["declined"] is True and answer["quota_spent"] == 0
    assert "said NO" in answer["next_step"] and "nothing was sent" in answer["next_step"]
    assert len(seen) == 1 and "Sofia Rossi" in seen[0].message and "CONFIRM" in seen[0].message
    assert "cannot" in seen[0].message
    assert [r for r in upstream(sandbox) if r.path == FIRE] == []
    assert sandbox.control.reservation(number)["state"] == "reserved"
    starts = [json.loads(line) for line in roomy_settings.audit_file.read_text().splitlines()]
    applies = [e for e in starts if e.get("tool") == "respond_to_reservation" and e.get("phase") == "start"]
    assert applies[-1]["arguments"]["person"] == "no" and applies[0]["arguments"]["person"] == "not asked"


async def test_a_no_in_the_form_sends_nothing(roomy_settings: Settings, sandbox: RunningSandbox) -> None:
    answer, _, number = await _apply_with_person(roomy_settings, sandbox, "accept-no")
    assert isinstance(answer, dict) and answer["declined"] is True
    assert [r for r in upstream(sandbox) if r.path == FIRE] == []
    assert sandbox.control.reservation(number)["state"] == "reserved"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_yes_from_the_person_confirms(roomy_settings: Settings, sandbox: RunningSandbox, mode: str) -> None:
    answer, seen, number = await _apply_with_person(roomy_settings, sandbox, "accept-yes", mode)
    assert isinstance(answer, dict) and answer["applied"] is True
    assert answer["approved_by"].startswith("the person") and len(seen) == 1
    assert sandbox.control.reservation(number)["state"] == "confirmed"


async def test_a_dismissed_question_keeps_the_plan(roomy_settings: Settings, sandbox: RunningSandbox) -> None:
    answer, _, number = await _apply_with_person(roomy_settings, sandbox, "cancel")
    assert isinstance(answer, str) and "without answering" in answer and "still valid" in answer
    assert sandbox.control.reservation(number)["state"] == "reserved"


async def test_read_only_has_no_respond_tool(settings: Settings) -> None:
    async with connect(settings.with_overrides(read_only=True)) as mcp:
        names = {t.name for t in (await mcp.client.list_tools()).tools}
    assert "respond_to_reservation" not in names and "undo_calendar_change" not in names
    assert "get_channels" in names


async def test_an_answer_interrupted_mid_send_reads_outcome_unknown(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    """A server killed while HotelRunner held the fire request leaves its plan 'applying' under a dead process:
    the plan then reads OUTCOME UNKNOWN, and setup-status lists it with what to check."""
    number = reserved_booking(sandbox)
    async with connect(roomy_settings) as mcp:
        await warm(mcp, sandbox)
        plan = (await mcp.ok("respond_to_reservation", reservation=number, action="confirm"))["plan_id"]
    dead = f"{socket.gethostname()}:{2**22 + 12345}-deadbeef0000"
    with sqlite3.connect(roomy_settings.data_dir / "plans.db") as db:
        db.execute(
            "UPDATE plans SET used_at = ?, outcome = ? WHERE plan_id = ?", (time.time(), "applying:" + dead, plan)
        )
    async with connect(roomy_settings) as mcp:
        again = await mcp.error("respond_to_reservation", reservation=number, action="confirm", plan_id=plan)
        status = json.loads(await mcp.resource("hotelrunner://setup-status"))
    assert "OUTCOME UNKNOWN" in again and "Do not send it again" in again
    (line,) = status["interrupted_booking_answers"]
    assert plan in line and number in line and "refresh=true" in line
    assert "interrupted_calendar_changes" not in status
    assert [r for r in upstream(sandbox) if r.path == FIRE] == []
