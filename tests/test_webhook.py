"""The push receiver over real HTTP: uvicorn on a free loopback port, an httpx2 client, the real store."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.errors import NotConfigured
from hotelrunner_mcp.gate.audit import AuditLog, read_audit
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.reservations.mirror import ReservationStore, UpsertCounts
from hotelrunner_mcp.reservations.push import DEFAULT_PATH, create_webhook_app
from loopback import serving

TOKEN = "tok-SECRET-7f3a9c"
HR_ID = "hr-424242"


class Receiver:
    """A running receiver plus what a test needs to look at: the store, the audit file, the callback."""

    def __init__(self, base_url: str, store: ReservationStore, audit_path: Path, stored: list[UpsertCounts]) -> None:
        self.base_url = base_url
        self.store = store
        self.audit_path = audit_path
        self.stored = stored
        self.http = httpx2.Client(base_url=base_url, timeout=10)

    def push(self, data: Any, *, token: str = TOKEN, hr_id: str = HR_ID, in_query: bool = False) -> httpx2.Response:
        text = data if isinstance(data, str) else json.dumps(data)
        params = {"token": token, "hr_id": hr_id}
        if in_query:
            return self.http.post(DEFAULT_PATH, params={**params, "data": text})
        return self.http.post(DEFAULT_PATH, params=params, data={"data": text})

    def audit(self, event: str) -> list[dict[str, Any]]:
        return [r for r in read_audit(self.audit_path) if r["event"] == event]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(token=TOKEN, hr_id=HR_ID, data_dir=tmp_path / "data")


@contextmanager
def running_receiver(settings: Settings) -> Iterator[Receiver]:
    stored: list[UpsertCounts] = []
    audit = AuditLog(settings.audit_file, Redactor([settings.token, settings.hr_id]))
    with ReservationStore(settings.data_dir / "mirror.db") as store:
        app = create_webhook_app(settings, store, audit, on_stored=stored.append)
        with serving(app) as base_url:
            rx = Receiver(base_url, store, settings.audit_file, stored)
            try:
                yield rx
            finally:
                rx.http.close()


@pytest.fixture
def receiver(settings: Settings) -> Iterator[Receiver]:
    with running_receiver(settings) as rx:
        yield rx


def booking(number: str = "R754208185", *, updated_at: str = "2026-07-01T10:00:00Z", **changes: Any) -> dict[str, Any]:
    """A push payload shaped like HotelRunner's, for Villa Thaifa."""
    payload: dict[str, Any] = {
        "hr_number": number,
        "provider_number": "4011223344",
        "channel": "bookingcom",
        "state": "confirmed",
        "reason": "confirm",
        "guest": "Anna Müller",
        "updated_at": updated_at,
        "completed_at": "2026-06-30T18:12:00Z",
        "checkin_date": "2026-08-10",
        "checkout_date": "2026-08-13",
        "total": "507.00",
        "currency": "EUR",
        "rooms": [
            {
                "inv_code": "DLXT",
                "code": "DLXT",
                "name": "Deluxe Triple",
                "price": "507.00",
                "nights": 3,
                "checkin_date": "2026-08-10",
                "checkout_date": "2026-08-13",
                "total_adult": 2,
            }
        ],
        "message_uid": "msg-1",
    }
    payload.update(changes)
    return payload


def test_a_new_push_is_stored_acknowledged_and_audited(receiver: Receiver) -> None:
    answer = receiver.push(booking())

    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    stored = receiver.store.get("R754208185")
    assert stored is not None and stored.guest == "Anna Müller" and str(stored.total) == "507.00"
    assert receiver.stored == [UpsertCounts(new=1)]
    [line] = receiver.audit("webhook.push")
    assert line["new"] == 1 and line["reservations"][0]["hr_number"] == "R754208185"


