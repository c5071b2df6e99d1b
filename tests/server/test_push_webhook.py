"""HotelRunner's push, end to end: the sandbox POSTs to the receiver over real HTTP (its own server on
the same data folder), and an agent sees exactly the right state through get_reservations and
get_reservation_changes without one upstream request. A running MCP server tells listeners."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest
from mcp.shared.subscriptions import ResourceUpdated

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.gate.audit import read_audit
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.surface import server as app
from hotelrunner_mcp.surface.resources import CHANGES_URI

from .conftest import Session, ShiftedClock, Webhook, connect, run_webhook, upstream, utc_today

CHECKIN = utc_today() + timedelta(days=150)  # past the seed bookings: always a free room


def push(
    sandbox: RunningSandbox, webhook: Webhook, what: str | dict[str, Any], reason: str, duplicates: int = 0
) -> None:
    """HotelRunner pushes a reservation (its current version, or the payload given) and is answered 2xx."""
    handle = sandbox.control.push(what, webhook.callback_url, reason, duplicates=duplicates, retries=0).wait(10)
    assert handle.delivered == 1 + duplicates, handle.to_json()


async def the(mcp: Session, number: str) -> dict[str, Any]:
    answer = await mcp.ok("get_reservations", number=number)
    assert answer["quota_spent"] == 0 and len(answer["reservations"]) == 1
    return answer["reservations"][0]


async def changes_since(mcp: Session, change_id: int) -> list[dict[str, Any]]:
    return (await mcp.ok("get_reservation_changes", since_change_id=change_id))["changes"]


@pytest.fixture
def hotel_webhook(hotel_settings: Settings) -> Iterator[Webhook]:
    with run_webhook(hotel_settings) as running:
        yield running


async def first_sync_only(mcp: Session, sandbox: RunningSandbox) -> None:
    """The session's first question syncs the mirror; after it, pushes alone must keep it right."""
    await mcp.ok("get_reservations", limit=1)
    sandbox.control.clear_requests()


async def test_new_modified_canceled_duplicate_and_late_pushes_leave_the_right_state(
    hotel: RunningSandbox, hotel_clock: ShiftedClock, hotel_settings: Settings, hotel_webhook: Webhook
) -> None:
    sandbox, webhook = hotel, hotel_webhook
    async with connect(hotel_settings) as mcp:
        await first_sync_only(mcp, sandbox)
        start = (await mcp.ok("get_reservation_changes", since_change_id=0, limit=1))["latest_change_id"]

        booked = sandbox.control.create_booking(inv_code="DLXKNG", checkin=CHECKIN, nights=2, guest_name="Jürgen Weiß")
        number = str(booked["hr_number"])
        push(sandbox, webhook, number, "confirm")
        seen = await the(mcp, number)
        assert (seen["guest"], seen["state"], seen["checkout"]) == (
            "Jürgen Weiß",
            "confirmed",
            str(CHECKIN + timedelta(days=2)),
        )
        [new] = await changes_since(mcp, start)
        assert (new["hr_number"], new["kind"], new["source"]) == (number, "new", "push")
        # when HotelRunner changed it (its +03:00 clock, shown in UTC), not when we saw it
        assert datetime.fromisoformat(new["updated_at"]) == datetime.fromisoformat(booked["updated_at"])

        first_version = sandbox.control.reservation(number)
        hotel_clock.advance(minutes=5)
        sandbox.control.modify_booking(number, nights=4)
        push(sandbox, webhook, number, "modify")
        assert (await the(mcp, number))["checkout"] == str(CHECKIN + timedelta(days=4))
        [modified] = await changes_since(mcp, new["change_id"])
        assert modified["kind"] == "updated"
        assert f"checkout_date: {CHECKIN + timedelta(days=2)} → {CHECKIN + timedelta(days=4)}" in modified["changes"]

        hotel_clock.advance(minutes=5)
        sandbox.control.cancel_booking(number)
        push(sandbox, webhook, number, "cancel", duplicates=2)  # HotelRunner's retries can repeat a push
        [canceled] = await changes_since(mcp, modified["change_id"])
        assert "state: confirmed → canceled" in canceled["changes"]

        push(sandbox, webhook, first_version, "confirm")  # an old push arriving late is acknowledged, not applied
        now = await the(mcp, number)
        assert (now["state"], now["checkout"]) == ("canceled", str(CHECKIN + timedelta(days=4)))
        assert await changes_since(mcp, canceled["change_id"]) == []
        assert (await mcp.ok("get_reservations", guest="weiss", state="canceled"))["matching"] == 1

        another = sandbox.control.create_booking(inv_code="SUITE", checkin=CHECKIN, nights=1)
        push(sandbox, webhook, str(another["hr_number"]), "confirm")
        latest = json.loads(await mcp.resource(CHANGES_URI))
        assert len(latest["changes"]) == 50  # the 50 latest, though an ignored late push sits among them
        assert [c["hr_number"] for c in latest["changes"][-2:]] == [number, another["hr_number"]]
    assert upstream(sandbox) == []


