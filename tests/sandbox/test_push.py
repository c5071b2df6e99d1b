"""The sandbox pushes reservations like HotelRunner: POST with token/hr_id in the query and
`data` as a form field; retries a failed delivery; sends duplicates on purpose."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
from loopback import serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hotelrunner_mcp.sandbox import RunningSandbox


class Callback:
    """A tiny receiver: answers `failures` errors first, then {"status": "ok"}; keeps what it got."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []

    async def endpoint(self, request: Request) -> JSONResponse:
        form = await request.form()
        self.received.append({"query": dict(request.query_params), "data": json.loads(str(form["data"]))})
        if self.failures > 0:
            self.failures -= 1
            return JSONResponse({"status": "error"}, 500)
        return JSONResponse({"status": "ok"})


@contextmanager
def serve(callback: Callback) -> Iterator[str]:
    with serving(Starlette(routes=[Route("/hook", callback.endpoint, methods=["POST"])])) as root:
        yield f"{root}/hook"


def test_push_delivers_reservation_with_reason_and_credentials(sandbox: RunningSandbox) -> None:
    booking = sandbox.control.create_booking(channel="online", note="Late arrival")
    callback = Callback()
    with serve(callback) as url:
        handle = sandbox.control.push(booking["hr_number"], url, "confirm").wait()
    assert handle.delivered == 1 and len(callback.received) == 1
    got = callback.received[0]
    assert got["query"] == {"token": sandbox.token, "hr_id": sandbox.hr_id}
    assert got["data"]["reason"] == "confirm"
    assert {k: v for k, v in got["data"].items() if k != "reason"} == booking


def test_push_retries_after_a_failed_answer(sandbox: RunningSandbox) -> None:
    hr_number = sandbox.control.reservations()[0]["hr_number"]
    callback = Callback(failures=1)
    with serve(callback) as url:
        handle = sandbox.control.push(hr_number, url, "modify", retries=3, backoff=0.01).wait()
    assert [a.status for a in handle.attempts] == [500, 200]
    assert handle.delivered == 1 and len(callback.received) == 2


def test_push_sends_duplicates_on_purpose(sandbox: RunningSandbox) -> None:
    booking = sandbox.control.create_booking()
    canceled = sandbox.control.cancel_booking(booking["hr_number"])
    callback = Callback()
    with serve(callback) as url:
        handle = sandbox.control.push(canceled, url, "cancel", duplicates=2).wait()
    assert handle.delivered == 3
    assert [r["data"]["message_uid"] for r in callback.received] == [canceled["message_uid"]] * 3
    assert all(r["data"]["state"] == "canceled" for r in callback.received)


def test_push_gives_up_after_bounded_retries(sandbox: RunningSandbox) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"  # bound, not listening: refused
        handle = sandbox.control.push(sandbox.control.reservations()[0]["hr_number"], url, "modify", retries=2, backoff=0.01).wait()
    assert handle.delivered == 0
    assert [(a.attempt, a.status, a.error is not None) for a in handle.attempts] == [(0, None, True), (1, None, True), (2, None, True)]


def test_push_refuses_an_unknown_reason(sandbox: RunningSandbox) -> None:
    with pytest.raises(ValueError, match="reason"):
        sandbox.control.push(sandbox.control.reservations()[0]["hr_number"], "http://127.0.0.1:9/", "new")


def test_every_booking_change_is_pushed_once_a_callback_is_set(sandbox: RunningSandbox) -> None:
    callback = Callback()
    with serve(callback) as url:
        sandbox.control.set_callback(url)
        booking = sandbox.control.create_booking(channel="online")
        sandbox.control.modify_booking(booking["hr_number"], nights=3)
        with httpx2.Client(base_url=sandbox.base_url) as hr:
            auth = {"token": sandbox.token, "hr_id": sandbox.hr_id}
            fired = hr.put("/reservations/fire", params=auth, data={"hr_number": booking["hr_number"], "event": "confirm"})
            assert fired.status_code == 200
        other = sandbox.control.create_booking()
        sandbox.control.cancel_booking(other["hr_number"])
        for handle in sandbox.control.pushes():
            handle.wait()
    got = [(r["data"]["hr_number"], r["data"]["reason"], r["data"]["state"]) for r in callback.received]
    assert got == [
        (booking["hr_number"], "confirm", "reserved"),
        (booking["hr_number"], "modify", "reserved"),
        (booking["hr_number"], "confirm", "confirmed"),
        (other["hr_number"], "confirm", "confirmed"),
        (other["hr_number"], "cancel", "canceled"),
    ]


def test_no_push_without_a_callback(sandbox: RunningSandbox) -> None:
    sandbox.control.create_booking()
    assert sandbox.control.pushes() == []
