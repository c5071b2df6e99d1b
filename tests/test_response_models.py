"""Response models accept every documented HR-v1 variant and dump back to a faithful record."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hotelrunner_mcp.hotelrunner.models import ConnectedChannel, Reservation, Room, Transaction, UpdateResult

NEW_STYLE = {
    "hr_number": "R754208185",
    "provider_number": "4455667788",
    "channel": "bookingcom",
    "state": "reserved",
    "guest": "Amal Idrissi",
    "total": "338.00",
    "sub_total": 338,
    "paid_amount": 0.1,
    "currency": "EUR",
    "completed_at": "2027-03-01T09:00:00Z",
    "updated_at": "2027-03-01T12:00:00+03:00",
    "checkin_date": "2027-04-01",
    "checkout_date": "2027-04-03",
    "message_uid": "m-9",
    "requires_response": True,
    "next_states": ["confirm", "cancel"],
    "address": {"city": "Marrakech", "country": "MA", "zip": "40000"},
    "rooms": [
        {
            "code": "DLXTRP",
            "inv_code": "DLXTRP",
            "price": "169",
            "nights": "2",
            "child_ages": [4],
            "daily_prices": [{"date": "2027-04-01", "price": "169.00"}],
            "extras": [{"name": "Hammam", "price": 25}],
        }
    ],
    "loyalty_tier": "gold",
}


def test_a_reservation_round_trips_through_json() -> None:
    booking = Reservation.model_validate(NEW_STYLE)
    assert booking.total == Decimal("338.00") and booking.paid_amount == Decimal("0.1")
    assert booking.updated_at.utcoffset() == timedelta(hours=3) and booking.completed_at.utcoffset() == timedelta(0)
    assert booking.rooms[0].nights == 2 and booking.rooms[0].extras[0].price == Decimal("25")
    record = booking.model_dump(mode="json")
    assert record["loyalty_tier"] == "gold" and record["address"]["zip"] == "40000"  # unknown fields kept
    assert record["total"] == "338.00"
    assert Reservation.model_validate(record) == booking


def test_older_reservation_shapes() -> None:
    old = {
        **NEW_STYLE,
        "guest": {"first_name": "Amal", "last_name": "Idrissi", "email": "a@example.com"},
        "rooms": {"901": {"availability_group": "DLXTRP", "price": 169.5, "child_ages": "4,7"}},
        "completed_at": "2027-03-01 09:00:00 UTC",
    }
    booking = Reservation.model_validate(old)
    assert (booking.guest, booking.guest_first_name, booking.guest_last_name) == ("Amal Idrissi", "Amal", "Idrissi")
    assert booking.guest_details == {"first_name": "Amal", "last_name": "Idrissi", "email": "a@example.com"}
    room = booking.rooms[0]
    assert (room.line_id, room.inv_code, room.price, room.child_ages) == ("901", "DLXTRP", Decimal("169.5"), [4, 7])
    assert Reservation.model_validate(booking.model_dump(mode="json")) == booking


def test_rooms_old_and_new_names() -> None:
    new = Room.model_validate({"inv_code": "FAMSTE", "rate_code": "NR:FAMSTE", "channel_codes": ["online"]})
    old = Room.model_validate({"availability_group": "FAMSTE", "code": "NR:FAMSTE", "channel_codes": "online"})
    assert (old.inv_code, old.rate_code, old.channel_codes) == (new.inv_code, new.rate_code, new.channel_codes)
    assert new.non_refundable
    with pytest.raises(ValidationError):
        Room.model_validate({"name": "no inventory code"})


def test_update_results_and_infos() -> None:
    partial = UpdateResult.model_validate({"status": "ok", "transaction_id": 123, "errors": "FAMSTE refused"})
    assert partial.partial and partial.transaction_id == "123" and partial.errors == ["FAMSTE refused"]
    assert not UpdateResult.model_validate({"status": "try_again"}).ok
    transaction = Transaction.model_validate(
        {
            "id": 5,
            "counts": {"failed": "1"},
            "details": [
                {
                    "allocation_group": "8833301",
                    "channel_code": "bookingcom",
                    "state": "failed",
                    "error_message": "too low",
                }
            ],
        }
    )
    # allocation_group is the channel's own room id, never one of our inv_codes
    assert transaction.counts.failed == 1 and transaction.details[0].allocation_group == "8833301"
    assert ConnectedChannel.model_validate({"code": "expedia", "succeeded": 3}).succeeded == 3


def test_non_refundable_is_read_from_a_code_part_not_any_letters() -> None:
    from hotelrunner_mcp.hotelrunner.models import is_non_refundable

    assert is_non_refundable("NR:DLXTRP") and is_non_refundable("dlx_nr") and is_non_refundable("NR")
    assert not is_non_refundable("DINNER") and not is_non_refundable("BAR") and not is_non_refundable(None)


def test_the_calendar_fields_are_defined_once() -> None:
    from hotelrunner_mcp.hotelrunner.models import CALENDAR_FIELDS, CalendarValues

    assert tuple(CalendarValues.model_fields) == CALENDAR_FIELDS
