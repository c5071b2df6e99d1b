"""GET /reservations filters and pages as documented; acknowledge and fire follow HotelRunner."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from tests.sandbox.conftest import HR

EVERYTHING = {"undelivered": "false", "from_date": "2000-01-01"}


def today() -> date:
    return date.today()


def test_seed_has_a_month_of_varied_bookings(hr: HR) -> None:
    held = hr.sandbox.control.reservations()
    assert len(held) >= 80
    states = {r["state"] for r in held}
    assert states == {"reserved", "confirmed", "canceled"}
    assert any(r["modified"] for r in held)
    assert any(len(r["rooms"]) > 1 for r in held)
    assert any(r["extras_total"] > 0 for r in held) and any(r["note"] for r in held)
    assert {r["channel"] for r in held} == {"bookingcom", "expedia", "online"}
    for r in held:
        booked = date.fromisoformat(r["completed_at"][:10])
        assert today() - timedelta(days=31) <= booked <= today()
        assert date.fromisoformat(r["checkin_date"]) <= today() + timedelta(days=120)
        assert r["total"] == pytest.approx(r["sub_total"] + r["extras_total"] + r["adjustments_total"] + r["tax_total"])
        assert r["completed_at"].endswith("Z") and r["updated_at"].endswith("Z")


def test_default_listing_is_undelivered_of_the_last_10_days_oldest_first(hr: HR) -> None:
    page = hr.reservations(per_page=50)
    cutoff = (today() - timedelta(days=10)).isoformat()
    expected = [
        r["hr_number"] for r in hr.sandbox.control.reservations(undelivered=True) if r["completed_at"][:10] >= cutoff
    ]
    assert [r["hr_number"] for r in page["reservations"]] == expected
    assert page["count"] == len(expected) > 0
    stamps = [r["completed_at"] for r in page["reservations"]]
    assert stamps == sorted(stamps)


def test_from_date_filters_by_booking_date(hr: HR) -> None:
    everything = hr.reservations(**EVERYTHING)
    assert everything["count"] == len(hr.sandbox.control.reservations())
    old = hr.sandbox.control.create_booking()
    assert hr.reservations(**EVERYTHING)["count"] == everything["count"] + 1
    recent = hr.reservations(undelivered="false", from_date=today().isoformat())
    assert old["hr_number"] in [r["hr_number"] for r in recent["reservations"]]
    assert all(r["completed_at"][:10] == today().isoformat() for r in recent["reservations"])


def test_pagination_edges(hr: HR) -> None:
    count = hr.reservations(**EVERYTHING, per_page=1)["count"]
    first = hr.reservations(**EVERYTHING, per_page=7, page=1)
    assert (first["current_page"], first["pages"], len(first["reservations"])) == (1, math.ceil(count / 7), 7)
    last_page = first["pages"]
    last = hr.reservations(**EVERYTHING, per_page=7, page=last_page)
    assert len(last["reservations"]) == count - 7 * (last_page - 1)
    beyond = hr.reservations(**EVERYTHING, per_page=7, page=last_page + 1)
    assert beyond["reservations"] == [] and beyond["count"] == count
    pages = [hr.reservations(**EVERYTHING, per_page=25, page=p)["reservations"] for p in range(1, math.ceil(count / 25) + 1)]
    seen = [r["hr_number"] for page in pages for r in page]
    assert len(seen) == len(set(seen)) == count
    default = hr.reservations(**EVERYTHING)
    assert len(default["reservations"]) == 10 and default["current_page"] == 1


def test_per_page_is_capped_at_50(hr: HR) -> None:
    big = hr.reservations(**EVERYTHING, per_page=500)
    assert len(big["reservations"]) == 50
    assert big["pages"] == math.ceil(big["count"] / 50)


@pytest.mark.parametrize("params", [{"per_page": "0"}, {"page": "0"}, {"per_page": "ten"}, {"from_date": "yesterday"}, {"undelivered": "maybe"}])
def test_bad_listing_parameters_are_422(hr: HR, params: dict[str, str]) -> None:
    response = hr.get("/reservations", **params)
    assert response.status_code == 422
    assert response.json()["status"] == "error"


def test_empty_listing(hr: HR) -> None:
    empty = hr.reservations(from_date=(today() + timedelta(days=1)).isoformat())
    assert (empty["reservations"], empty["count"], empty["pages"]) == ([], 0, 0)


def test_reservation_number_finds_by_hr_or_channel_number(hr: HR) -> None:
    booking = [r for r in hr.sandbox.control.reservations() if r["channel"] == "bookingcom"][0]
    for number in (booking["hr_number"], booking["provider_number"]):
        found = hr.reservations(reservation_number=number)["reservations"]
        assert [r["hr_number"] for r in found] == [booking["hr_number"]]
    assert hr.reservations(reservation_number="R000")["count"] == 0


def test_acknowledging_removes_from_the_default_listing(hr: HR) -> None:
    waiting = hr.reservations(per_page=50)["reservations"]
    target = waiting[0]
    ack = hr.put("/reservations/~", form={"message_uid": target["message_uid"], "pms_number": "PMS-1"})
    assert ack.status_code == 200 and ack.json() == {"status": "ok"}
    after = [r["hr_number"] for r in hr.reservations(per_page=50)["reservations"]]
    assert target["hr_number"] not in after and len(after) == len(waiting) - 1
    assert hr.sandbox.control.reservation(target["hr_number"])["pms_number"] == "PMS-1"
    assert target["hr_number"] in [r["hr_number"] for r in hr.reservations(**EVERYTHING, per_page=50)["reservations"]] + [
        r["hr_number"] for r in hr.reservations(**EVERYTHING, per_page=50, page=2)["reservations"]
    ]


def test_acknowledge_errors(hr: HR) -> None:
    assert hr.put("/reservations/~", form={"message_uid": "nope"}).status_code == 404
    assert hr.put("/reservations/~", form={}).status_code == 400


def test_a_modification_comes_back_undelivered_and_modified(hr: HR) -> None:
    control = hr.sandbox.control
    booking = control.create_booking(inv_code="SUITE", checkin=today() + timedelta(days=40), nights=2)
    hr.put("/reservations/~", form={"message_uid": booking["message_uid"]})
    assert hr.reservations(modified="true", reservation_number=booking["hr_number"])["count"] == 1  # number wins
    assert booking["hr_number"] not in [r["hr_number"] for r in hr.reservations(modified="true", per_page=50)["reservations"]]
    changed = control.modify_booking(booking["hr_number"], nights=3)
    assert changed["message_uid"] != booking["message_uid"] and changed["modified"] is True
    assert changed["total"] > booking["total"]
    listed = hr.reservations(modified="true", per_page=50)["reservations"]
    assert booking["hr_number"] in [r["hr_number"] for r in listed]
    assert all(r["modified"] for r in listed)
    since = hr.reservations(undelivered="false", from_last_update_date=today().isoformat(), per_page=50)["reservations"]
    assert booking["hr_number"] in [r["hr_number"] for r in since]


def test_a_guest_cancellation_frees_the_room_and_is_redelivered(hr: HR) -> None:
    control = hr.sandbox.control
    checkin = today() + timedelta(days=60)
    before = control.calendar("PRESTE", checkin)["availability"]
    booking = control.create_booking(inv_code="PRESTE", checkin=checkin, nights=1)
    assert control.calendar("PRESTE", checkin)["availability"] == before - 1
    canceled = control.cancel_booking(booking["hr_number"], "customer")
    assert (canceled["state"], canceled["cancel_reason"]) == ("canceled", "customer")
    assert control.calendar("PRESTE", checkin)["availability"] == before
    assert booking["hr_number"] in [r["hr_number"] for r in hr.reservations(per_page=50)["reservations"]]


def fire(hr: HR, **form: str) -> tuple[int, dict[str, object]]:
    response = hr.put("/reservations/fire", form=form)
    return response.status_code, response.json()


def test_confirming_a_reserved_booking_then_again_fails(hr: HR) -> None:
    booking = hr.sandbox.control.create_booking(channel="online")
    assert (booking["state"], booking["requires_response"], booking["next_states"]) == ("reserved", True, ["confirm", "cancel"])
    assert fire(hr, hr_number=booking["hr_number"], event="confirm") == (200, {"status": "ok"})
    after = hr.sandbox.control.reservation(booking["hr_number"])
    assert (after["state"], after["requires_response"], after["next_states"]) == ("confirmed", False, [])
    status, body = fire(hr, hr_number=booking["hr_number"], event="confirm")
    assert (status, body["status"], body["code"]) == (422, "error", "state_change_is_not_available")
    status, body = fire(hr, hr_number=booking["hr_number"], event="cancel", cancel_reason="customer")
    assert body["code"] == "state_change_is_not_available"


def test_cancelling_a_reserved_booking_frees_the_room(hr: HR) -> None:
    control = hr.sandbox.control
    checkin = today() + timedelta(days=70)
    before = control.calendar("DLXKNG", checkin)["availability"]
    booking = control.create_booking(inv_code="DLXKNG", checkin=checkin, channel="online")
    assert fire(hr, hr_number=booking["hr_number"], event="cancel", cancel_reason="no_room")[0] == 200
    after = control.reservation(booking["hr_number"])
    assert (after["state"], after["cancel_reason"], after["next_states"]) == ("canceled", "no_room", [])
    assert control.calendar("DLXKNG", checkin)["availability"] == before
    assert fire(hr, hr_number=booking["hr_number"], event="cancel", cancel_reason="no_room")[1]["code"] == "state_change_is_not_available"


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"event": "confirm"}, 400),
        ({"hr_number": "R1", "event": "confirm"}, 404),
        ({"hr_number": "{reserved}", "event": "explode"}, 422),
        ({"hr_number": "{reserved}", "event": "cancel"}, 400),
        ({"hr_number": "{reserved}", "event": "cancel", "cancel_reason": "bored"}, 422),
    ],
)
def test_fire_refusals(hr: HR, form: dict[str, str], status: int) -> None:
    booking = hr.sandbox.control.create_booking(channel="online")
    form = {k: v.replace("{reserved}", str(booking["hr_number"])) for k, v in form.items()}
    assert fire(hr, **form)[0] == status
    assert hr.sandbox.control.reservation(booking["hr_number"])["state"] == "reserved"


def test_no_booking_without_a_free_room(hr: HR) -> None:
    from hotelrunner_mcp.sandbox import SandboxError

    control = hr.sandbox.control
    checkin = today() + timedelta(days=100)
    free = control.calendar("FAMSTE", checkin)["availability"]
    for _ in range(int(free)):  # type: ignore[call-overload]
        control.create_booking(inv_code="FAMSTE", checkin=checkin, nights=1)
    with pytest.raises(SandboxError, match="No FAMSTE room left"):
        control.create_booking(inv_code="FAMSTE", checkin=checkin, nights=1)


def test_seeded_amounts_add_up(hr) -> None:
    """Every seeded booking's total is its parts, and nobody paid more than the total."""
    from decimal import Decimal

    first = hr.reservations(undelivered="false", per_page=50, from_date="2000-01-01")
    listed = [r for page in range(1, first["pages"] + 1)
              for r in hr.reservations(undelivered="false", per_page=50, from_date="2000-01-01", page=page)["reservations"]]
    assert len(listed) == first["count"] >= 80
    for r in listed:
        parts = sum(Decimal(str(r[k])) for k in ("sub_total", "extras_total", "adjustments_total", "tax_total"))
        assert Decimal(str(r["total"])) == parts, r["hr_number"]
        assert Decimal(str(r["paid_amount"])) <= Decimal(str(r["total"])), r["hr_number"]
