"""PUT /rooms/~ and PUT /rooms/daily change the calendar the way HotelRunner documents;
refusals are 400/422 with a JSON body; transaction_details tells which channel accepted."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.conftest import HR

FAR = date(2030, 3, 1)  # a Friday, far from seed bookings


def put_range(hr: HR, **form: Any) -> Any:
    return hr.put("/rooms/~", form={"start_date": FAR.isoformat(), "end_date": FAR.isoformat(), **form})


def daily(hr: HR, rooms: list[dict[str, Any]]) -> Any:
    return hr.put("/rooms/daily", json={"rooms": rooms})


def dates(count: int, **values: Any) -> list[dict[str, Any]]:
    return [{"date": (FAR + timedelta(days=i)).isoformat(), **values} for i in range(count)]


def test_range_update_sets_values_and_returns_transaction(hr: HR) -> None:
    response = put_range(hr, inv_code="DLXDBL", end_date="2030-03-03", price="171.50", min_stay=2, cta=1)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["transaction_id"].isdigit()
    for offset in range(3):
        day = hr.sandbox.control.calendar("DLXDBL", FAR + timedelta(days=offset))
        assert (day["price"], day["min_stay"], day["cta"], day["stop_sale"]) == (Decimal("171.50"), 2, 1, 0)
    assert hr.sandbox.control.calendar("DLXDBL", "2030-03-04")["price"] == Decimal("159")


def test_values_not_sent_are_not_changed(hr: HR) -> None:
    put_range(hr, inv_code="SUITE", price="200", stop_sale=1)
    put_range(hr, inv_code="SUITE", min_stay=3)
    day = hr.sandbox.control.calendar("SUITE", FAR)
    assert (day["price"], day["stop_sale"], day["min_stay"]) == (Decimal("200"), 1, 3)


def test_days_filter_touches_only_those_weekdays(hr: HR) -> None:
    # 2030-03-01 is a Friday (5); Sunday = 0 ... Saturday = 6
    put_range(hr, inv_code="SUITE", end_date="2030-03-07", **{"days[]": ["5", "6"]}, stop_sale=1)
    closed = [d for d in range(7) if hr.sandbox.control.calendar("SUITE", FAR + timedelta(days=d))["stop_sale"] == 1]
    assert closed == [0, 1]  # Friday 1st and Saturday 2nd


def test_channel_codes_limit_the_change_to_those_channels(hr: HR) -> None:
    put_range(hr, inv_code="SUITE", price="150", **{"channel_codes[]": ["online"]})
    day = hr.sandbox.control.calendar("SUITE", FAR)
    assert day["price"] is None  # channels now disagree
    assert day["channels"]["online"]["price"] == Decimal("150")
    assert day["channels"]["bookingcom"]["price"] == Decimal("179")


def test_nr_rate_follows_its_master_and_refuses_direct_changes(hr: HR) -> None:
    put_range(hr, inv_code="DBLSUP", price="160")
    assert hr.sandbox.control.calendar("DBLSUP", FAR, rate_code="DBLSUP-NR")["price"] == Decimal("144.00")
    for field in ({"price": "100"}, {"availability": 1}, {"stop_sale": 1}):
        refused = put_range(hr, inv_code="DBLSUP", rate_code="DBLSUP-NR", **field)
        assert refused.status_code == 422
        assert refused.json()["code"] == "field_not_updatable"
        assert "DBLSUP-BAR" in refused.json()["message"]


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"inv_code": "NOPE", "price": "100"}, 422, "unknown_inv_code"),
        ({"inv_code": "SUITE", "rate_code": "DBLSUP-BAR", "price": "100"}, 422, "unknown_rate_code"),
        ({"inv_code": "SUITE", "end_date": "2030-02-28", "price": "100"}, 422, "invalid_date_range"),
        ({"inv_code": "SUITE", "start_date": "01/03/2030", "price": "100"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "price": "-5"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "price": "12.345"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "availability": "-1"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "stop_sale": "2"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "min_stay": "0"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "min_stay": "4", "max_stay": "2"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "days[]": ["7"], "price": "100"}, 422, "invalid_parameter"),
        ({"inv_code": "SUITE", "channel_codes[]": ["airbnb"], "price": "100"}, 422, "unknown_channel"),
        ({"inv_code": "SUITE"}, 422, "nothing_to_update"),
        ({"price": "100"}, 400, "missing_parameter"),
    ],
)
def test_range_update_refusals(hr: HR, form: dict[str, Any], status: int, code: str) -> None:
    response = put_range(hr, **form)
    assert response.status_code == status, response.text
    assert response.json()["status"] == "error"
    assert response.json()["code"] == code
    assert hr.sandbox.control.calendar("SUITE", FAR)["price"] == Decimal("179")


def test_missing_dates_are_400(hr: HR) -> None:
    response = hr.put("/rooms/~", form={"inv_code": "SUITE", "start_date": "2030-03-01", "price": "100"})
    assert response.status_code == 400
    assert "end_date" in response.json()["message"]


def test_daily_applies_explicit_dates_in_one_call(hr: HR) -> None:
    response = daily(hr, [
        {"inv_code": "FAMSTE", "dates": [{"date": "2030-03-01", "price": 210, "availability": 1}, {"date": "2030-03-05", "stop_sale": 1}]},
        {"inv_code": "SUITE", "channel_codes": ["expedia"], "dates": [{"date": "2030-03-02", "ctd": 1}]},
    ])
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert "errors" not in response.json()
    first = hr.sandbox.control.calendar("FAMSTE", "2030-03-01")
    assert (first["price"], first["availability"]) == (Decimal("210"), 1)
    assert hr.sandbox.control.calendar("FAMSTE", "2030-03-05")["stop_sale"] == 1
    assert hr.sandbox.control.calendar("FAMSTE", "2030-03-02")["price"] == Decimal("189")
    suite = hr.sandbox.control.calendar("SUITE", "2030-03-02")["channels"]
    assert (suite["expedia"]["ctd"], suite["bookingcom"]["ctd"]) == (1, 0)


def test_daily_accepts_90_dates_and_refuses_91(hr: HR) -> None:
    accepted = daily(hr, [{"inv_code": "SUITE", "dates": dates(90, price=199)}])
    assert accepted.status_code == 200
    assert hr.sandbox.control.calendar("SUITE", FAR + timedelta(days=89))["price"] == Decimal("199")
    refused = daily(hr, [{"inv_code": "DLXDBL", "dates": dates(91, price=150)}])
    assert refused.status_code == 422
    assert refused.json()["code"] == "too_many_dates"
    assert "90" in refused.json()["message"]
    assert hr.sandbox.control.calendar("DLXDBL", FAR)["price"] == Decimal("159")


def test_daily_reports_refused_rooms_and_applies_the_others(hr: HR) -> None:
    response = daily(hr, [
        {"inv_code": "SUITE", "dates": [{"date": "2030-03-01", "price": 185}]},
        {"inv_code": "GHOST", "dates": [{"date": "2030-03-01", "price": 185}]},
    ])
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert [(e["index"], e["inv_code"], e["code"]) for e in errors] == [(1, "GHOST", "unknown_inv_code")]
    assert hr.sandbox.control.calendar("SUITE", FAR)["price"] == Decimal("185")


@pytest.mark.parametrize(
    ("rooms", "code"),
    [
        ([{"inv_code": "GHOST", "dates": [{"date": "2030-03-01", "price": 100}]}], "unknown_inv_code"),
        ([{"inv_code": "SUITE", "rate_code": "SUITE-NR", "dates": [{"date": "2030-03-01", "price": 100}]}], "field_not_updatable"),
        ([{"inv_code": "SUITE", "dates": [{"date": "2030-13-01", "price": 100}]}], "invalid_parameter"),
        ([{"inv_code": "SUITE", "dates": [{"date": "2030-03-01"}]}], "invalid_parameter"),
        ([], "invalid_parameter"),
    ],
)
def test_daily_refusals_when_nothing_is_valid(hr: HR, rooms: list[dict[str, Any]], code: str) -> None:
    response = daily(hr, rooms)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


def test_daily_without_json_body_is_400(hr: HR) -> None:
    assert hr.put("/rooms/daily", form={"rooms": "x"}).status_code == 400
    broken = hr.http.put("/rooms/daily", params=hr.auth, content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_json"


def test_transaction_details_show_each_channel(hr: HR) -> None:
    transaction_id = put_range(hr, inv_code="SUITE", price="170").json()["transaction_id"]
    transaction = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]
    assert transaction["id"] == transaction_id
    assert transaction["counts"] == {"failed": 0, "succeeded": 3, "in_progress": 0}
    assert {d["channel_code"] for d in transaction["details"]} == {"bookingcom", "expedia", "online"}
    assert all(d["inv_code"] == "SUITE" and d["code"] == "SUITE-BAR" for d in transaction["details"])


def test_a_channel_below_its_price_floor_fails_and_keeps_its_price(hr: HR) -> None:
    hr.sandbox.control.set_channel_price_floor("expedia", Decimal("100"))
    transaction_id = put_range(hr, inv_code="SUITE", price="90").json()["transaction_id"]
    details = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]
    assert details["counts"] == {"failed": 1, "succeeded": 2, "in_progress": 0}
    failed = [d for d in details["details"] if d["state"] == "failed"]
    assert failed[0]["channel_code"] == "expedia" and "100" in failed[0]["error_message"]
    channels = hr.sandbox.control.calendar("SUITE", FAR)["channels"]
    assert (channels["expedia"]["price"], channels["bookingcom"]["price"]) == (Decimal("179"), Decimal("90"))


def test_a_failing_channel_fails_every_job(hr: HR) -> None:
    hr.sandbox.control.set_channel_failure("bookingcom", "Room not mapped on Booking.com")
    transaction_id = put_range(hr, inv_code="SUITE", stop_sale=1).json()["transaction_id"]
    details = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]["details"]
    assert {d["channel_code"]: d["error_message"] for d in details if d["state"] == "failed"} == {"bookingcom": "Room not mapped on Booking.com"}


def test_bookings_reduce_availability_until_it_is_set(hr: HR) -> None:
    control = hr.sandbox.control
    assert control.calendar("DLXTRP", FAR)["availability"] == 3
    control.create_booking(inv_code="DLXTRP", checkin=FAR, nights=2)
    assert control.calendar("DLXTRP", FAR)["availability"] == 2
    put_range(hr, inv_code="DLXTRP", availability=1)
    assert control.calendar("DLXTRP", FAR)["availability"] == 1
    booking = control.create_booking(inv_code="DLXTRP", checkin=FAR, nights=1)
    assert control.calendar("DLXTRP", FAR)["availability"] == 0
    control.cancel_booking(str(booking["hr_number"]))
    assert control.calendar("DLXTRP", FAR)["availability"] == 1


def test_a_slow_channel_reads_in_progress_until_it_settles(hr: HR) -> None:
    hr.sandbox.control.set_channel_delay("bookingcom", 30)
    transaction_id = put_range(hr, inv_code="SUITE", price="170").json()["transaction_id"]
    transaction = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]
    assert transaction["counts"] == {"failed": 0, "succeeded": 2, "in_progress": 1}
    assert [d["channel_code"] for d in transaction["details"] if d["state"] == "in_progress"] == ["bookingcom"]
    hr.sandbox.control.set_channel_delay("expedia", 0)
    settled = put_range(hr, inv_code="SUITE", price="171").json()["transaction_id"]
    counts = hr.get("/infos/transaction_details", transaction_id=settled).json()["transaction"]["counts"]
    assert counts["in_progress"] == 1  # bookingcom still slow; expedia with 0 s settles at once
