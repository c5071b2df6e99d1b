"""HotelRunnerClient against a real HTTP stand-in on 127.0.0.1: encoding, models, every upstream fault."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from stub_upstream import Answer, StubUpstream, json_of, query_of, run_stub

from hotelrunner_mcp.audit import AuditLog, read_audit
from hotelrunner_mcp.client import HotelRunnerClient
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.errors import (
    CredentialsRejected,
    InvalidRequest,
    MalformedResponse,
    NotApplied,
    NotConfigured,
    OutcomeUnknown,
    RateLimited,
    ReadOnlyMode,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from hotelrunner_mcp.gate import Gate
from hotelrunner_mcp.models import DailyRoomUpdate, DailyValues, RangeUpdate
from hotelrunner_mcp.quota import QuotaLimiter
from hotelrunner_mcp.redact import Redactor

TOKEN = "tok-SECRET-31337"
HR_ID = "hr-424242"
HANG = 1.5  # the stub's hang; the client's timeout is 0.3 s


@dataclass
class Rig:
    stub: StubUpstream
    client: HotelRunnerClient
    limiter: QuotaLimiter
    audit_path: Path

    @property
    def used(self) -> int:
        return self.limiter.status().used_today


@pytest.fixture
def stub() -> Iterator[StubUpstream]:
    with run_stub() as upstream:
        yield upstream


def make_rig(stub: StubUpstream, tmp_path: Path, **settings: object) -> Rig:
    options: dict = {"token": TOKEN, "hr_id": HR_ID, "base_url": stub.base_url, "data_dir": tmp_path,
                     "timeout_seconds": 0.3}
    options.update(settings)
    config = Settings(**options)
    redactor = Redactor([config.token, config.hr_id])
    limiter = QuotaLimiter(tmp_path / "quota.db", key="test", per_minute=100, per_day=250)
    audit = AuditLog(config.audit_file, redactor)
    return Rig(stub, HotelRunnerClient(config, Gate(limiter, audit, redactor)), limiter, config.audit_file)


@pytest.fixture
async def rig(stub: StubUpstream, tmp_path: Path) -> AsyncIterator[Rig]:
    rig = make_rig(stub, tmp_path)
    async with rig.client:
        yield rig
    # Whatever the test did, the secrets reached neither the audit log nor anything else on disk.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert TOKEN.encode() not in data and HR_ID.encode() not in data, path


def assert_clean(error: BaseException) -> None:
    """No secret in the message, the repr, or anything chained to it."""
    seen: BaseException | None = error
    while seen is not None:
        for text in (str(seen), repr(seen)):
            assert TOKEN not in text and HR_ID not in text
        seen = seen.__cause__ or seen.__context__


# ---------------------------------------------------------------------- happy paths and encoding


async def test_get_rooms_accepts_old_and_new_shapes_and_sends_credentials(rig: Rig) -> None:
    rig.stub.script("/rooms", Answer(body={"rooms": {
        "1": {"inv_code": "DT", "rate_code": "DT-BAR", "room_capacity": 3, "channel_codes": ["bookingcom"]},
        "2": {"availability_group": "DT", "code": "DT-NR", "price_update": False, "new_field": 1},
    }}))
    rooms = await rig.client.get_rooms()
    assert [(r.inv_code, r.rate_code) for r in rooms] == [("DT", "DT-BAR"), ("DT", "DT-NR")]
    assert rooms[1].non_refundable and rooms[1].price_update is False
    query = query_of(rig.stub.requests("/rooms")[0])
    assert query["token"] == [TOKEN] and query["hr_id"] == [HR_ID]
    [line] = [r for r in read_audit(rig.audit_path) if r["event"] == "upstream"]
    assert (line["method"], line["path"], line["status"], line["quota_left"]) == ("GET", "/rooms", 200, 249)


async def test_update_range_encodes_parameters_as_hotelrunner_expects(rig: Rig) -> None:
    update = RangeUpdate(inv_code="DT", rate_code="DT-BAR", start_date=date(2027, 4, 1), end_date=date(2027, 4, 30),
                         price=Decimal("169.50"), stop_sale=False, cta=True, days=[5, 6], channel_codes=["bookingcom"])
    result = await rig.client.update_range(update)
    assert result.ok and result.transaction_id == "555000111"
    [sent] = rig.stub.requests("/rooms/~")
    assert sent.method == "PUT"
    query = query_of(sent)
    assert query["start_date"] == ["2027-04-01"] and query["end_date"] == ["2027-04-30"]
    assert (query["price"], query["stop_sale"], query["cta"]) == (["169.50"], ["0"], ["1"])
    assert query["days[]"] == ["5", "6"] and query["channel_codes[]"] == ["bookingcom"]
    assert "availability" not in query  # not sent = not changed
    intent, outcome = [r for r in read_audit(rig.audit_path) if r["path"] == "/rooms/~"]
    assert intent["event"] == "upstream_intent" and intent["params"]["price"] == "169.50"
    assert (outcome["event"], outcome["status"], outcome["transaction_id"]) == ("upstream", 200, "555000111")


async def test_update_daily_sends_json_and_reports_partial_failures(rig: Rig) -> None:
    rig.stub.script("/rooms/daily", Answer(body={"status": "ok", "transaction_id": 9, "errors": ["FS: 2027-05-02"]}))
    rooms = [DailyRoomUpdate(inv_code="FS", dates=[
        DailyValues(date=date(2027, 5, 1), price=Decimal("189"), stop_sale=True),
        DailyValues(date=date(2027, 5, 2), min_stay=2),
    ])]
    result = await rig.client.update_daily(rooms)
    assert result.partial and result.errors == ["FS: 2027-05-02"] and result.transaction_id == "9"
    assert json_of(rig.stub.requests("/rooms/daily")[0]) == {"rooms": [{"inv_code": "FS", "dates": [
        {"date": "2027-05-01", "price": "189", "stop_sale": 1},
        {"date": "2027-05-02", "min_stay": 2},
    ]}]}


async def test_get_reservations_pages_and_tolerates_variants(rig: Rig) -> None:
    rig.stub.script("/reservations", Answer(body={"count": 1, "current_page": 1, "pages": 1, "reservations": [{
        "hr_number": "R754208185", "state": "reserved", "guest": {"first_name": "Amal", "last_name": "Idrissi"},
        "total": "338.00", "currency": "EUR", "updated_at": "2027-03-01T10:00:00+01:00",
        "message_uid": "m-1", "requires_response": True, "next_states": ["confirm", "cancel"],
        "rooms": {"77": {"availability_group": "DT", "price": 169, "daily_prices": [{"date": "2027-04-01", "price": "169"}]}},
    }]}))
    page = await rig.client.get_reservations(from_date=date(2027, 3, 1), per_page=50, undelivered=False)
    [booking] = page.reservations
    assert (booking.guest, booking.total, booking.rooms[0].inv_code) == ("Amal Idrissi", Decimal("338.00"), "DT")
    assert booking.rooms[0].line_id == "77" and booking.next_states == ["confirm", "cancel"]
    query = query_of(rig.stub.requests("/reservations")[0])
    assert (query["from_date"], query["per_page"], query["undelivered"]) == (["2027-03-01"], ["50"], ["0"])


async def test_acknowledge_fire_and_infos(rig: Rig) -> None:
    await rig.client.acknowledge_reservation("m-1", pms_number="PMS-7")
    await rig.client.fire_reservation("R1", "cancel", "no_show")
    assert query_of(rig.stub.requests("/reservations/~")[0])["pms_number"] == ["PMS-7"]
    assert query_of(rig.stub.requests("/reservations/fire")[0])["cancel_reason"] == ["no_show"]
    rig.stub.script("/infos/transaction_details", Answer(body={"transaction": {
        "id": 42, "counts": {"failed": 1, "succeeded": 2, "in_progress": 0},
        "details": [{"channel_code": "bookingcom", "state": "failed", "allocation_group": "DT",
                     "error_message": "price below minimum"}]}}))
    transaction = await rig.client.get_transaction("42")
    assert transaction.counts.failed == 1 and transaction.details[0].inv_code == "DT"
    assert [c.code for c in await rig.client.get_connected_channels()] == ["bookingcom"]
    assert [c.code for c in await rig.client.get_channels()] == ["bookingcom"]


# ---------------------------------------------------------------------- refusals before sending


async def test_missing_credentials_send_nothing(stub: StubUpstream, tmp_path: Path) -> None:
    rig = make_rig(stub, tmp_path, token=None)
    async with rig.client:
        with pytest.raises(NotConfigured, match="HOTELRUNNER_TOKEN"):
            await rig.client.get_rooms()
    assert stub.seen == [] and rig.used == 0


async def test_read_only_mode_refuses_writes(stub: StubUpstream, tmp_path: Path) -> None:
    rig = make_rig(stub, tmp_path, read_only=True)
    async with rig.client:
        with pytest.raises(ReadOnlyMode):
            await rig.client.fire_reservation("R1", "confirm")
    assert stub.seen == [] and rig.used == 0


@pytest.mark.parametrize(
    "update",
    [
        RangeUpdate(inv_code="DT", start_date=date(2027, 4, 2), end_date=date(2027, 4, 1), price=Decimal("1")),
        RangeUpdate(inv_code="DT", start_date=date(2027, 4, 1), end_date=date(2027, 4, 2)),
        RangeUpdate(inv_code="DT", start_date=date(2027, 4, 1), end_date=date(2027, 4, 2), price=Decimal("-5")),
        RangeUpdate(inv_code="DT", start_date=date(2027, 4, 1), end_date=date(2027, 4, 2), days=[7], cta=True),
    ],
    ids=["reversed range", "nothing to change", "negative price", "bad weekday"],
)
async def test_bad_input_costs_nothing(rig: Rig, update: RangeUpdate) -> None:
    with pytest.raises(InvalidRequest):
        await rig.client.update_range(update)
    assert rig.stub.seen == [] and rig.used == 0


async def test_too_many_daily_dates_are_refused(rig: Rig) -> None:
    days = [DailyValues(date=date.fromordinal(date(2027, 1, 1).toordinal() + n), availability=1) for n in range(91)]
    with pytest.raises(InvalidRequest, match="at most 90"):
        await rig.client.update_daily([DailyRoomUpdate(inv_code="DT", dates=days)])
    assert rig.used == 0


# ---------------------------------------------------------------------- upstream faults


async def test_rejected_credentials(rig: Rig) -> None:
    rig.stub.script("/rooms", Answer(401, {"error": f"invalid token {TOKEN}"}))
    with pytest.raises(CredentialsRejected, match="HOTELRUNNER_TOKEN and HOTELRUNNER_HR_ID") as caught:
        await rig.client.get_rooms()
    assert caught.value.status == 401
    assert_clean(caught.value)


async def test_429_is_respected_by_the_local_quota(rig: Rig) -> None:
    rig.stub.script("/rooms", Answer(429, {"error": "too many requests"}, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited, match="429") as caught:
        await rig.client.get_rooms()
    assert rig.limiter.status().blocked_until is not None
    assert len(rig.stub.requests("/rooms")) == 1
    assert_clean(caught.value)


async def test_a_read_is_retried_once_on_503_and_both_attempts_count(rig: Rig) -> None:
    rig.stub.script("/rooms", Answer(503, {"error": "maintenance"}))
    rooms = await rig.client.get_rooms()
    assert rooms and len(rig.stub.requests("/rooms")) == 2 and rig.used == 2


async def test_a_read_failing_twice_is_reported_unavailable(rig: Rig) -> None:
    rig.stub.script("/rooms", Answer(503, {}), Answer(502, {}))
    with pytest.raises(UpstreamUnavailable, match="try again in a few minutes") as caught:
        await rig.client.get_rooms()
    assert caught.value.status == 502 and rig.used == 2


async def test_a_500_on_a_read_is_not_retried(rig: Rig) -> None:
    rig.stub.script("/infos/channels", Answer(500, {}))
    with pytest.raises(UpstreamUnavailable):
        await rig.client.get_channels()
    assert len(rig.stub.requests("/infos/channels")) == 1


async def test_a_read_timeout_is_retried_once_then_reported(rig: Rig) -> None:
    rig.stub.script("/rooms", Answer(hang=HANG, body={}), Answer(hang=HANG, body={}))
    with pytest.raises(UpstreamTimeout, match="tried twice") as caught:
        await rig.client.get_rooms()
    assert rig.used == 2
    assert_clean(caught.value)
    assert [r["error_code"] for r in read_audit(rig.audit_path) if r["event"] == "upstream"] == ["ReadTimeout"] * 2


@pytest.mark.parametrize("answer", [Answer(503, {}), Answer(500, "oops"), Answer(hang=HANG, body={})],
                         ids=["503", "500", "timeout"])
async def test_a_failed_write_is_outcome_unknown_and_never_retried(rig: Rig, answer: Answer) -> None:
    rig.stub.script("/rooms/~", answer)
    update = RangeUpdate(inv_code="DT", start_date=date(2027, 4, 1), end_date=date(2027, 4, 1), availability=0)
    with pytest.raises(OutcomeUnknown, match="do not resend blindly|Do not resend blindly") as caught:
        await rig.client.update_range(update)
    assert len(rig.stub.requests("/rooms/~")) == 1 and rig.used == 1
    assert_clean(caught.value)


async def test_try_again_is_not_applied(rig: Rig) -> None:
    rig.stub.script("/rooms/~", Answer(body={"status": "try_again", "transaction_id": "77"}))
    update = RangeUpdate(inv_code="DT", start_date=date(2027, 4, 1), end_date=date(2027, 4, 1), price=Decimal("150"))
    with pytest.raises(NotApplied, match="NOT applied, send it again in a few minutes"):
        await rig.client.update_range(update)
    assert len(rig.stub.requests("/rooms/~")) == 1


async def test_a_refused_state_change_is_reported_and_not_retried(rig: Rig) -> None:
    rig.stub.script("/reservations/fire", Answer(body={"status": "error", "message": "state_change_is_not_available"}))
    with pytest.raises(UpstreamRejected, match="state_change_is_not_available"):
        await rig.client.fire_reservation("R1", "confirm")
    assert len(rig.stub.requests("/reservations/fire")) == 1


async def test_a_422_carries_hotelrunners_reason(rig: Rig) -> None:
    rig.stub.script("/rooms/~", Answer(422, {"message": "inv_code not found"}))
    update = RangeUpdate(inv_code="XX", start_date=date(2027, 4, 1), end_date=date(2027, 4, 1), availability=1)
    with pytest.raises(UpstreamRejected, match="inv_code not found"):
        await rig.client.update_range(update)


@pytest.mark.parametrize("body", ["<html>maintenance</html>", '{"rooms": [{"name": "no inv_code"}]}', "[]"],
                         ids=["not json", "missing field", "not an object"])
async def test_a_malformed_answer_is_a_typed_error(rig: Rig, body: str) -> None:
    rig.stub.script("/rooms", Answer(body=body))
    with pytest.raises(MalformedResponse, match="GET /rooms"):
        await rig.client.get_rooms()


async def test_a_malformed_answer_to_a_write_is_outcome_unknown(rig: Rig) -> None:
    rig.stub.script("/rooms/daily", Answer(body="not json"))
    days = [DailyValues(date=date(2027, 5, 1), availability=1)]
    with pytest.raises(OutcomeUnknown):
        await rig.client.update_daily([DailyRoomUpdate(inv_code="DT", dates=days)])


async def test_an_unreachable_host_leaks_nothing(tmp_path: Path) -> None:
    with run_stub() as gone:
        base_url = gone.base_url
    rig = make_rig(gone, tmp_path, base_url=base_url)
    async with rig.client:
        with pytest.raises(UpstreamTimeout, match="Could not connect") as caught:
            await rig.client.get_rooms()
    assert isinstance(caught.value, UpstreamError) and caught.value.__context__ is None
    assert_clean(caught.value)
    assert TOKEN not in rig.audit_path.read_text()


async def test_http_library_logs_never_show_the_token(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await rig.client.get_rooms()
    logging.getLogger("httpx2").setLevel(logging.DEBUG)  # even if someone turns them back on
    try:
        await rig.client.get_channels()
    finally:
        logging.getLogger("httpx2").setLevel(logging.WARNING)
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)
    assert all(TOKEN not in r.getMessage() and HR_ID not in r.getMessage() for r in caplog.records)