def test_modified_then_canceled_pushes_update_the_reservation(receiver: Receiver) -> None:
    receiver.push(booking())
    receiver.push(
        booking(updated_at="2026-07-02T09:00:00Z", reason="modify", total="676.00", checkout_date="2026-08-14")
    )
    modified = receiver.store.get("R754208185")
    assert modified is not None and str(modified.total) == "676.00" and str(modified.checkout_date) == "2026-08-14"

    answer = receiver.push(
        booking(updated_at="2026-07-03T09:00:00Z", reason="cancel", state="canceled", cancel_reason="customer")
    )
    assert answer.json() == {"status": "ok"}
    canceled = receiver.store.get("R754208185")
    assert canceled is not None and canceled.state == "canceled" and canceled.cancel_reason == "customer"
    assert len(receiver.store.history("R754208185")) == 3


def test_a_duplicate_push_is_harmless(receiver: Receiver) -> None:
    first = receiver.push(booking())
    again = receiver.push(booking(message_uid="msg-retry"))  # HotelRunner's retry of the same delivery

    assert first.json() == again.json() == {"status": "ok"}
    assert len(receiver.store.history("R754208185")) == 1
    assert receiver.stored == [UpsertCounts(new=1), UpsertCounts(unchanged=1)]


def test_an_older_push_arriving_late_leaves_the_newer_version(receiver: Receiver) -> None:
    receiver.push(booking(updated_at="2026-07-02T12:00:00Z", state="canceled", reason="cancel"))
    # 14:30 at +03:00 is 11:30 UTC: older than the cancellation, whatever the clock text says.
    late = receiver.push(booking(updated_at="2026-07-02T14:30:00+03:00", state="confirmed", reason="confirm"))

    assert late.json() == {"status": "ok"}
    current = receiver.store.get("R754208185")
    assert current is not None and current.state == "canceled"
    assert receiver.stored[-1] == UpsertCounts(stale=1)


@pytest.mark.parametrize("token,hr_id", [("forged-token", HR_ID), (TOKEN, "hr-999999"), ("", "")])
def test_wrong_credentials_get_401_and_nothing_is_stored(receiver: Receiver, token: str, hr_id: str) -> None:
    answer = receiver.push(booking(), token=token, hr_id=hr_id)

    assert answer.status_code == 401
    assert answer.json()["error"] == "bad_credentials"
    assert receiver.store.get("R754208185") is None and receiver.stored == []
    [line] = receiver.audit("webhook.refused")
    assert line["status"] == 401
    audit_text = receiver.audit_path.read_text()
    assert TOKEN not in audit_text and HR_ID not in audit_text and "forged-token" not in audit_text


def test_a_push_without_any_credentials_is_refused(receiver: Receiver) -> None:
    answer = receiver.http.post(DEFAULT_PATH, data={"data": json.dumps(booking())})
    assert answer.status_code == 401 and receiver.store.get("R754208185") is None


@pytest.mark.parametrize(
    "data,status,error",
    [
        (None, 400, "missing_data"),
        ("{not json", 400, "not_json"),
        ('"just a string"', 422, "invalid_push"),
        ({"guest": "No Number", "updated_at": "2026-07-01T10:00:00Z"}, 422, "missing_hr_number"),
        (booking(total="a lot"), 422, "invalid_reservation"),
        ({"reservations": []}, 422, "empty_push"),
        ({"reservations": "R1"}, 422, "invalid_push"),
    ],
)
def test_malformed_pushes_are_refused_with_a_clear_message(
    receiver: Receiver, data: Any, status: int, error: str
) -> None:
    if data is None:
        answer = receiver.http.post(DEFAULT_PATH, params={"token": TOKEN, "hr_id": HR_ID}, data={"other": "x"})
    else:
        answer = receiver.push(data)

    assert answer.status_code == status
    body = answer.json()
    assert body["status"] == "error" and body["error"] == error and body["message"]
    assert receiver.store.count() == 0 and receiver.stored == []
    [line] = receiver.audit("webhook.refused")
    assert line["error"] == error and TOKEN not in json.dumps(line)


def test_a_batch_with_one_bad_reservation_stores_none_of_it(receiver: Receiver) -> None:
    answer = receiver.push({"reservations": [booking("R1"), booking("R2", checkin_date="not a date")]})

    assert answer.status_code == 422
    assert "reservations[1]" in answer.json()["message"] and "R2" in answer.json()["message"]
    assert receiver.store.get("R1") is None and receiver.store.get("R2") is None


