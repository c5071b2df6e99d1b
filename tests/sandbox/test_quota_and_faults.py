"""HotelRunner's quota (429 past it, with Retry-After) and every fault mode on demand."""

from __future__ import annotations

import time

import httpx2
import pytest

from .conftest import HR


def test_sixth_call_in_a_minute_is_429_and_logged(hr: HR) -> None:
    hr.sandbox.control.set_quota(per_minute=5, minute_seconds=30)
    statuses = [hr.get("/rooms").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = hr.get("/rooms")
    assert refused.json()["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    assert [e.status for e in hr.sandbox.control.requests()] == [200] * 5 + [429, 429]


def test_the_minute_window_rolls(hr: HR) -> None:
    hr.sandbox.control.set_quota(per_minute=2, minute_seconds=0.3)
    assert [hr.get("/rooms").status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(0.35)  # let the short "minute" pass
    assert hr.get("/rooms").status_code == 200


def test_daily_quota(hr: HR) -> None:
    hr.sandbox.control.set_quota(per_minute=100, per_day=3)
    assert [hr.get("/infos/channels").status_code for _ in range(4)] == [200, 200, 200, 429]
    hr.sandbox.control.reset_quota()
    assert hr.get("/infos/channels").status_code == 200


def test_refused_credentials_do_not_use_quota(hr: HR) -> None:
    hr.sandbox.control.set_quota(per_minute=1, minute_seconds=30)
    assert hr.http.get("/rooms", params={"token": "x", "hr_id": "y"}).status_code == 401
    assert hr.get("/rooms").status_code == 200


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("500", 500, "internal_server_error"), ("503", 503, "maintenance"), ("429", 429, "too_many_requests")],
)
def test_error_faults_for_the_next_call(hr: HR, kind: str, status: int, code: str) -> None:
    hr.sandbox.control.add_fault(kind, times=1)
    response = hr.get("/rooms")
    assert response.status_code == status and response.json()["code"] == code
    if kind == "429":
        assert "retry-after" in response.headers
    assert hr.get("/rooms").status_code == 200


def test_malformed_json(hr: HR) -> None:
    hr.sandbox.control.add_fault("malformed", times=1)
    response = hr.get("/rooms")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    with pytest.raises(ValueError):
        response.json()


def test_try_again_does_not_apply(hr: HR) -> None:
    hr.sandbox.control.add_fault("try_again", times=1, paths=["/rooms/~"])
    form = {
        "room_code": "SUITE",
        "inv_code": "SUITE",
        "start_date": "2030-01-01",
        "end_date": "2030-01-01",
        "price": "222",
    }
    assert hr.put("/rooms/~", form=form).json()["status"] == "try_again"
    assert hr.sandbox.control.calendar("SUITE", "2030-01-01")["price"] == 179
    assert hr.put("/rooms/~", form=form).json()["status"] == "ok"
    assert hr.sandbox.control.calendar("SUITE", "2030-01-01")["price"] == 222


def test_hang_outlasts_a_client_timeout(hr: HR) -> None:
    hr.sandbox.control.add_fault("hang", times=1)
    with httpx2.Client(base_url=hr.sandbox.base_url, timeout=0.5) as impatient:
        with pytest.raises(httpx2.ReadTimeout):
            impatient.get("/rooms", params=hr.auth)
    assert hr.get("/rooms").status_code == 200


def test_latency_delays_then_answers(hr: HR) -> None:
    hr.sandbox.control.add_fault("latency", delay=0.6, times=1)
    with httpx2.Client(base_url=hr.sandbox.base_url, timeout=0.3) as impatient:
        with pytest.raises(httpx2.ReadTimeout):
            impatient.get("/rooms", params=hr.auth)
    hr.sandbox.control.add_fault("latency", delay=0.05)
    assert hr.get("/rooms").status_code == 200


def test_always_rate_and_paths(hr: HR) -> None:
    control = hr.sandbox.control
    control.add_fault("503", paths=["/rooms/daily"])
    assert hr.get("/rooms").status_code == 200
    body = {"rooms": [{"inv_code": "SUITE", "dates": [{"date": "2030-01-01", "price": 150}]}]}
    assert [hr.put("/rooms/daily", json=body).status_code for _ in range(3)] == [503] * 3
    control.clear_faults()
    control.add_fault("500", rate=0.0)
    assert hr.get("/rooms").status_code == 200
    control.clear_faults()
    control.add_fault("500", rate=1.0)
    assert hr.get("/rooms").status_code == 500
    control.clear_faults()
    control.add_fault("500", rate=0.5)
    statuses = {hr.get("/infos/channels").status_code for _ in range(40)}
    assert statuses == {200, 500}


def test_faulted_calls_still_use_quota_and_are_logged(hr: HR) -> None:
    hr.sandbox.control.set_quota(per_minute=2, minute_seconds=30)
    hr.sandbox.control.add_fault("500", times=2)
    assert [hr.get("/rooms").status_code for _ in range(3)] == [500, 500, 429]
    assert [e.status for e in hr.sandbox.control.requests()] == [500, 500, 429]


@pytest.mark.parametrize(
    "kwargs",
    [{"kind": "teapot"}, {"kind": "500", "times": 0}, {"kind": "500", "rate": 2}, {"kind": "latency"}],
)
def test_bad_fault_settings_are_refused(hr: HR, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        hr.sandbox.control.add_fault(**kwargs)  # type: ignore[arg-type]


def test_faults_set_at_start_come_back_after_reset() -> None:
    from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox

    with run_sandbox(SandboxConfig(seed=5, faults=[{"kind": "503", "times": 1, "paths": ["/rooms"]}])) as sb:
        auth = {"token": sb.token, "hr_id": sb.hr_id}
        assert [httpx2.get(sb.base_url + "/rooms", params=auth).status_code for _ in range(2)] == [503, 200]
        sb.control.reset()
        assert httpx2.get(sb.base_url + "/rooms", params=auth).status_code == 503


def test_cli_fault_spec_parsing() -> None:
    import argparse

    from hotelrunner_mcp.sandbox.runner import parse_fault_spec

    assert parse_fault_spec("hang,times=2,delay=5,paths=/rooms|/rooms/daily") == {
        "kind": "hang",
        "times": 2,
        "delay": 5.0,
        "paths": ["/rooms", "/rooms/daily"],
    }
    for bad in ("teapot", "500,times=zero", "500,often=1", "latency"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_fault_spec(bad)