async def test_a_cancellation_in_the_same_second_is_not_undone_by_a_late_confirmation(
    hotel: RunningSandbox, hotel_clock: ShiftedClock, hotel_settings: Settings, hotel_webhook: Webhook
) -> None:
    """HotelRunner stamps updated_at to the second; a canceled booking never comes back."""
    hotel_clock.freeze()
    booked = hotel.control.create_booking(inv_code="DLXDBL", checkin=CHECKIN, nights=2, channel="online")
    number = str(booked["hr_number"])
    hotel.control.cancel_booking(number, reason="no_room")
    async with connect(hotel_settings) as mcp:
        await first_sync_only(mcp, hotel)
        push(hotel, hotel_webhook, number, "cancel")
        push(hotel, hotel_webhook, booked, "confirm")
        assert (await the(mcp, number))["state"] == "canceled"
    assert upstream(hotel) == []


async def test_forged_and_malformed_pushes_are_refused_and_store_nothing(
    sandbox: RunningSandbox, roomy_settings: Settings, webhook: Webhook
) -> None:
    genuine = sandbox.control.reservations()[-1]
    forged = {**genuine, "hr_number": "R100000001", "guest": "Mallory Forger", "reason": "confirm"}
    async with connect(roomy_settings) as mcp:
        await first_sync_only(mcp, sandbox)
        latest = (await mcp.ok("get_reservation_changes", since_change_id=0, limit=1))["latest_change_id"]

        wrong_token = webhook.post(json.dumps(forged), token="sbx-not-the-token", hr_id=sandbox.hr_id)
        wrong_hr_id = webhook.post(json.dumps(forged), token=sandbox.token, hr_id="999999")
        assert (wrong_token.status_code, wrong_hr_id.status_code) == (401, 401)

        refusals = {
            "not JSON": ("{'hr_number': 'R1'", 400),
            "no hr_number": (json.dumps({k: v for k, v in forged.items() if k != "hr_number"}), 422),
            "bad checkin date": (json.dumps({**forged, "checkin_date": "next tuesday"}), 422),
            "a list of nothing": (json.dumps({"reservations": []}), 422),
        }
        for name, (data, status) in refusals.items():
            answer = webhook.post(data, token=sandbox.token, hr_id=sandbox.hr_id)
            assert answer.status_code == status, name
            assert answer.json()["status"] == "error" and answer.json()["message"], name
        batch = {"reservations": [forged, {**forged, "hr_number": "R100000002", "total": "a lot"}]}
        half_bad = webhook.post(json.dumps(batch), token=sandbox.token, hr_id=sandbox.hr_id)
        assert half_bad.status_code == 422 and "R100000002" in half_bad.json()["message"]

        assert await changes_since(mcp, latest) == []
        assert (await mcp.ok("get_reservations", guest="mallory"))["matching"] == 0
    assert upstream(sandbox) == []

    audit_text = webhook.audit_file.read_text()
    refused = [r for r in read_audit(webhook.audit_file) if r["event"] == "webhook.refused"]
    assert sorted(r["status"] for r in refused) == [400, 401, 401, 422, 422, 422, 422]
    assert sandbox.token not in audit_text and sandbox.hr_id not in audit_text


async def test_a_running_server_tells_listeners_when_a_push_arrives(
    sandbox: RunningSandbox, roomy_settings: Settings, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "CHANGE_POLL_SECONDS", 0.05)
    booked = sandbox.control.create_booking(inv_code="SUITE", checkin=CHECKIN, nights=3, guest_name="Ana Nuñez")
    async with connect(roomy_settings) as mcp:
        async with mcp.client.listen(resource_subscriptions=[CHANGES_URI]) as subscription:
            push(sandbox, webhook, str(booked["hr_number"]), "confirm")
            with anyio.fail_after(10):
                event = await anext(aiter(subscription))
        assert event == ResourceUpdated(uri=CHANGES_URI)
        changes = json.loads(await mcp.resource(CHANGES_URI))
        assert [c["hr_number"] for c in changes["changes"]][-1] == booked["hr_number"]
    assert upstream(sandbox) == []
