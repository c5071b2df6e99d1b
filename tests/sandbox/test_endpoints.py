"""Every HR-v1 endpoint answers with HotelRunner's shapes; auth, 404, 405 and the request log."""

from __future__ import annotations

import httpx2
import pytest

from .conftest import HR

READ_PATHS = ["/rooms", "/reservations", "/infos/connected_channels", "/infos/channels"]


ROOM_FIELDS = [
    "rate_code",
    "inv_code",
    "availability_update",
    "restrictions_update",
    "price_update",
    "pricing_type",
    "name",
    "description",
    "policy",
    "room_capacity",
    "adult_capacity",
    "is_master",
    "shared",
    "channel_codes",
    "sales_currency",
    "sell_online",
]
REAL = ["DLXTRP", "DLXDBL", "DBLSUP", "EXESTE", "DLXKNG", "FAMSTE", "SUITE", "PRESTE"]


def flags(rate: dict[str, object]) -> tuple[object, object, object]:
    return rate["availability_update"], rate["restrictions_update"], rate["price_update"]


def test_rooms_lists_villa_thaifa_rates_with_the_documented_codes(hr: HR) -> None:
    rooms = hr.get("/rooms").json()["rooms"]
    assert all(list(r) == ROOM_FIELDS for r in rooms)
    assert [r["rate_code"] for r in rooms] == [
        "DLXTRP",
        "NR:DLXTRP",
        "HB:DLXTRP",
        "DLXDBL",
        "NR:DLXDBL",
        "DBLSUP",
        "NR:DBLSUP",
        "EXESTE",
        "NR:EXESTE",
        "DLXKNG",
        "NR:DLXKNG",
        "FAMSTE",
        "NR:FAMSTE",
        "HB:FAMSTE",
        "SUITE",
        "NR:SUITE",
        "PRESTE",
        "NR:PRESTE",
        "HB:PRESTE",
        "HR:99",
    ]
    masters = {r["inv_code"]: r for r in rooms if r["rate_code"] == r["inv_code"]}
    assert list(masters) == [*REAL, "HR:99"]
    assert masters["PRESTE"]["name"] == "Presidential Suite"
    assert masters["DLXTRP"]["channel_codes"] == ["bookingcom", "expedia", "online"]
    assert all(flags(masters[code]) == (True, True, True) and masters[code]["is_master"] is False for code in REAL)
    assert {r["sales_currency"] for r in rooms} == {"EUR"} and {r["pricing_type"] for r in rooms} == {"guest_based"}
    nr = [r for r in rooms if r["rate_code"].startswith("NR:")]
    assert len(nr) == 8 and all(flags(r) == (False, False, False) and r["is_master"] is False for r in nr)
    assert all(r["name"].endswith(" - NR") for r in nr)
    hb = {r["inv_code"]: r for r in rooms if r["rate_code"].startswith("HB:")}
    assert list(hb) == ["DLXTRP", "FAMSTE", "PRESTE"]
    assert all(flags(r) == (False, False, True) and r["is_master"] is False for r in hb.values())
    default = rooms[-1]
    assert {k: default[k] for k in ("rate_code", "inv_code", "name", "is_master", "channel_codes", "policy")} == {
        "rate_code": "HR:99",
        "inv_code": "HR:99",
        "name": "Default Room",
        "is_master": True,
        "channel_codes": ["online"],
        "policy": "",
    }
    assert flags(default) == (False, False, False)
    assert default["description"].startswith("We use this room for unmatched reservations.")
    assert [r for r in rooms if r["is_master"]] == [default]


def test_the_default_room_has_no_rooms_and_no_bookings(hr: HR) -> None:
    from hotelrunner_mcp.sandbox import SandboxError

    control = hr.sandbox.control
    assert control.calendar("HR:99", "2030-01-01")["rooms"] == 0
    assert all(line["inv_code"] != "HR:99" for r in control.reservations() for line in r["rooms"])
    with pytest.raises(SandboxError):
        control.create_booking(inv_code="HR:99", channel="online", checkin="2030-01-01")


def test_channels_and_connected_channels(hr: HR) -> None:
    every = hr.get("/infos/channels").json()["channels"]
    assert {"bookingcom", "expedia", "online", "airbnb"} <= {c["code"] for c in every}
    connected = hr.get("/infos/connected_channels").json()["channels"]
    assert [(c["code"], c["name"]) for c in connected] == [
        ("bookingcom", "Booking.com"),
        ("expedia", "Expedia Inc."),
        ("online", "Online"),
    ]
    assert all({"name", "in_progress", "succeeded", "failed"} <= c.keys() for c in connected)


