"""GET /reservations filters and pages as documented; acknowledge and fire follow HotelRunner."""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest

from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox

from .conftest import HR

EVERYTHING = {"undelivered": "false", "from_date": "2000-01-01"}
HR_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+03:00$")
RESERVATION_FIELDS = [
    "reservation_id",
    "hr_number",
    "provider_number",
    "pms_number",
    "channel",
    "channel_display",
    "source_display",
    "state",
    "modified",
    "total_guests",
    "total_rooms",
    "guest",
    "firstname",
    "lastname",
    "country",
    "guest_national_id",
    "guest_is_citizen",
    "cancel_reason",
    "completed_at",
    "updated_at",
    "sub_total",
    "extras_total",
    "adjustments_total",
    "tax_total",
    "item_total",
    "total",
    "currency",
    "checkin_date",
    "checkout_date",
    "note",
    "payment",
    "payment_details",
    "paid_amount",
    "pms_version_generated",
    "address",
    "billing_address",
    "rooms",
    "payments",
    "message_uid",
]
LINE_FIELDS = [
    "id",
    "state",
    "code",
    "number",
    "voucher_number",
    "availability_group",
    "rate_code",
    "rate_plan_code",
    "inv_code",
    "non_refundable",
    "price",
    "total",
    "nights",
    "meal_plan",
    "meal_plan_presentation",
    "total_guest",
    "total_adult",
    "child_ages",
    "name",
    "name_presentation",
    "checkin_date",
    "checkout_date",
    "daily_prices",
    "extras",
    "extras_total",
    "included_taxes_total",
    "room_base_price",
    "room_sub_total",
    "comments",
]


def today() -> date:
    """Today on HotelRunner's clock (+03:00), which the listing windows use."""
    return datetime.now(timezone(timedelta(hours=3))).date()


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
        assert HR_STAMP.match(r["completed_at"]) and HR_STAMP.match(r["updated_at"])


def test_reservations_have_the_2026_object(hr: HR) -> None:
    held = hr.reservations(**EVERYTHING, per_page=50)["reservations"]
    assert all(list(r) == RESERVATION_FIELDS for r in held)  # no next_states, no requires_response
    assert all(list(line) == LINE_FIELDS for r in held for line in r["rooms"])
    for r in held:
        assert r["item_total"] == str(round(r["sub_total"] + r["extras_total"], 2))
        assert r["total_rooms"] == len(r["rooms"]) and r["total_guests"] == sum(
            line["total_guest"] for line in r["rooms"]
        )
        assert (
            r["channel_display"]
            == {"bookingcom": "Booking.com", "expedia": "Expedia Inc.", "online": "Online"}[r["channel"]]
        )
        assert (r["provider_number"] is None) == (r["channel"] == "online")
        assert r["address"]["country_code"] == r["country"] and r["address"]["country"].endswith(f"({r['country']})")
        assert {"postal_code", "street_2"} <= r["address"].keys() and r["billing_address"]["lastname"] == r["lastname"]
        assert all(isinstance(p["amount"], str) for p in r["payments"])
        for line in r["rooms"]:
            assert (
                line["code"] == line["rate_code"] == line["rate_plan_code"]
                and line["availability_group"] == line["inv_code"]
            )
            assert line["rate_code"] in (line["inv_code"], f"NR:{line['inv_code']}", f"HB:{line['inv_code']}")
            assert line["non_refundable"] == line["rate_code"].startswith("NR:")
            assert line["meal_plan"] == ("half-board" if line["rate_code"].startswith("HB:") else "bed-breakfast")
            assert line["voucher_number"] == r["hr_number"]
            assert sum(e["price"] for e in line["extras"] if e.get("is_extra")) == pytest.approx(line["extras_total"])
    lines = [line["rate_code"] for r in hr.sandbox.control.reservations() for line in r["rooms"]]
    assert any(c.startswith("NR:") for c in lines) and any(c.startswith("HB:") for c in lines) and "HR:99" not in lines


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


@pytest.mark.parametrize("value", ["0", "1", "yes", "no", "TRUE", "False", "maybe"])
def test_only_true_and_false_mean_anything_in_booleans(hr: HR, value: str) -> None:
    default = [r["hr_number"] for r in hr.reservations(per_page=50)["reservations"]]
    assert [r["hr_number"] for r in hr.reservations(per_page=50, undelivered=value)["reservations"]] == default
    assert [
        r["hr_number"] for r in hr.reservations(per_page=50, modified=value, booked=value)["reservations"]
    ] == default
    everything = hr.reservations(per_page=50, undelivered="false")
    assert everything["count"] > len(default)
    assert all(
        r["modified"] for r in hr.reservations(per_page=50, modified="true", undelivered="false")["reservations"]
    )


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
    pages = [
        hr.reservations(**EVERYTHING, per_page=25, page=p)["reservations"] for p in range(1, math.ceil(count / 25) + 1)
    ]
    seen = [r["hr_number"] for page in pages for r in page]
    assert len(seen) == len(set(seen)) == count
    default = hr.reservations(**EVERYTHING)
    assert len(default["reservations"]) == 10 and default["current_page"] == 1