def test_a_batch_of_several_reservations_is_stored_whole(receiver: Receiver) -> None:
    batch = {"reservations": [booking("R1"), booking("R2", guest="Karim Benali"), booking("R3", channel="expedia")]}
    answer = receiver.push(batch)

    assert answer.json() == {"status": "ok"}
    assert [receiver.store.get(n).hr_number for n in ("R1", "R2", "R3")] == ["R1", "R2", "R3"]
    assert receiver.stored == [UpsertCounts(new=3)]


def test_data_in_the_query_string_is_accepted(receiver: Receiver) -> None:
    answer = receiver.push(booking(), in_query=True)

    assert answer.json() == {"status": "ok"}
    assert receiver.store.get("R754208185") is not None


def test_health_answers_without_secrets(receiver: Receiver) -> None:
    answer = receiver.http.get("/health")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert TOKEN not in answer.text and HR_ID not in answer.text


def test_the_receiver_will_not_start_without_credentials(tmp_path: Path) -> None:
    settings = Settings(token=None, hr_id=HR_ID, data_dir=tmp_path)
    with ReservationStore(tmp_path / "mirror.db") as store, pytest.raises(NotConfigured, match="HOTELRUNNER_TOKEN"):
        create_webhook_app(settings, store, AuditLog(tmp_path / "audit.jsonl", Redactor()))


def test_pushes_survive_a_restart(settings: Settings) -> None:
    audit = AuditLog(settings.audit_file, Redactor([TOKEN, HR_ID]))
    with (
        ReservationStore(settings.data_dir / "mirror.db") as store,
        serving(create_webhook_app(settings, store, audit)) as url,
    ):
        with httpx2.Client(base_url=url) as http:
            http.post(DEFAULT_PATH, params={"token": TOKEN, "hr_id": HR_ID}, data={"data": json.dumps(booking())})
    with ReservationStore(settings.data_dir / "mirror.db") as reopened:
        assert reopened.get("R754208185") is not None