def test_connected_channels_count_update_jobs(hr: HR) -> None:
    hr.put(
        "/rooms/~",
        form={
            "room_code": "SUITE",
            "inv_code": "SUITE",
            "start_date": "2030-01-01",
            "end_date": "2030-01-02",
            "stop_sale": 1,
        },
    )
    connected = {c["code"]: c for c in hr.get("/infos/connected_channels").json()["channels"]}
    assert connected["expedia"]["succeeded"] == 1 and connected["expedia"]["failed"] == 0


@pytest.mark.parametrize("path", READ_PATHS)
@pytest.mark.parametrize("case", ["none", "bad-token", "bad-hr-id", "empty"])
def test_wrong_or_missing_credentials_get_401(hr: HR, path: str, case: str) -> None:
    params = {
        "none": {},
        "bad-token": {**hr.auth, "token": hr.auth["token"] + "x"},
        "bad-hr-id": {**hr.auth, "hr_id": "1"},
        "empty": {"token": "", "hr_id": ""},
    }[case]
    response = hr.http.get(path, params=params)
    assert response.status_code == 401
    assert response.json() == {"status": "error", "code": "unauthorized", "message": "Invalid or missing token/hr_id."}


def test_unknown_path_is_404_and_wrong_method_is_405(hr: HR) -> None:
    missing = hr.get("/nothing/here")
    assert missing.status_code == 404 and missing.json()["status"] == "error"
    wrong = hr.http.post("/rooms", params=hr.auth)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET"
    assert hr.http.get("/rooms/daily", params=hr.auth).status_code == 405


def test_transaction_details_unknown_is_404_and_missing_is_400(hr: HR) -> None:
    assert hr.get("/infos/transaction_details", transaction_id="1").status_code == 404
    response = hr.get("/infos/transaction_details")
    assert response.status_code == 400
    assert "transaction_id" in response.json()["message"]


def test_request_log_records_everything_without_credentials(hr: HR) -> None:
    sandbox = hr.sandbox
    hr.get("/rooms")
    hr.put(
        "/rooms/~",
        form={
            "room_code": "SUITE",
            "start_date": "2030-01-01",
            "end_date": "2030-01-03",
            "days[]": ["0", "6"],
            "price": "180",
        },
    )
    hr.put("/rooms/daily", json={"rooms": [{"inv_code": "SUITE", "dates": [{"date": "2030-01-05", "min_stay": 2}]}]})
    hr.http.get("/rooms", params={"token": "nope", "hr_id": sandbox.hr_id})
    log = sandbox.control.requests()
    assert [(e.method, e.path, e.status) for e in log] == [
        ("GET", "/rooms", 200),
        ("PUT", "/rooms/~", 200),
        ("PUT", "/rooms/daily", 200),
        ("GET", "/rooms", 401),
    ]
    assert log[1].params == {
        "room_code": "SUITE",
        "start_date": "2030-01-01",
        "end_date": "2030-01-03",
        "days[]": ["0", "6"],
        "price": "180",
    }
    assert [e.ignored_fields for e in log] == [[], [], [], []]
    assert log[2].json == {"rooms": [{"inv_code": "SUITE", "dates": [{"date": "2030-01-05", "min_stay": 2}]}]}
    assert all("token" not in e.params and "hr_id" not in e.params for e in log)
    assert sandbox.token not in repr(log) and sandbox.hr_id not in repr(log)
    sandbox.control.clear_requests()
    assert sandbox.control.requests() == []


def test_parameters_may_come_as_query_or_form(hr: HR) -> None:
    by_query = hr.put("/rooms/~", room_code="SUITE", start_date="2030-02-01", end_date="2030-02-01", price="190")
    by_form = hr.put(
        "/rooms/~", form={"room_code": "SUITE", "start_date": "2030-02-02", "end_date": "2030-02-02", "price": "191"}
    )
    assert by_query.status_code == by_form.status_code == 200
    assert hr.sandbox.control.calendar("SUITE", "2030-02-01")["price"] == 190
    assert hr.sandbox.control.calendar("SUITE", "2030-02-02")["price"] == 191


def test_prefix_is_configurable() -> None:
    from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox

    with run_sandbox(SandboxConfig(seed=3, prefix="/api/v1/apps")) as sb:
        assert sb.base_url.endswith("/api/v1/apps")
        ok = httpx2.get(sb.base_url + "/rooms", params={"token": sb.token, "hr_id": sb.hr_id})
        assert ok.status_code == 200
        assert (
            httpx2.get(sb.root_url + "/api/v2/apps/rooms", params={"token": sb.token, "hr_id": sb.hr_id}).status_code
            == 404
        )
