"""HotelRunnerClient over real HTTP: the sandbox for the happy paths and faults, a small scripted
stand-in (stub_upstream) for the older payload variants the sandbox does not speak."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from client_rig import Rig, assert_clean, assert_no_secret_on_disk, make_rig
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
from hotelrunner_mcp.hotelrunner.models import DailyRoomUpdate, DailyValues, RangeUpdate
from hotelrunner_mcp.sandbox import RunningSandbox
from stub_upstream import Answer, StubUpstream, run_stub

FUTURE = date.today() + timedelta(days=60)


def sent(sandbox: RunningSandbox, path: str) -> list:
    return [r for r in sandbox.control.requests() if r.path == path]


# ---------------------------------------------------------------------- happy paths and encoding (sandbox)


async def test_get_rooms_returns_every_rate(rig: Rig) -> None:
    rooms = await rig.client.get_rooms()
    assert {r.inv_code for r in rooms} >= {"DLXTRP", "PRESTE"}
    nr = next(r for r in rooms if r.rate_code == "NR:DLXTRP")
    assert nr.non_refundable and nr.sales_currency == "EUR"
    [line] = rig.audit("upstream")
    assert (line["method"], line["path"], line["status"], line["quota_left"]) == ("GET", "/rooms", 200, 249)


async def test_update_range_encodes_parameters_as_hotelrunner_expects(rig: Rig, sandbox: RunningSandbox) -> None:
    update = RangeUpdate(
        inv_code="DLXTRP",
        rate_code="DLXTRP",
        start_date=FUTURE,
        end_date=FUTURE + timedelta(days=6),
        price=Decimal("171.50"),
        stop_sale=False,
        cta=True,
        days=[5, 6],
        channel_codes=["bookingcom"],
    )
    result = await rig.client.update_range(update)
    assert result.ok and result.transaction_id
    [request] = sent(sandbox, "/rooms/~")
    assert request.method == "PUT" and request.status == 200
    assert request.params["start_date"] == FUTURE.isoformat()
    assert (request.params["price"], request.params["stop_sale"], request.params["cta"]) == ("171.50", "0", "1")
    assert request.params["days[]"] == ["5", "6"] and "availability" not in request.params
    intent, outcome = [r for r in rig.audit() if r.get("path") == "/rooms/~"]
    assert intent["event"] == "upstream_intent" and intent["params"]["price"] == "171.50"
    assert (outcome["event"], outcome["status"], outcome["transaction_id"]) == ("upstream", 200, result.transaction_id)
    transaction = await rig.client.get_transaction(result.transaction_id)
    assert transaction.details and {d.channel_code for d in transaction.details} == {"bookingcom"}


async def test_update_daily_sends_json_and_reports_partial_failures(rig: Rig, sandbox: RunningSandbox) -> None:
    rooms = [
        DailyRoomUpdate(
            inv_code="FAMSTE",
            rate_code="FAMSTE",
            dates=[
                DailyValues(date=FUTURE, price=Decimal("189"), stop_sale=True),
                DailyValues(date=FUTURE + timedelta(days=1), min_stay=2),
            ],
        ),
        DailyRoomUpdate(
            inv_code="FAMSTE",
            rate_code="HB:FAMSTE",
            dates=[
                DailyValues(date=FUTURE, price=Decimal("219")),
                DailyValues(date=FUTURE + timedelta(days=1), price=Decimal("219.555")),  # HotelRunner refuses this date
            ],
        ),
    ]
    result = await rig.client.update_daily(rooms)
    [request] = sent(sandbox, "/rooms/daily")
    assert request.json["rooms"][0] == {
        "inv_code": "FAMSTE",
        "dates": [
            {"date": FUTURE.isoformat(), "price": "189", "stop_sale": 1},
            {"date": (FUTURE + timedelta(days=1)).isoformat(), "min_stay": 2},
        ],
    }
    assert request.json["rooms"][1]["rate_code"] == "HB:FAMSTE" and "inv_code" not in request.json["rooms"][1]
    assert result.partial
    [refusal] = result.refusals() or []
    assert (refusal.code, refusal.date) == ("HB:FAMSTE", FUTURE + timedelta(days=1))
    assert sandbox.control.calendar("FAMSTE", FUTURE, "HB:FAMSTE")["channels"]["online"]["price"] == Decimal("219")


async def test_reservations_list_acknowledge_and_fire(rig: Rig, sandbox: RunningSandbox) -> None:
    booked = sandbox.control.create_booking(inv_code="SUITE", channel="online", guest_name="Amal Idrissi")
    page = await rig.client.get_reservations(per_page=50)
    [booking] = [r for r in page.reservations if r.hr_number == booked["hr_number"]]
    assert booking.guest == "Amal Idrissi" and booking.rooms[0].inv_code == "SUITE"
    assert (
        booking.requires_response is None and booking.awaits_response and booking.total
    )  # as the verbatim 2026 object
    await rig.client.fire_reservation(booking.hr_number, "confirm")
    await rig.client.acknowledge_reservation(booking.message_uid, pms_number="PMS-7")
    assert sandbox.control.reservation(booking.hr_number)["state"] == "confirmed"
    assert booking.hr_number not in [r.hr_number for r in (await rig.client.get_reservations()).reservations]
    everything = await rig.client.get_reservations(undelivered=False, reservation_number=booking.hr_number)
    assert [r.state for r in everything.reservations] == ["confirmed"]
    assert sent(sandbox, "/reservations")[-1].params["undelivered"] == "false"


async def test_channel_infos(rig: Rig) -> None:
    connected = await rig.client.get_connected_channels()
    assert {"bookingcom", "expedia"} <= {c.code for c in connected}
    assert len(await rig.client.get_channels()) >= len(connected)


# ---------------------------------------------------------------------- payload variants (scripted stand-in)


async def test_older_room_shapes_and_rooms_as_an_object(stub_rig: Rig, stub: StubUpstream) -> None:
    stub.script(
        "/rooms",
        Answer(
            body={
                "rooms": {
                    "1": {"inv_code": "DT", "rate_code": "DT", "room_capacity": "3", "channel_codes": ["bookingcom"]},
                    "2": {"availability_group": "DT", "code": "NR:DT", "price_update": False, "new_field": 1},
                }
            }
        ),
    )
    rooms = await stub_rig.client.get_rooms()
    assert [(r.inv_code, r.rate_code) for r in rooms] == [("DT", "DT"), ("DT", "NR:DT")]
    assert rooms[0].room_capacity == 3 and rooms[1].price_update is False


async def test_reservation_variants(stub_rig: Rig, stub: StubUpstream) -> None:
    stub.script(
        "/reservations",
        Answer(
            body={
                "count": 1,
                "current_page": 1,
                "pages": 1,
                "reservations": [
                    {
                        "hr_number": "R754208185",
                        "guest": {"first_name": "Amal", "last_name": "Idrissi"},
                        "total": 338,
                        "updated_at": "2027-03-01T10:00:00+01:00",
                        "rooms": {
                            "77": {
                                "availability_group": "DT",
                                "price": "169",
                                "daily_prices": [{"date": "2027-04-01", "price": 169}],
                            }
                        },
                    }
                ],
            }
        ),
    )
    [booking] = (await stub_rig.client.get_reservations()).reservations
    assert (booking.guest, booking.total, booking.rooms[0].inv_code) == ("Amal Idrissi", Decimal("338"), "DT")
    assert booking.rooms[0].line_id == "77" and booking.updated_at.utcoffset() == timedelta(hours=1)


# ---------------------------------------------------------------------- refusals before sending


async def test_missing_credentials_send_nothing(sandbox: RunningSandbox, tmp_path: Path) -> None:
    rig = make_rig(tmp_path, sandbox.base_url, None, sandbox.hr_id)
    async with rig.client:
        with pytest.raises(NotConfigured, match="HOTELRUNNER_TOKEN"):
            await rig.client.get_rooms()
    assert sandbox.control.requests() == [] and rig.used == 0


async def test_read_only_mode_refuses_writes(sandbox: RunningSandbox, tmp_path: Path) -> None:
    rig = make_rig(tmp_path, sandbox.base_url, sandbox.token, sandbox.hr_id, read_only=True)
    async with rig.client:
        with pytest.raises(ReadOnlyMode):
            await rig.client.fire_reservation("R1", "confirm")
    assert sandbox.control.requests() == [] and rig.used == 0


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
async def test_bad_input_costs_nothing(rig: Rig, sandbox: RunningSandbox, update: RangeUpdate) -> None:
    with pytest.raises(InvalidRequest):
        await rig.client.update_range(update)
    assert sandbox.control.requests() == [] and rig.used == 0


async def test_bad_reservation_arguments_cost_nothing(rig: Rig) -> None:
    with pytest.raises(InvalidRequest, match="per_page"):
        await rig.client.get_reservations(per_page=500)
    with pytest.raises(InvalidRequest, match="cancel_reason"):
        await rig.client.fire_reservation("R1", "confirm", cancel_reason="no_show")
    days = [DailyValues(date=FUTURE + timedelta(days=n), availability=1) for n in range(91)]
    with pytest.raises(InvalidRequest, match="at most 90"):
        await rig.client.update_daily([DailyRoomUpdate(inv_code="DLXTRP", dates=days)])
    assert rig.used == 0


# ---------------------------------------------------------------------- upstream faults (sandbox)


def one_night(inv_code: str = "DLXTRP") -> RangeUpdate:
    return RangeUpdate(inv_code=inv_code, start_date=FUTURE, end_date=FUTURE, availability=1)


async def test_rejected_credentials(sandbox: RunningSandbox, tmp_path: Path) -> None:
    rig = make_rig(tmp_path, sandbox.base_url, "wrong-token-123", sandbox.hr_id)
    async with rig.client:
        with pytest.raises(CredentialsRejected, match="HOTELRUNNER_TOKEN and HOTELRUNNER_HR_ID") as caught:
            await rig.client.get_rooms()
    assert caught.value.status == 401 and rig.used == 1
    assert_clean(caught.value, rig.secrets)
    assert_no_secret_on_disk(tmp_path, rig.secrets)


async def test_429_is_respected_by_the_local_quota(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("429", times=1)
    with pytest.raises(RateLimited, match="429") as caught:
        await rig.client.get_rooms()
    assert rig.limiter.status().blocked_until is not None
    assert len(sent(sandbox, "/rooms")) == 1
    assert_clean(caught.value, rig.secrets)


async def test_a_read_is_retried_once_on_503_and_both_attempts_count(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("503", times=1)
    assert await rig.client.get_rooms()
    assert [r.status for r in sent(sandbox, "/rooms")] == [503, 200] and rig.used == 2


async def test_a_read_failing_twice_is_reported_unavailable(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("503", times=2)
    with pytest.raises(UpstreamUnavailable, match="try again in a few minutes") as caught:
        await rig.client.get_rooms()
    assert caught.value.status == 503 and rig.used == 2


async def test_a_500_on_a_read_is_not_retried(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("500", times=1)
    with pytest.raises(UpstreamUnavailable):
        await rig.client.get_channels()
    assert len(sandbox.control.requests()) == 1


async def test_a_read_timeout_is_retried_once_then_reported(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("hang", times=2, delay=5)
    with pytest.raises(UpstreamTimeout, match="tried twice") as caught:
        await rig.client.get_rooms()
    assert rig.used == 2
    assert_clean(caught.value, rig.secrets)
    assert [r["error_code"] for r in rig.audit("upstream")] == ["ReadTimeout"] * 2


@pytest.mark.parametrize("fault", ["503", "500", "hang"])
async def test_a_failed_write_is_outcome_unknown_and_never_retried(
    rig: Rig, sandbox: RunningSandbox, fault: str
) -> None:
    sandbox.control.add_fault(fault, times=1, delay=5 if fault == "hang" else None)
    with pytest.raises(OutcomeUnknown, match="Do not resend blindly") as caught:
        await rig.client.update_range(one_night())
    assert rig.used == 1
    assert_clean(caught.value, rig.secrets)
    assert [r["event"] for r in rig.audit()] == ["upstream_intent", "upstream"]


async def test_fire_is_never_retried(rig: Rig, sandbox: RunningSandbox) -> None:
    booked = sandbox.control.create_booking(channel="online")
    sandbox.control.add_fault("hang", times=1, delay=5)
    with pytest.raises(OutcomeUnknown):
        await rig.client.fire_reservation(str(booked["hr_number"]), "confirm")
    assert rig.used == 1


async def test_try_again_is_not_applied(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("try_again", times=1)
    with pytest.raises(NotApplied, match="NOT applied, send it again in a few minutes"):
        await rig.client.update_range(one_night())
    assert rig.used == 1


async def test_a_refused_state_change_is_reported(rig: Rig, sandbox: RunningSandbox) -> None:
    booked = sandbox.control.create_booking(channel="bookingcom")  # already confirmed
    with pytest.raises(UpstreamRejected, match="state_change_is_not_available"):
        await rig.client.fire_reservation(str(booked["hr_number"]), "confirm")
    assert rig.used == 1


async def test_an_unknown_room_carries_hotelrunners_reason(rig: Rig) -> None:
    with pytest.raises(UpstreamRejected, match="NOSUCH") as caught:
        await rig.client.update_range(one_night("NOSUCH"))
    assert caught.value.status == 422


async def test_a_malformed_answer_is_a_typed_error(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("malformed", times=1)
    with pytest.raises(MalformedResponse, match="GET /rooms"):
        await rig.client.get_rooms()


async def test_a_malformed_answer_to_a_write_is_outcome_unknown(rig: Rig, sandbox: RunningSandbox) -> None:
    sandbox.control.add_fault("malformed", times=1)
    with pytest.raises(OutcomeUnknown):
        await rig.client.update_daily([DailyRoomUpdate(inv_code="DLXTRP", dates=[DailyValues(date=FUTURE, cta=True)])])


@pytest.mark.parametrize("body", ['{"rooms": [{"name": "no inv_code"}]}', "[]"], ids=["missing field", "not an object"])
async def test_answers_off_the_documented_shape_are_malformed(stub_rig: Rig, stub: StubUpstream, body: str) -> None:
    stub.script("/rooms", Answer(body=body))
    with pytest.raises(MalformedResponse, match="GET /rooms"):
        await stub_rig.client.get_rooms()


async def test_an_unreachable_host_leaks_nothing(tmp_path: Path) -> None:
    with run_stub() as gone:
        base_url = gone.base_url
    rig = make_rig(tmp_path, base_url, "tok-SECRET-31337", "hr-424242")
    async with rig.client:
        with pytest.raises(UpstreamTimeout, match="Could not connect") as caught:
            await rig.client.get_rooms()
    assert isinstance(caught.value, UpstreamError) and caught.value.__context__ is None
    assert_clean(caught.value, rig.secrets)
    assert_no_secret_on_disk(tmp_path, rig.secrets)


async def test_http_library_logs_never_show_the_token(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await rig.client.get_rooms()
    logging.getLogger("httpx2").setLevel(logging.DEBUG)  # even if someone turns them back on
    try:
        await rig.client.get_channels()
    finally:
        logging.getLogger("httpx2").setLevel(logging.WARNING)
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)
    assert all(not any(s in r.getMessage() for s in rig.secrets) for r in caplog.records)
