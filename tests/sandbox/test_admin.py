"""The /_sandbox control surface: the admin key opens it, a HotelRunner token never does."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from hotelrunner_mcp.sandbox import RunningSandbox


@pytest.fixture
def admin(sandbox: RunningSandbox) -> Any:
    with httpx2.Client(base_url=sandbox.admin_url, headers={"X-Sandbox-Admin": sandbox.admin_key}, timeout=5) as client:
        yield client


@pytest.mark.parametrize("headers", [{}, {"X-Sandbox-Admin": "wrong"}])
def test_admin_needs_its_own_key(sandbox: RunningSandbox, headers: dict[str, str]) -> None:
    with_hr_token = httpx2.get(
        sandbox.admin_url + "/requests", params={"token": sandbox.token, "hr_id": sandbox.hr_id}, headers=headers
    )
    assert with_hr_token.status_code == 401
    as_header = httpx2.post(sandbox.admin_url + "/reset", headers={"X-Sandbox-Admin": sandbox.token})
    assert as_header.status_code == 401
    assert sandbox.admin_key not in (sandbox.token, sandbox.hr_id)


def test_admin_faults_quota_and_log(sandbox: RunningSandbox, admin: httpx2.Client) -> None:
    hr = {"token": sandbox.token, "hr_id": sandbox.hr_id}
    fault = admin.post("/faults", json={"kind": "503", "times": 1}).json()["result"]
    assert (fault["kind"], fault["times"]) == ("503", 1)
    assert httpx2.get(sandbox.base_url + "/rooms", params=hr).status_code == 503
    assert httpx2.get(sandbox.base_url + "/rooms", params=hr).status_code == 200
    log = admin.get("/requests").json()["result"]
    assert [(e["path"], e["status"]) for e in log] == [("/rooms", 503), ("/rooms", 200)]
    assert admin.get("/quota").json()["result"] == {"minute": 2, "day": 2}
    assert admin.put("/quota", json={"per_minute": 2}).status_code == 200
    assert httpx2.get(sandbox.base_url + "/rooms", params=hr).status_code == 429
    assert admin.post("/quota/reset").status_code == 200
    assert httpx2.get(sandbox.base_url + "/rooms", params=hr).status_code == 200
    assert admin.post("/faults", json={"kind": "teapot"}).status_code == 422
    assert admin.delete("/requests").status_code == 200
    assert admin.get("/requests").json()["result"] == []


def test_admin_bookings_calendar_and_reset(sandbox: RunningSandbox, admin: httpx2.Client) -> None:
    made = admin.post(
        "/bookings", json={"inv_code": "SUITE", "checkin": "2030-05-01", "nights": 2, "channel": "online"}
    )
    booking = made.json()["result"]
    assert (booking["state"], booking["checkin_date"]) == ("reserved", "2030-05-01")
    day = admin.get("/calendar", params={"inv_code": "SUITE", "date": "2030-05-01"}).json()["result"]
    assert (day["availability"], day["price"]) == (0, 179.0)
    moved = admin.patch(f"/bookings/{booking['hr_number']}", json={"checkin": "2030-05-02"}).json()["result"]
    assert (moved["checkin_date"], moved["checkout_date"], moved["modified"]) == ("2030-05-02", "2030-05-04", True)
    canceled = admin.post(f"/bookings/{booking['hr_number']}/cancel", json={"reason": "customer"}).json()["result"]
    assert canceled["state"] == "canceled"
    assert admin.get(f"/bookings/{booking['hr_number']}").json()["result"]["state"] == "canceled"
    assert admin.get("/bookings/R1").status_code == 404
    assert admin.put("/channels/expedia/price_floor", json={"floor": "100"}).status_code == 200
    assert admin.post("/reset").status_code == 200
    assert admin.get(f"/bookings/{booking['hr_number']}").status_code == 404