def test_per_page_is_capped_at_50(hr: HR) -> None:
    big = hr.reservations(**EVERYTHING, per_page=500)
    assert len(big["reservations"]) == 50
    assert big["pages"] == math.ceil(big["count"] / 50)


@pytest.mark.parametrize("params", [{"per_page": "0"}, {"page": "0"}, {"per_page": "ten"}, {"from_date": "yesterday"}])
def test_bad_listing_parameters_are_422(hr: HR, params: dict[str, str]) -> None:
    response = hr.get("/reservations", **params)
    assert response.status_code == 422
    assert response.json()["status"] == "error"


def test_empty_listing(hr: HR) -> None:
    empty = hr.reservations(from_date=(today() + timedelta(days=1)).isoformat())
    assert (empty["reservations"], empty["count"], empty["pages"]) == ([], 0, 0)


def test_a_direct_booking_has_no_provider_number(hr: HR) -> None:
    booking = hr.sandbox.control.create_booking(channel="online", checkin="2030-06-01")
    assert (booking["provider_number"], booking["channel"], booking["channel_display"]) == (None, "online", "Online")
    assert hr.reservations(reservation_number=booking["hr_number"])["count"] == 1


def test_reservation_number_finds_by_hr_or_channel_number(hr: HR) -> None:
    booking = next(r for r in hr.sandbox.control.reservations() if r["channel"] == "bookingcom")
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
    assert target["hr_number"] in [
        r["hr_number"] for r in hr.reservations(**EVERYTHING, per_page=50)["reservations"]
    ] + [r["hr_number"] for r in hr.reservations(**EVERYTHING, per_page=50, page=2)["reservations"]]


def test_acknowledge_errors(hr: HR) -> None:
    assert hr.put("/reservations/~", form={"message_uid": "nope"}).status_code == 404
    assert hr.put("/reservations/~", form={}).status_code == 400


def test_acknowledge_can_be_not_enabled_which_is_a_403_with_good_credentials(hr: HR) -> None:
    target = hr.reservations()["reservations"][0]
    hr.sandbox.control.set_ack_enabled(False)
    refused = hr.put("/reservations/~", form={"message_uid": target["message_uid"]})
    assert refused.status_code == 403
    assert refused.json() == {
        "status": "error",
        "message": "This endpoint is not enabled for your app. Please contact HotelRunner.",
    }
    assert hr.get("/rooms").status_code == 200  # the same credentials still work everywhere else
    assert hr.sandbox.control.reservation(target["hr_number"]) == target  # nothing acknowledged
    hr.sandbox.control.set_ack_enabled(True)
    assert hr.put("/reservations/~", form={"message_uid": target["message_uid"]}).json() == {"status": "ok"}


def test_acknowledge_switch_via_config_admin_and_reset() -> None:
    with run_sandbox(SandboxConfig(seed=4, ack_enabled=False)) as sb:
        auth = {"token": sb.token, "hr_id": sb.hr_id}
        uid = sb.control.reservations(undelivered=True)[0]["message_uid"]
        assert httpx2.put(sb.base_url + "/reservations/~", params={**auth, "message_uid": uid}).status_code == 403
        admin = {"X-Sandbox-Admin": sb.admin_key}
        assert httpx2.put(sb.admin_url + "/ack", json={"enabled": True}, headers=admin).status_code == 200
        assert httpx2.get(sb.admin_url + "/switches", headers=admin).json()["result"]["ack_enabled"] is True
        assert httpx2.put(sb.base_url + "/reservations/~", params={**auth, "message_uid": uid}).status_code == 200
        assert httpx2.put(sb.admin_url + "/ack", json={"enabled": "yes"}, headers=admin).status_code == 422
        sb.control.reset()
        assert sb.control.switches()["ack_enabled"] is False


def test_verbatim_bodies_for_fire_and_acknowledge(hr: HR) -> None:
    hr.sandbox.control.set_verbatim_bodies(True)
    booking = hr.sandbox.control.create_booking(channel="online", checkin="2030-06-01")
    for response in (
        hr.put("/reservations/fire", form={"hr_number": booking["hr_number"], "event": "confirm"}),
        hr.put("/reservations/~", form={"message_uid": booking["message_uid"]}),
    ):
        assert response.status_code == 200 and response.content == b'{\n"status": "ok",\n}\n'
        with pytest.raises(ValueError):
            json.loads(response.content)
    refused = hr.put("/reservations/fire", form={"hr_number": booking["hr_number"], "event": "confirm"})
    assert refused.json() == {"status": "error", "message": "state_change_is_not_available"}
    hr.sandbox.control.reset()
    assert hr.sandbox.control.switches()["verbatim_bodies"] is False


