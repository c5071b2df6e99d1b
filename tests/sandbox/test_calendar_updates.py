"""PUT /rooms/~ and PUT /rooms/daily change the calendar the way HotelRunner's examples say:
`room_code` required on /rooms/~, `inv_code` targets the room type and its master rate, a rate
code alone changes only that rate's price (other fields ignored), daily errors in the documented
`[{code: {date: message}}]` shape; transaction_details names rooms only by channel-side ids."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from .conftest import HR

FAR = date(2030, 3, 1)  # a Friday, far from seed bookings


def put_range(hr: HR, **form: Any) -> Any:
    return hr.put("/rooms/~", form={"start_date": FAR.isoformat(), "end_date": FAR.isoformat(), **form})


def room(hr: HR, inv_code: str, **form: Any) -> Any:
    """The documented room-type update: room_code (required) and inv_code."""
    return put_range(hr, room_code=inv_code, inv_code=inv_code, **form)


def daily(hr: HR, rooms: list[dict[str, Any]]) -> Any:
    return hr.put("/rooms/daily", json={"rooms": rooms})


def dates(count: int, **values: Any) -> list[dict[str, Any]]:
    return [{"date": (FAR + timedelta(days=i)).isoformat(), **values} for i in range(count)]


def price(hr: HR, inv_code: str, day: date | str = FAR, rate_code: str | None = None) -> Any:
    return hr.sandbox.control.calendar(inv_code, day, rate_code=rate_code)["price"]


def last_logged(hr: HR) -> Any:
    return hr.sandbox.control.requests()[-1]


# PUT /rooms/~ ------------------------------------------------------------------------------------
def test_range_update_sets_values_and_returns_transaction(hr: HR) -> None:
    response = room(hr, "DLXDBL", end_date="2030-03-03", price="171.50", min_stay=2, cta=1)
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "transaction_id": body["transaction_id"]} and body["transaction_id"].isdigit()
    for offset in range(3):
        day = hr.sandbox.control.calendar("DLXDBL", FAR + timedelta(days=offset))
        assert (day["price"], day["min_stay"], day["cta"], day["stop_sale"]) == (Decimal("171.50"), 2, 1, 0)
    assert price(hr, "DLXDBL", "2030-03-04") == Decimal("159")
    assert last_logged(hr).ignored_fields == []


def test_room_code_is_required_even_with_inv_code(hr: HR) -> None:
    response = put_range(hr, inv_code="SUITE", price="200")
    assert response.status_code == 400
    assert response.json()["code"] == "missing_parameter" and "room_code" in response.json()["message"]
    assert price(hr, "SUITE") == Decimal("179")


def test_values_not_sent_are_not_changed(hr: HR) -> None:
    room(hr, "SUITE", price="200", stop_sale=1)
    room(hr, "SUITE", min_stay=3)
    day = hr.sandbox.control.calendar("SUITE", FAR)
    assert (day["price"], day["stop_sale"], day["min_stay"]) == (Decimal("200"), 1, 3)


def test_days_filter_touches_only_those_weekdays(hr: HR) -> None:
    # 2030-03-01 is a Friday (5); Sunday = 0 ... Saturday = 6
    room(hr, "SUITE", end_date="2030-03-07", **{"days[]": ["5", "6"]}, stop_sale=1)
    closed = [d for d in range(7) if hr.sandbox.control.calendar("SUITE", FAR + timedelta(days=d))["stop_sale"] == 1]
    assert closed == [0, 1]  # Friday 1st and Saturday 2nd


def test_channel_codes_limit_the_change_to_those_channels(hr: HR) -> None:
    room(hr, "SUITE", price="150", **{"channel_codes[]": ["online"]})
    day = hr.sandbox.control.calendar("SUITE", FAR)
    assert day["price"] is None  # channels now disagree
    assert day["channels"]["online"]["price"] == Decimal("150")
    assert day["channels"]["bookingcom"]["price"] == Decimal("179")


def test_room_code_alone_names_the_master_rate_and_changes_only_its_price(hr: HR) -> None:
    response = put_range(hr, room_code="SUITE", price="205", availability=0, stop_sale=1)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    day = hr.sandbox.control.calendar("SUITE", FAR)
    assert (day["price"], day["availability"], day["stop_sale"]) == (Decimal("205"), 1, 0)
    assert last_logged(hr).ignored_fields == ["availability", "stop_sale"]
    assert last_logged(hr).to_json()["ignored_fields"] == ["availability", "stop_sale"]


def test_inv_code_wins_over_rate_code(hr: HR) -> None:
    response = put_range(
        hr, room_code="HB:DLXTRP", inv_code="DLXTRP", rate_code="HB:DLXTRP", price="210", availability=1
    )
    assert response.status_code == 200
    assert price(hr, "DLXTRP") == Decimal("210")  # the master rate
    assert price(hr, "DLXTRP", rate_code="HB:DLXTRP") == Decimal("199")  # untouched: 169 + 30
    assert hr.sandbox.control.calendar("DLXTRP", FAR)["availability"] == 1
    assert last_logged(hr).ignored_fields == ["rate_code"]


def test_a_half_board_rate_takes_its_own_price_and_nothing_else(hr: HR) -> None:
    assert price(hr, "FAMSTE", rate_code="HB:FAMSTE") == Decimal("219")
    response = put_range(hr, room_code="FAMSTE", rate_code="HB:FAMSTE", price="250", min_stay=3)
    assert response.status_code == 200
    assert price(hr, "FAMSTE", rate_code="HB:FAMSTE") == Decimal("250")
    assert price(hr, "FAMSTE") == Decimal("189")
    assert hr.sandbox.control.calendar("FAMSTE", FAR)["min_stay"] == 1
    assert last_logged(hr).ignored_fields == ["min_stay"]
    by_room_code = put_range(hr, room_code="HB:PRESTE", price="499")
    assert by_room_code.status_code == 200 and price(hr, "PRESTE", rate_code="HB:PRESTE") == Decimal("499")


def test_nr_rate_follows_its_master_and_refuses_its_price(hr: HR) -> None:
    room(hr, "DBLSUP", price="160")
    assert price(hr, "DBLSUP", rate_code="NR:DBLSUP") == Decimal("144.00")
    refused = put_range(hr, room_code="DBLSUP", rate_code="NR:DBLSUP", price="100")
    assert refused.status_code == 422
    assert refused.json()["code"] == "field_not_updatable"
    assert "inv_code=DBLSUP" in refused.json()["message"]
    ignored = put_range(hr, room_code="NR:DBLSUP", availability=0, stop_sale=1)
    assert ignored.status_code == 200 and ignored.json()["status"] == "ok"
    assert hr.sandbox.control.calendar("DBLSUP", FAR)["stop_sale"] == 0
    assert last_logged(hr).ignored_fields == ["availability", "stop_sale"]
    details = hr.get("/infos/transaction_details", transaction_id=ignored.json()["transaction_id"]).json()[
        "transaction"
    ]
    assert (details["counts"], details["details"]) == ({"failed": 0, "succeeded": 0, "in_progress": 0}, [])


def test_the_default_room_accepts_no_update(hr: HR) -> None:
    for form in (
        {"inv_code": "HR:99", "availability": 1},
        {"inv_code": "HR:99", "stop_sale": 0},
        {"inv_code": "HR:99", "price": "100"},
    ):
        refused = put_range(hr, room_code="HR:99", **form)
        assert (refused.status_code, refused.json()["code"]) == (422, "field_not_updatable"), form
    by_rate = put_range(hr, room_code="HR:99", price="100")
    assert (by_rate.status_code, by_rate.json()["code"]) == (422, "field_not_updatable")
    refused_daily = daily(hr, [{"inv_code": "HR:99", "dates": [{"date": "2030-03-01", "availability": "1"}]}])
    assert refused_daily.json()["status"] == "try_again"


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"room_code": "SUITE", "inv_code": "NOPE", "price": "100"}, 422, "unknown_inv_code"),
        ({"room_code": "SUITE", "rate_code": "SUITE-BAR", "price": "100"}, 422, "unknown_rate_code"),
        ({"room_code": "NOPE", "price": "100"}, 422, "unknown_rate_code"),
        (
            {"room_code": "SUITE", "inv_code": "SUITE", "end_date": "2030-02-28", "price": "100"},
            422,
            "invalid_date_range",
        ),
        (
            {"room_code": "SUITE", "inv_code": "SUITE", "start_date": "01/03/2030", "price": "100"},
            422,
            "invalid_parameter",
        ),
        ({"room_code": "SUITE", "inv_code": "SUITE", "price": "-5"}, 422, "invalid_parameter"),
        ({"room_code": "SUITE", "price": "12.345"}, 422, "invalid_parameter"),
        ({"room_code": "SUITE", "inv_code": "SUITE", "availability": "-1"}, 422, "invalid_parameter"),
        ({"room_code": "SUITE", "inv_code": "SUITE", "stop_sale": "2"}, 422, "invalid_parameter"),
        ({"room_code": "SUITE", "inv_code": "SUITE", "min_stay": "0"}, 422, "invalid_parameter"),
        ({"room_code": "SUITE", "inv_code": "SUITE", "min_stay": "4", "max_stay": "2"}, 422, "invalid_parameter"),
        ({"room_code": "SUITE", "inv_code": "SUITE", "days[]": ["7"], "price": "100"}, 422, "invalid_parameter"),
        (
            {"room_code": "SUITE", "inv_code": "SUITE", "channel_codes[]": ["airbnb"], "price": "100"},
            422,
            "unknown_channel",
        ),
        ({"room_code": "SUITE", "inv_code": "SUITE"}, 422, "nothing_to_update"),
        ({"inv_code": "SUITE", "price": "100"}, 400, "missing_parameter"),
    ],
)
def test_range_update_refusals(hr: HR, form: dict[str, Any], status: int, code: str) -> None:
    response = put_range(hr, **form)
    assert response.status_code == status, response.text
    assert response.json()["status"] == "error"
    assert response.json()["code"] == code
    assert price(hr, "SUITE") == Decimal("179")


def test_missing_dates_are_400(hr: HR) -> None:
    response = hr.put(
        "/rooms/~", form={"room_code": "SUITE", "inv_code": "SUITE", "start_date": "2030-03-01", "price": "100"}
    )
    assert response.status_code == 400
    assert "end_date" in response.json()["message"]


# PUT /rooms/daily --------------------------------------------------------------------------------
def test_daily_takes_the_documented_body_with_string_values(hr: HR) -> None:
    body = {
        "rooms": [
            {
                "inv_code": "DLXTRP",
                "channel_codes": ["online"],
                "dates": [
                    {
                        "date": "2030-03-01",
                        "availability": "2",
                        "price": "400",
                        "min_stay": "2",
                        "stop_sale": "0",
                        "cta": "false",
                        "ctd": "false",
                    },
                    {
                        "date": "2030-04-01",
                        "availability": "2",
                        "price": "400",
                        "min_stay": "2",
                        "stop_sale": "0",
                        "cta": "false",
                        "ctd": "false",
                    },
                ],
            }
        ]
    }
    response = hr.put("/rooms/daily", json=body)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "transaction_id": response.json()["transaction_id"], "errors": []}
    day = hr.sandbox.control.calendar("DLXTRP", "2030-04-01")
    assert (day["availability"], day["channels"]["online"]["price"], day["channels"]["online"]["min_stay"]) == (
        2,
        Decimal("400"),
        2,
    )
    assert day["channels"]["bookingcom"]["price"] == Decimal("169")


def test_daily_applies_explicit_dates_in_one_call(hr: HR) -> None:
    response = daily(
        hr,
        [
            {
                "inv_code": "FAMSTE",
                "dates": [
                    {"date": "2030-03-01", "price": 210, "availability": 1},
                    {"date": "2030-03-05", "stop_sale": 1},
                ],
            },
            {"inv_code": "SUITE", "channel_codes": ["expedia"], "dates": [{"date": "2030-03-02", "ctd": 1}]},
        ],
    )
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["errors"] == []
    first = hr.sandbox.control.calendar("FAMSTE", "2030-03-01")
    assert (first["price"], first["availability"]) == (Decimal("210"), 1)
    assert hr.sandbox.control.calendar("FAMSTE", "2030-03-05")["stop_sale"] == 1
    assert price(hr, "FAMSTE", "2030-03-02") == Decimal("189")
    suite = hr.sandbox.control.calendar("SUITE", "2030-03-02")["channels"]
    assert (suite["expedia"]["ctd"], suite["bookingcom"]["ctd"]) == (1, 0)


def test_daily_accepts_90_dates_and_refuses_91(hr: HR) -> None:
    accepted = daily(hr, [{"inv_code": "SUITE", "dates": dates(90, price=199)}])
    assert accepted.status_code == 200
    assert price(hr, "SUITE", FAR + timedelta(days=89)) == Decimal("199")
    refused = daily(
        hr, [{"inv_code": "SUITE", "dates": dates(1, price=150)}, {"inv_code": "DLXDBL", "dates": dates(91, price=150)}]
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "too_many_dates"
    assert "90" in refused.json()["message"]
    assert price(hr, "DLXDBL") == Decimal("159") and price(hr, "SUITE") == Decimal("199")


def test_daily_refuses_bad_dates_only_and_reports_them_in_the_documented_shape(hr: HR) -> None:
    response = daily(
        hr,
        [
            {
                "inv_code": "SUITE",
                "dates": [
                    {"date": "2030-03-01", "price": "185"},
                    {"date": "2030-03-02", "price": "-1"},
                    {"date": "2030-03-03", "price": "185", "min_stay": "5", "max_stay": "2"},
                ],
            },
            {"inv_code": "DLXDBL", "dates": [{"date": "2030-03-01", "availability": "1"}]},
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["transaction_id"].isdigit()
    assert len(body["errors"]) == 1 and list(body["errors"][0]) == ["SUITE"]
    refused = body["errors"][0]["SUITE"]
    assert sorted(refused) == ["2030-03-02", "2030-03-03"]
    assert refused["2030-03-02"].startswith("Invalid price")
    assert "max_stay" in refused["2030-03-03"]
    assert price(hr, "SUITE") == Decimal("185")
    assert price(hr, "SUITE", "2030-03-02") == price(hr, "SUITE", "2030-03-03") == Decimal("179")
    assert hr.sandbox.control.calendar("DLXDBL", FAR)["availability"] == 1


def test_daily_with_every_date_refused_is_try_again_and_applies_nothing(hr: HR) -> None:
    response = daily(
        hr,
        [
            {"inv_code": "SUITE", "dates": [{"date": "2030-03-01", "price": "free"}]},
            {
                "rate_code": "NR:DLXDBL",
                "dates": [{"date": "2030-03-02", "price": "100"}, {"date": "2030-13-01", "price": "100"}],
            },
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "try_again" and body["transaction_id"].isdigit()
    assert [list(e) for e in body["errors"]] == [["SUITE"], ["NR:DLXDBL"]]
    assert body["errors"][0]["SUITE"]["2030-03-01"].startswith("Invalid price")
    assert sorted(body["errors"][1]["NR:DLXDBL"]) == ["2030-03-02", "2030-13-01"]
    assert "price_update is false" in body["errors"][1]["NR:DLXDBL"]["2030-03-02"]
    assert price(hr, "SUITE") == Decimal("179")
    transaction = hr.get("/infos/transaction_details", transaction_id=body["transaction_id"]).json()["transaction"]
    assert transaction["details"] == []


def test_daily_rate_code_entry_changes_only_that_rates_price(hr: HR) -> None:
    response = daily(
        hr,
        [
            {
                "rate_code": "HB:FAMSTE",
                "dates": [{"date": "2030-03-01", "price": "260", "availability": "0", "stop_sale": "1"}],
            }
        ],
    )
    assert response.json()["status"] == "ok" and response.json()["errors"] == []
    assert price(hr, "FAMSTE", rate_code="HB:FAMSTE") == Decimal("260")
    day = hr.sandbox.control.calendar("FAMSTE", FAR)
    assert (day["price"], day["availability"], day["stop_sale"]) == (Decimal("189"), 2, 0)
    assert last_logged(hr).ignored_fields == ["rooms[0].availability", "rooms[0].stop_sale"]


def test_daily_inv_code_wins_over_rate_code(hr: HR) -> None:
    response = daily(
        hr,
        [
            {
                "inv_code": "PRESTE",
                "rate_code": "HB:PRESTE",
                "dates": [{"date": "2030-03-01", "price": "480", "stop_sale": "1"}],
            }
        ],
    )
    assert response.json()["status"] == "ok"
    assert price(hr, "PRESTE") == Decimal("480")
    assert price(hr, "PRESTE", rate_code="HB:PRESTE") == Decimal("479")
    assert hr.sandbox.control.calendar("PRESTE", FAR)["stop_sale"] == 1
    assert last_logged(hr).ignored_fields == ["rooms[0].rate_code"]


def test_daily_verbatim_try_again_lacks_the_comma(hr: HR) -> None:
    hr.sandbox.control.set_verbatim_bodies(True)
    response = daily(hr, [{"inv_code": "SUITE", "dates": [{"date": "2030-03-01", "price": "x"}]}])
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        response.json()
    lines = response.text.split("\n")
    assert (
        lines[:2] == ["{", '"status": "try_again",']
        and lines[2].startswith('"transaction_id": "')
        and not lines[2].endswith(",")
    )
    assert json.loads(lines[3].removeprefix('"errors": '))[0]["SUITE"]["2030-03-01"].startswith("Invalid price")
    ok = daily(hr, [{"inv_code": "SUITE", "dates": [{"date": "2030-03-01", "price": "190"}]}])
    assert ok.json()["status"] == "ok"  # only the try_again body is printed verbatim


@pytest.mark.parametrize(
    ("rooms", "status", "code"),
    [
        ([{"inv_code": "GHOST", "dates": [{"date": "2030-03-01", "price": 100}]}], 422, "unknown_inv_code"),
        ([{"rate_code": "GHOST", "dates": [{"date": "2030-03-01", "price": 100}]}], 422, "unknown_rate_code"),
        ([{"dates": [{"date": "2030-03-01", "price": 100}]}], 400, "missing_parameter"),
        (
            [{"inv_code": "SUITE", "channel_codes": ["airbnb"], "dates": [{"date": "2030-03-01", "price": 100}]}],
            422,
            "unknown_channel",
        ),
        ([{"inv_code": "SUITE", "dates": []}], 422, "invalid_parameter"),
        ([{"inv_code": "SUITE", "dates": [{"price": 100}]}], 422, "invalid_parameter"),
        ([], 422, "invalid_parameter"),
    ],
)
def test_daily_entry_level_refusals_refuse_the_whole_call(
    hr: HR, rooms: list[dict[str, Any]], status: int, code: str
) -> None:
    valid = {"inv_code": "SUITE", "dates": [{"date": "2030-03-01", "price": 111}]}
    response = daily(hr, [valid, *rooms] if rooms else [])
    assert response.status_code == status, response.text
    assert response.json()["status"] == "error" and response.json()["code"] == code
    assert price(hr, "SUITE") == Decimal("179")


def test_daily_without_json_body_is_400(hr: HR) -> None:
    assert hr.put("/rooms/daily", form={"rooms": "x"}).status_code == 400
    broken = hr.http.put(
        "/rooms/daily", params=hr.auth, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_json"


# transaction_details -----------------------------------------------------------------------------
DETAIL_KEYS = ["id", "channel_code", "state", "name", "code", "allocation_group", "created_at", "pid", "error_message"]


def test_transaction_details_name_rooms_by_channel_ids_only(hr: HR) -> None:
    transaction_id = room(hr, "DLXTRP", price="170").json()["transaction_id"]
    transaction = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]
    assert transaction["id"] == transaction_id
    assert transaction["counts"] == {"failed": 0, "succeeded": 3, "in_progress": 0}
    by_channel = {d["channel_code"]: d for d in transaction["details"]}
    assert all(list(d) == DETAIL_KEYS for d in transaction["details"])
    booking = by_channel["bookingcom"]
    assert booking["name"] == "Chambre Triple Deluxe (68366) - Tarif standard - 3 Personnes"
    assert (booking["code"], booking["allocation_group"]) == ("2318406:231840601", "231840601")
    assert isinstance(booking["id"], int) and isinstance(booking["pid"], int) and booking["created_at"].endswith("Z")
    assert by_channel["expedia"]["name"] == "Deluxe Triple Room (262015407) - Standard Rate - 3 Persons"
    online = by_channel["online"]
    assert {k: online[k] for k in ("id", "name", "code", "allocation_group", "pid")} == {
        "id": None,
        "name": "Online",
        "code": "Online",
        "allocation_group": "Online",
        "pid": None,
    }
    text = json.dumps(transaction)
    assert "inv_code" not in text and "rate_code" not in text and '"DLXTRP"' not in text


def test_a_rate_update_is_named_by_its_channel_rate_plan(hr: HR) -> None:
    transaction_id = put_range(hr, room_code="HB:PRESTE", price="520").json()["transaction_id"]
    details = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]["details"]
    booking = next(d for d in details if d["channel_code"] == "bookingcom")
    assert booking["name"] == "Suite Présidentielle (68371) - Demi-pension - 4 Personnes"
    assert booking["allocation_group"] == "231840608"


def test_a_channel_below_its_price_floor_fails_and_keeps_its_price(hr: HR) -> None:
    hr.sandbox.control.set_channel_price_floor("expedia", Decimal("100"))
    transaction_id = room(hr, "SUITE", price="90").json()["transaction_id"]
    details = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]
    assert details["counts"] == {"failed": 1, "succeeded": 2, "in_progress": 0}
    failed = [d for d in details["details"] if d["state"] == "failed"]
    assert failed[0]["channel_code"] == "expedia" and "100" in failed[0]["error_message"]
    assert "SUITE" not in failed[0]["error_message"]
    channels = hr.sandbox.control.calendar("SUITE", FAR)["channels"]
    assert (channels["expedia"]["price"], channels["bookingcom"]["price"]) == (Decimal("179"), Decimal("90"))


def test_a_failing_channel_fails_every_job(hr: HR) -> None:
    hr.sandbox.control.set_channel_failure("bookingcom", "Room not mapped on Booking.com")
    transaction_id = room(hr, "SUITE", stop_sale=1).json()["transaction_id"]
    details = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]["details"]
    assert {d["channel_code"]: d["error_message"] for d in details if d["state"] == "failed"} == {
        "bookingcom": "Room not mapped on Booking.com"
    }


def test_bookings_reduce_availability_until_it_is_set(hr: HR) -> None:
    control = hr.sandbox.control
    assert control.calendar("DLXTRP", FAR)["availability"] == 3
    control.create_booking(inv_code="DLXTRP", checkin=FAR, nights=2)
    assert control.calendar("DLXTRP", FAR)["availability"] == 2
    room(hr, "DLXTRP", availability=1)
    assert control.calendar("DLXTRP", FAR)["availability"] == 1
    booking = control.create_booking(inv_code="DLXTRP", checkin=FAR, nights=1)
    assert control.calendar("DLXTRP", FAR)["availability"] == 0
    control.cancel_booking(str(booking["hr_number"]))
    assert control.calendar("DLXTRP", FAR)["availability"] == 1


def test_a_slow_channel_reads_in_progress_until_it_settles(hr: HR) -> None:
    hr.sandbox.control.set_channel_delay("bookingcom", 30)
    transaction_id = room(hr, "SUITE", price="170").json()["transaction_id"]
    transaction = hr.get("/infos/transaction_details", transaction_id=transaction_id).json()["transaction"]
    assert transaction["counts"] == {"failed": 0, "succeeded": 2, "in_progress": 1}
    assert [d["channel_code"] for d in transaction["details"] if d["state"] == "in_progress"] == ["bookingcom"]
    hr.sandbox.control.set_channel_delay("expedia", 0)
    settled = room(hr, "SUITE", price="171").json()["transaction_id"]
    counts = hr.get("/infos/transaction_details", transaction_id=settled).json()["transaction"]["counts"]
    assert counts["in_progress"] == 1  # bookingcom still slow; expedia with 0 s settles at once