def test_serve_webhook_runs_as_its_own_process_and_logs_no_secret(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = (
        "import sys; from pathlib import Path; from hotelrunner_mcp.config import Settings;"
        "from hotelrunner_mcp.reservations.push import serve_webhook;"
        f"serve_webhook(Settings(token={TOKEN!r}, hr_id={HR_ID!r}, data_dir=Path({str(tmp_path)!r})), port={port})"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            deadline = time.monotonic() + 15
            while True:  # readiness wait, not an assertion
                try:
                    http.get("/health")
                    break
                except httpx2.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            ok = http.post(DEFAULT_PATH, params={"token": TOKEN, "hr_id": HR_ID}, data={"data": json.dumps(booking())})
            forged = http.post(DEFAULT_PATH, params={"token": "forged-token", "hr_id": HR_ID}, data={"data": "{}"})
        assert (ok.status_code, forged.status_code) == (200, 401)
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)  # stdout and stderr together
    assert "push receiver on http://127.0.0.1" in output and "push refused (401" in output
    assert TOKEN not in output and HR_ID not in output and "forged-token" not in output
    with ReservationStore(tmp_path / "mirror.db") as store:
        assert store.get("R754208185") is not None


def test_a_push_that_cannot_be_audited_is_not_stored_and_is_asked_again(settings: Settings, tmp_path: Path) -> None:
    unwritable = tmp_path / "audit-is-a-folder"
    unwritable.mkdir()
    with ReservationStore(settings.data_dir / "mirror.db") as store:
        app = create_webhook_app(settings, store, AuditLog(unwritable, Redactor([TOKEN, HR_ID])))
        with serving(app) as url, httpx2.Client(base_url=url) as http:
            answer = http.post(
                DEFAULT_PATH, params={"token": TOKEN, "hr_id": HR_ID}, data={"data": json.dumps(booking())}
            )
        assert answer.status_code == 503 and answer.json()["error"] == "storage_unavailable"
        assert store.get("R754208185") is None  # HotelRunner retries the delivery later


def test_a_failing_listener_does_not_turn_a_stored_push_into_an_error(settings: Settings) -> None:
    def broken(counts: UpsertCounts) -> None:
        raise RuntimeError("listener bug")

    audit = AuditLog(settings.audit_file, Redactor([TOKEN, HR_ID]))
    with ReservationStore(settings.data_dir / "mirror.db") as store:
        with (
            serving(create_webhook_app(settings, store, audit, on_stored=broken)) as url,
            httpx2.Client(base_url=url) as http,
        ):
            answer = http.post(
                DEFAULT_PATH, params={"token": TOKEN, "hr_id": HR_ID}, data={"data": json.dumps(booking())}
            )
        assert answer.json() == {"status": "ok"} and store.get("R754208185") is not None


def test_a_json_body_is_taken_as_the_data(receiver: Receiver) -> None:
    answer = receiver.http.post(DEFAULT_PATH, params={"token": TOKEN, "hr_id": HR_ID}, json=booking())
    assert answer.json() == {"status": "ok"} and receiver.store.get("R754208185") is not None


def test_an_oversized_push_is_refused(receiver: Receiver) -> None:
    answer = receiver.push(booking(note="x" * 2_100_000))
    assert answer.status_code == 413 and receiver.store.count() == 0


# --------------------------------------------------------------------------- pushes sent by the sandbox


@pytest.fixture
def sandbox_receiver(sandbox: Any, tmp_path: Path) -> Iterator[Receiver]:
    """A receiver that knows the sandbox's credentials, as a real deployment knows HotelRunner's."""
    with running_receiver(Settings(token=sandbox.token, hr_id=sandbox.hr_id, data_dir=tmp_path / "data")) as rx:
        yield rx


def test_pushes_sent_by_the_sandbox_keep_the_mirror_right(sandbox: Any, sandbox_receiver: Receiver) -> None:
    callback = sandbox_receiver.base_url + DEFAULT_PATH
    booked = sandbox.control.create_booking(inv_code="FAMSTE", nights=3, guest_name="Lena Schmidt")
    number = str(booked["hr_number"])

    first = sandbox.control.push(number, callback, "confirm", duplicates=1).wait()
    assert first.delivered == 2  # the push and HotelRunner's duplicate, both acknowledged
    assert sandbox_receiver.store.get(number).guest == "Lena Schmidt"

    sandbox.control.modify_booking(number, nights=5)
    sandbox.control.push(number, callback, "modify").wait()
    modified = sandbox_receiver.store.get(number)
    assert (modified.checkout_date - modified.checkin_date).days == 5

    sandbox.control.cancel_booking(number)
    sandbox.control.push(number, callback, "cancel").wait()
    assert sandbox_receiver.store.get(number).state == "canceled"
    assert len(sandbox_receiver.store.history(number)) == 3  # new, modified, canceled; the duplicate added nothing
    assert [c.new + c.updated for c in sandbox_receiver.stored] == [1, 0, 1, 1]


def test_a_sandbox_push_with_other_credentials_is_refused(sandbox: Any, tmp_path: Path) -> None:
    settings = Settings(token="someone-elses-token", hr_id=sandbox.hr_id, data_dir=tmp_path / "data")
    with running_receiver(settings) as rx:
        number = str(sandbox.control.reservations()[0]["hr_number"])
        handle = sandbox.control.push(number, rx.base_url + DEFAULT_PATH, "confirm", retries=0).wait()
        assert handle.delivered == 0 and handle.attempts[0].status == 401
        assert rx.store.count() == 0


def test_a_push_nested_past_any_sane_depth_is_refused_not_retried(receiver: Receiver) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    answer = receiver.push(deep)
    assert answer.status_code == 400 and answer.json()["error"] == "not_json"


def test_a_push_stamped_far_in_the_future_is_refused(receiver: Receiver) -> None:
    answer = receiver.push(booking(updated_at="9999-12-31T00:00:00Z"))
    assert answer.status_code == 422 and answer.json()["error"] == "updated_at_in_future"
    assert receiver.store.get("R754208185") is None
    assert receiver.push(booking(updated_at="2026-07-01T10:00:00Z")).status_code == 200  # a real one still lands
