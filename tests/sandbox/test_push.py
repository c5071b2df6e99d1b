"""The sandbox pushes reservations in every documented way: POST with token/hr_id in the query
and `data` as a multipart field (default: the docs' FormData), a urlencoded field, or in the
query; as the 2026 `{"reservations": [...]}` (default, no reason), the flat 2016 object with a
`reason`, or the v1 object with rooms keyed by line id. Retries, duplicates on purpose."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from loopback import serving

FAR = "2030-06-01"


class Callback:
    """A tiny receiver: answers `failures` errors first, then {"status": "ok"}; keeps what it got
    (query without data, content type, and `data` parsed from wherever it came)."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []

    async def endpoint(self, request: Request) -> JSONResponse:
        query = dict(request.query_params)
        content_type = request.headers.get("content-type", "").split(";")[0]
        if "data" in query:
            data, body = query.pop("data"), await request.body()
            assert body == b""
        else:
            data = str((await request.form())["data"])
        self.received.append({"query": query, "content_type": content_type, "data": json.loads(data)})
        if self.failures > 0:
            self.failures -= 1
            return JSONResponse({"status": "error"}, 500)
        return JSONResponse({"status": "ok"})


@contextmanager
def serve(callback: Callback) -> Iterator[str]:
    with serving(Starlette(routes=[Route("/hook", callback.endpoint, methods=["POST"])])) as root:
        yield f"{root}/hook"


def test_default_push_is_multipart_with_the_2026_wrapper_and_no_reason(sandbox: RunningSandbox) -> None:
    booking = sandbox.control.create_booking(channel="online", note="Late arrival", checkin=FAR)
    callback = Callback()
    with serve(callback) as url:
        handle = sandbox.control.push(booking["hr_number"], url, "confirm").wait()
    assert handle.delivered == 1 and len(callback.received) == 1
    assert (handle.encoding, handle.shape) == ("multipart", "2026")
    got = callback.received[0]
    assert got["query"] == {"token": sandbox.token, "hr_id": sandbox.hr_id}
    assert got["content_type"] == "multipart/form-data"
    assert got["data"] == {"reservations": [booking]}
    assert "reason" not in got["data"] and "reason" not in got["data"]["reservations"][0]


@pytest.mark.parametrize(("encoding", "content_type"), [("form", "application/x-www-form-urlencoded"), ("query", "")])
def test_push_encodings(sandbox: RunningSandbox, encoding: str, content_type: str) -> None:
    booking = sandbox.control.create_booking(checkin=FAR)
    callback = Callback()
    with serve(callback) as url:
        sandbox.control.push(booking["hr_number"], url, "modify", encoding=encoding).wait()
    got = callback.received[0]
    assert got["query"] == {"token": sandbox.token, "hr_id": sandbox.hr_id}
    assert got["content_type"] == content_type
    assert got["data"] == {"reservations": [booking]}


def test_push_2016_shape_is_flat_with_reason_and_a_display_channel(sandbox: RunningSandbox) -> None:
    booking = sandbox.control.create_booking(
        channel="bookingcom", inv_code="FAMSTE", rate_code="HB:FAMSTE", checkin=FAR, extras=[("Hammam", "60")]
    )
    direct = sandbox.control.create_booking(channel="online", checkin=FAR)
    callback = Callback()
    with serve(callback) as url:
        sandbox.control.push(booking["hr_number"], url, "modify", shape="2016").wait()
        sandbox.control.push(direct["hr_number"], url, "confirm", shape="2016").wait()
    flat, flat_direct = (r["data"] for r in callback.received)
    assert list(flat)[:4] == ["reason", "hr_number", "provider_number", "channel"]
    assert (flat["reason"], flat["hr_number"], flat["channel"], flat["state"]) == (
        "modify",
        booking["hr_number"],
        "Booking.com",
        "confirmed",
    )
    assert flat["completed_at"].endswith("Z") and "message_uid" not in flat and "reservations" not in flat
    assert {"modified", "paid_amount"} <= flat.keys()
    assert set(flat["address"]) == {"city", "state", "country", "phone", "email", "street", "street_2"}
    line = flat["rooms"][0]
    assert (line["code"], line["name"]) == ("HB:FAMSTE", "Family Suite - Half Board")
    assert line["daily_prices"][0]["price"] == "219.0"
    assert line["extras"] == [{"name": "Hammam", "price": "60.0"}]
    assert (flat_direct["channel"], flat_direct["provider_number"], flat_direct["reason"]) == (None, None, "confirm")


def test_push_v1_shape_keys_rooms_by_line_id(sandbox: RunningSandbox) -> None:
    booking = sandbox.control.create_booking(rooms=2, inv_code="DLXTRP", checkin=FAR)
    callback = Callback()
    with serve(callback) as url:
        sandbox.control.push(booking["hr_number"], url, "cancel", shape="v1", encoding="query").wait()
    flat = callback.received[0]["data"]
    assert flat["reason"] == "cancel" and flat["channel"] == "Booking.com"
    assert "modified" not in flat and "paid_amount" not in flat and "message_uid" not in flat
    assert list(flat["rooms"]) == [str(line["id"]) for line in booking["rooms"]]
    assert all(room["code"] == "DLXTRP" for room in flat["rooms"].values())


def test_bad_push_options_are_refused(sandbox: RunningSandbox) -> None:
    hr_number = sandbox.control.reservations()[0]["hr_number"]
    with pytest.raises(ValueError, match="encoding"):
        sandbox.control.push(hr_number, "http://127.0.0.1:9/", "modify", encoding="json")
    with pytest.raises(ValueError, match="shape"):
        sandbox.control.push(hr_number, "http://127.0.0.1:9/", "modify", shape="2017")
    with pytest.raises(ValueError, match="shape"):
        SandboxConfig(push_shape="2025")