def test_a_modification_comes_back_undelivered_and_modified(hr: HR) -> None:
    control = hr.sandbox.control
    booking = control.create_booking(inv_code="SUITE", checkin=today() + timedelta(days=40), nights=2)
    hr.put("/reservations/~", form={"message_uid": booking["message_uid"]})
    assert hr.reservations(modified="true", reservation_number=booking["hr_number"])["count"] == 1  # number wins
    assert booking["hr_number"] not in [
        r["hr_number"] for r in hr.reservations(modified="true", per_page=50)["reservations"]
    ]
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


NOT_AVAILABLE = (200, {"status": "error", "message": "state_change_is_not_available"})


def test_confirming_a_reserved_booking_then_again_fails_with_http_200(hr: HR) -> None:
    booking = hr.sandbox.control.create_booking(channel="online")
    assert booking["state"] == "reserved" and "requires_response" not in booking and "next_states" not in booking
    assert fire(hr, hr_number=booking["hr_number"], event="confirm") == (200, {"status": "ok"})
    assert hr.sandbox.control.reservation(booking["hr_number"])["state"] == "confirmed"
    assert fire(hr, hr_number=booking["hr_number"], event="confirm") == NOT_AVAILABLE
    assert fire(hr, hr_number=booking["hr_number"], event="cancel", cancel_reason="customer") == NOT_AVAILABLE


def test_requires_response_only_when_switched_on(hr: HR) -> None:
    booking = hr.sandbox.control.create_booking(channel="online")
    assert "requires_response" not in booking
    hr.sandbox.control.set_requires_response_field(True)
    shown = hr.reservations(reservation_number=booking["hr_number"])["reservations"][0]
    assert shown["requires_response"] is True
    assert list(shown)[list(shown).index("paid_amount") + 1] == "requires_response"
    fire(hr, hr_number=booking["hr_number"], event="confirm")
    assert hr.sandbox.control.reservation(booking["hr_number"])["requires_response"] is False
    with run_sandbox(SandboxConfig(seed=4, requires_response_field=True)) as sb:
        assert all("requires_response" in r for r in sb.control.reservations())


def test_cancelling_a_reserved_booking_frees_the_room(hr: HR) -> None:
    control = hr.sandbox.control
    checkin = today() + timedelta(days=70)
    before = control.calendar("DLXKNG", checkin)["availability"]
    booking = control.create_booking(inv_code="DLXKNG", checkin=checkin, channel="online")
    assert fire(hr, hr_number=booking["hr_number"], event="cancel", cancel_reason="no_room") == (200, {"status": "ok"})
    after = control.reservation(booking["hr_number"])
    assert (after["state"], after["cancel_reason"]) == ("canceled", "no_room")
    assert control.calendar("DLXKNG", checkin)["availability"] == before
    assert fire(hr, hr_number=booking["hr_number"], event="cancel", cancel_reason="no_room") == NOT_AVAILABLE


@pytest.mark.parametrize(
    ("form", "status", "body"),
    [
        ({"event": "confirm"}, 400, None),
        ({"hr_number": "R1", "event": "confirm"}, 404, None),
        ({"hr_number": "{reserved}", "event": "explode"}, 422, None),
        (
            {"hr_number": "{reserved}", "event": "cancel"},
            200,
            {"status": "error", "message": "cancel_reason_is_required"},
        ),
        (
            {"hr_number": "{reserved}", "event": "cancel", "cancel_reason": "bored"},
            200,
            {"status": "error", "message": "invalid_cancel_reason"},
        ),
    ],
)
def test_fire_refusals(hr: HR, form: dict[str, str], status: int, body: dict[str, Any] | None) -> None:
    booking = hr.sandbox.control.create_booking(channel="online")
    form = {k: v.replace("{reserved}", str(booking["hr_number"])) for k, v in form.items()}
    got_status, got_body = fire(hr, **form)
    assert got_status == status
    if body is not None:
        assert got_body == body
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
    listed = [
        r
        for page in range(1, first["pages"] + 1)
        for r in hr.reservations(undelivered="false", per_page=50, from_date="2000-01-01", page=page)["reservations"]
    ]
    assert len(listed) == first["count"] >= 80
    for r in listed:
        parts = sum(Decimal(str(r[k])) for k in ("sub_total", "extras_total", "adjustments_total", "tax_total"))
        assert Decimal(str(r["total"])) == parts, r["hr_number"]
        assert Decimal(str(r["paid_amount"])) <= Decimal(str(r["total"])), r["hr_number"]
