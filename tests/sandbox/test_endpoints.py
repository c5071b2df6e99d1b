"""Every HR-v1 endpoint answers with HotelRunner's shapes; auth, 404, 405 and the request log."""

from __future__ import annotations

import httpx2
import pytest

from tests.sandbox.conftest import HR

READ_PATHS = ["/rooms", "/reservations", "/infos/connected_channels", "/infos/channels"]


def test_rooms_lists_villa_thaifa_rates(hr: HR) -> None:
    rooms = hr.get("/rooms").json()["rooms"]
    assert len({r["inv_code"] for r in rooms}) == 8
    base = {r["inv_code"]: r for r in rooms if r["is_master"]}
    assert base["PRESTE"]["name"] == "Presidential Suite"
    assert base["DLXTRP"]["channel_codes"] == ["bookingcom", "expedia", "online"]
    assert {r["sales_currency"] for r in rooms} == {"EUR"}
    nr = [r for r in rooms if "NR" in r["rate_code"]]
    assert len(nr) == 8
    assert not any(r["price_update"] or r["availability_update"] or r["restrictions_update"] for r in nr)
    assert all(r["price_update"] and r["availability_update"] and r["restrictions_update"] for r in base.values())


def test_channels_and_connected_channels(hr: HR) -> None:
    every = hr.get("/infos/channels").json()["channels"]
    assert {"bookingcom", "expedia", "online", "airbnb"} <= {c["code"] for c in every}
    connected = hr.get("/infos/connected_channels").json()["channels"]
    assert [c["code"] for c in connected] == ["bookingcom", "expedia", "online"]
    assert all({"name", "in_progress", "succeeded", "failed"} <= c.keys() for c in connected)


def test_connected_channels_count_update_jobs(hr: HR) -> None:
    hr.put("/rooms/~", form={"inv_code": "SUITE", "start_date": "2030-01-01", "end_date": "2030-01-02", "stop_sale": 1})
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
    hr.put("/rooms/~", form={"inv_code": "SUITE", "start_date": "2030-01-01", "end_date": "2030-01-03", "days[]": ["0", "6"], "price": "180"})
    hr.put("/rooms/daily", json={"rooms": [{"inv_code": "SUITE", "dates": [{"date": "2030-01-05", "min_stay": 2}]}]})
    hr.http.get("/rooms", params={"token": "nope", "hr_id": sandbox.hr_id})
    log = sandbox.control.requests()
    assert [(e.method, e.path, e.status) for e in log] == [
        ("GET", "/rooms", 200),
        ("PUT", "/rooms/~", 200),
        ("PUT", "/rooms/daily", 200),
        ("GET", "/rooms", 401),
    ]
    assert log[1].params == {"inv_code": "SUITE", "start_date": "2030-01-01", "end_date": "2030-01-03", "days[]": ["0", "6"], "price": "180"}
    assert log[2].json == {"rooms": [{"inv_code": "SUITE", "dates": [{"date": "2030-01-05", "min_stay": 2}]}]}
    assert all("token" not in e.params and "hr_id" not in e.params for e in log)
    assert sandbox.token not in repr(log) and sandbox.hr_id not in repr(log)
    sandbox.control.clear_requests()
    assert sandbox.control.requests() == []


def test_parameters_may_come_as_query_or_form(hr: HR) -> None:
    by_query = hr.put("/rooms/~", inv_code="SUITE", start_date="2030-02-01", end_date="2030-02-01", price="190")
    by_form = hr.put("/rooms/~", form={"inv_code": "SUITE", "start_date": "2030-02-02", "end_date": "2030-02-02", "price": "191"})
    assert by_query.status_code == by_form.status_code == 200
    assert hr.sandbox.control.calendar("SUITE", "2030-02-01")["price"] == 190
    assert hr.sandbox.control.calendar("SUITE", "2030-02-02")["price"] == 191


def test_prefix_is_configurable() -> None:
    from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox

    with run_sandbox(SandboxConfig(seed=3, prefix="/api/v1/apps")) as sb:
        assert sb.base_url.endswith("/api/v1/apps")
        ok = httpx2.get(sb.base_url + "/rooms", params={"token": sb.token, "hr_id": sb.hr_id})
        assert ok.status_code == 200
        assert httpx2.get(sb.root_url + "/api/v2/apps/rooms", params={"token": sb.token, "hr_id": sb.hr_id}).status_code == 404