def test_push_retries_after_a_failed_answer(sandbox: RunningSandbox) -> None:
    hr_number = sandbox.control.reservations()[0]["hr_number"]
    callback = Callback(failures=1)
    with serve(callback) as url:
        handle = sandbox.control.push(hr_number, url, "modify", retries=3, backoff=0.01).wait()
    assert [a.status for a in handle.attempts] == [500, 200]
    assert handle.delivered == 1 and len(callback.received) == 2


def test_push_sends_duplicates_on_purpose(sandbox: RunningSandbox) -> None:
    booking = sandbox.control.create_booking(checkin=FAR)
    canceled = sandbox.control.cancel_booking(booking["hr_number"])
    callback = Callback()
    with serve(callback) as url:
        handle = sandbox.control.push(canceled, url, "cancel", duplicates=2).wait()
    assert handle.delivered == 3
    pushed = [r["data"]["reservations"][0] for r in callback.received]
    assert [r["message_uid"] for r in pushed] == [canceled["message_uid"]] * 3
    assert all(r["state"] == "canceled" for r in pushed)


def test_push_gives_up_after_bounded_retries(sandbox: RunningSandbox) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"  # bound, not listening: refused
        handle = sandbox.control.push(
            sandbox.control.reservations()[0]["hr_number"], url, "modify", retries=2, backoff=0.01
        ).wait()
    assert handle.delivered == 0
    assert [(a.attempt, a.status, a.error is not None) for a in handle.attempts] == [
        (0, None, True),
        (1, None, True),
        (2, None, True),
    ]


def test_push_refuses_an_unknown_reason(sandbox: RunningSandbox) -> None:
    with pytest.raises(ValueError, match="reason"):
        sandbox.control.push(sandbox.control.reservations()[0]["hr_number"], "http://127.0.0.1:9/", "new")


def _booking_story(sandbox: RunningSandbox) -> tuple[str, str]:
    booking = sandbox.control.create_booking(channel="online", checkin=FAR)
    sandbox.control.modify_booking(booking["hr_number"], nights=3)
    with httpx2.Client(base_url=sandbox.base_url) as hr:
        auth = {"token": sandbox.token, "hr_id": sandbox.hr_id}
        fired = hr.put("/reservations/fire", params=auth, data={"hr_number": booking["hr_number"], "event": "confirm"})
        assert fired.status_code == 200
    other = sandbox.control.create_booking(checkin=FAR)
    sandbox.control.cancel_booking(other["hr_number"])
    for handle in sandbox.control.pushes():
        handle.wait()
    return str(booking["hr_number"]), str(other["hr_number"])


def test_every_booking_change_is_pushed_once_a_callback_is_set(sandbox: RunningSandbox) -> None:
    callback = Callback()
    with serve(callback) as url:
        sandbox.control.set_callback(url)
        booking, other = _booking_story(sandbox)
    got = [
        (r["data"]["reservations"][0]["hr_number"], r["data"]["reservations"][0]["state"]) for r in callback.received
    ]
    assert got == [
        (booking, "reserved"),
        (booking, "reserved"),
        (booking, "confirmed"),
        (other, "confirmed"),
        (other, "canceled"),
    ]
    assert {r["content_type"] for r in callback.received} == {"multipart/form-data"}


def test_a_2016_callback_says_why_it_pushed(sandbox: RunningSandbox) -> None:
    callback = Callback()
    with serve(callback) as url:
        sandbox.control.set_callback(url, shape="2016", encoding="form")
        booking, other = _booking_story(sandbox)
    got = [(r["data"]["hr_number"], r["data"]["reason"], r["data"]["state"]) for r in callback.received]
    assert got == [
        (booking, "confirm", "reserved"),
        (booking, "modify", "reserved"),
        (booking, "confirm", "confirmed"),
        (other, "confirm", "confirmed"),
        (other, "cancel", "canceled"),
    ]
    assert [h.shape for h in sandbox.control.pushes()] == ["2016"] * 5


def test_automatic_pushes_follow_the_config_and_the_admin_push_takes_options() -> None:
    callback = Callback()
    with serve(callback) as url:
        with run_sandbox(SandboxConfig(seed=5, callback_url=url, push_encoding="query", push_shape="v1")) as sb:
            made = sb.control.create_booking(checkin=FAR)
            sb.control.pushes()[0].wait()
            admin = {"X-Sandbox-Admin": sb.admin_key}
            pushed = httpx2.post(
                sb.admin_url + "/push",
                headers=admin,
                json={
                    "hr_number": made["hr_number"],
                    "callback_url": url,
                    "reason": "modify",
                    "encoding": "form",
                    "shape": "2026",
                },
            ).json()["result"]
            assert (pushed["encoding"], pushed["shape"], pushed["delivered"]) == ("form", "2026", 1)
            bad = httpx2.post(
                sb.admin_url + "/push",
                headers=admin,
                json={
                    "hr_number": made["hr_number"],
                    "callback_url": url,
                    "reason": "modify",
                    "shape": "2099",
                },
            )
            assert bad.status_code == 422
    first, second = callback.received
    assert (first["content_type"], first["data"]["reason"], type(first["data"]["rooms"])) == ("", "confirm", dict)
    assert (second["content_type"], second["data"]["reservations"][0]["hr_number"]) == (
        "application/x-www-form-urlencoded",
        made["hr_number"],
    )


def test_no_push_without_a_callback(sandbox: RunningSandbox) -> None:
    sandbox.control.create_booking(checkin=FAR)
    assert sandbox.control.pushes() == []
