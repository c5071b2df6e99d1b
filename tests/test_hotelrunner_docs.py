"""HotelRunner's own documented examples (tests/fixtures/hotelrunner-docs, see its SOURCES.md) through the
real client, the webhook and the ledger.

The stub upstream answers each request with a documented body, byte for byte (including the bodies
the docs print as invalid JSON), so these tests hold the client to the documentation rather than to
our sandbox's reading of it. Each test names the doc file it replays.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from client_rig import Rig
from hotelrunner_mcp.calendar.compiler import PlannedRequest
from hotelrunner_mcp.calendar.ledger import CalendarLedger
from hotelrunner_mcp.calendar.service import channel_results, ledger_writes, refused_cells
from hotelrunner_mcp.config import ConfigError, Settings
from hotelrunner_mcp.errors import (
    EndpointNotEnabled,
    InvalidRequest,
    MalformedResponse,
    NotApplied,
    UpstreamRejected,
)
from hotelrunner_mcp.hotelrunner.models import DailyRoomUpdate, DailyValues, RangeUpdate, Reservation
from hotelrunner_mcp.reservations.push import parse_push
from stub_upstream import Answer, StubUpstream, json_of, query_of

DOCS = Path(__file__).parent / "fixtures" / "hotelrunner-docs"
FUTURE = date.today() + timedelta(days=30)


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def doc_json(name: str) -> Any:
    return json.loads(doc(name))


# --------------------------------------------------------------------------- rooms


@pytest.mark.parametrize(
    "name", ["rooms_get.devdocs.json", "rooms_get.am_2026.reconstructed.json", "rooms_get.slate_v2.json"]
)
async def test_every_documented_room_list_parses(stub_rig: Rig, stub: StubUpstream, name: str) -> None:
    stub.script("/rooms", Answer(body=doc(name)))
    rooms = await stub_rig.client.get_rooms()
    assert [(r.inv_code, r.rate_code) for r in rooms] == [("HR:1", "HR:1"), ("HR:1", "NR:HR:1"), ("HR:2", "HR:2")]
    assert rooms[1].non_refundable and rooms[1].price_update is False
    assert rooms[0].room_capacity == 3 and "bookingcom" in rooms[0].channel_codes


def test_is_master_marks_the_default_room_not_a_rooms_main_rate() -> None:
    """rooms_get.devdocs.json: the only is_master rate is "Default Room", for unmatched reservations."""
    from hotelrunner_mcp.calendar.changes import CalendarChange, CalendarValidationError, validate_changes
    from hotelrunner_mcp.hotelrunner.models import Room

    rooms = [Room.model_validate(r) for r in doc_json("rooms_get.devdocs.json")["rooms"]]
    today = date(2026, 12, 1)
    (resolved,) = validate_changes(
        [CalendarChange(room="HR:1", start_date=today, end_date=today, price=100)], rooms, today=today
    )
    assert resolved.rate_code == "HR:1"  # the rate coded like its room, not the is_master one
    with pytest.raises(CalendarValidationError, match="Default Room"):
        validate_changes([CalendarChange(room="HR:2", start_date=today, end_date=today, price=100)], rooms, today=today)


# --------------------------------------------------------------------------- calendar updates: what is sent


async def test_a_range_update_names_the_room_as_the_literal_requests_do(stub_rig: Rig, stub: StubUpstream) -> None:
    """rooms_put_range.*.request.txt send room_code; the table says rate_code beside inv_code is ignored."""
    stub.script("/rooms/~", Answer(body=doc("rooms_put_range.devdocs.response_ok.json")))
    stub.script("/rooms/~", Answer(body=doc("rooms_put_range.slate_v2.response_ok.json")))
    master = RangeUpdate(
        inv_code="HR:1", rate_code="HR:1", start_date=FUTURE, end_date=FUTURE, price=Decimal("400"), min_stay=2
    )
    result = await stub_rig.client.update_range(master)
    second = RangeUpdate(inv_code="HR:1", rate_code="HB:HR:1", start_date=FUTURE, end_date=FUTURE, price=Decimal("430"))
    await stub_rig.client.update_range(second)
    first_sent, second_sent = (query_of(s) for s in stub.requests("/rooms/~"))
    assert result.transaction_id == "123456789"
    assert first_sent["room_code"] == ["HR:1"] and first_sent["inv_code"] == ["HR:1"] and "rate_code" not in first_sent
    assert first_sent["min_stay"] == ["2"] and first_sent["price"] == ["400"]
    assert second_sent["room_code"] == ["HB:HR:1"] and second_sent["rate_code"] == ["HB:HR:1"]
    assert "inv_code" not in second_sent  # beside inv_code, HotelRunner would put this price on the master rate


async def test_a_daily_update_never_sends_inv_code_and_rate_code_together(stub_rig: Rig, stub: StubUpstream) -> None:
    """rooms_daily.devdocs.request_body.json shape; the price of a second rate goes by rate_code alone."""
    stub.script("/rooms/daily", Answer(body=doc("rooms_daily.devdocs.response_ok.json")))
    await stub_rig.client.update_daily(
        [
            DailyRoomUpdate(
                inv_code="HR:1",
                rate_code="HR:1",
                channel_codes=["online"],
                dates=[DailyValues(date=FUTURE, availability=12, price=Decimal("400"), cta=False)],
            ),
            DailyRoomUpdate(
                inv_code="HR:1", rate_code="HB:HR:1", dates=[DailyValues(date=FUTURE, price=Decimal("430"))]
            ),
        ]
    )
    body = json_of(stub.requests("/rooms/daily")[0])
    documented = doc_json("rooms_daily.devdocs.request_body.json")["rooms"][0]
    assert set(body["rooms"][0]) == set(documented)  # inv_code, channel_codes, dates: nothing else
    assert set(body["rooms"][0]["dates"][0]) <= set(documented["dates"][0])
    assert body["rooms"][1] == {"rate_code": "HB:HR:1", "dates": [{"date": FUTURE.isoformat(), "price": "430"}]}


async def test_only_a_price_can_go_to_a_rate_that_is_not_the_master(stub_rig: Rig, stub: StubUpstream) -> None:
    second = RangeUpdate(inv_code="HR:1", rate_code="HB:HR:1", start_date=FUTURE, end_date=FUTURE, min_stay=2)
    with pytest.raises(InvalidRequest, match="sets only the price"):
        await stub_rig.client.update_range(second)
    assert stub.requests() == [] and stub_rig.used == 0


# --------------------------------------------------------------------------- calendar updates: the answers


async def test_the_documented_try_again_says_what_was_refused(stub_rig: Rig, stub: StubUpstream) -> None:
    """rooms_daily.devdocs.response_try_again.verbatim.txt: not valid JSON (a missing comma), and it
    lists the refused price; a plain 'send it again' would be refused the same way."""
    stub.script("/rooms/daily", Answer(body=doc("rooms_daily.devdocs.response_try_again.verbatim.txt")))
    with pytest.raises(NotApplied) as refused:
        await stub_rig.client.update_daily(
            [DailyRoomUpdate(inv_code="HR:1903", dates=[DailyValues(date=date(2025, 1, 1), price=Decimal("400"))])]
        )
    assert "HR:1903 2025-01-01: Invalid price" in refused.value.message
    assert "a plain resend would be refused" in refused.value.message


async def test_an_ok_with_documented_errors_ledgers_everything_else(
    stub_rig: Rig, stub: StubUpstream, tmp_path: Path
) -> None:
    body = doc_json("rooms_daily.devdocs.response_try_again.json") | {"status": "ok"}
    stub.script("/rooms/daily", Answer(body=body))
    rooms = [
        DailyRoomUpdate(
            inv_code="HR:1903",
            dates=[
                DailyValues(date=date(2025, 1, 1), price=Decimal("400")),
                DailyValues(date=date(2025, 4, 1), price=Decimal("400")),
            ],
        )
    ]
    result = await stub_rig.client.update_daily(rooms)
    request = PlannedRequest(kind="daily", payload=rooms, summary="t", date_count=2)
    assert result.partial and [str(r) for r in result.refusals() or []] == ["HR:1903 2025-01-01: Invalid price"]
    kept = list(ledger_writes(request, skip=refused_cells(request, result)))
    assert [(w.day, w.field) for w in kept] == [(date(2025, 4, 1), "price")]


@pytest.mark.parametrize(
    "name", ["rooms_put_range.devdocs.response_try_again.json", "rooms_put_range.slate_v2.response_try_again.json"]
)
async def test_a_range_try_again_is_not_applied(stub_rig: Rig, stub: StubUpstream, name: str) -> None:
    stub.script("/rooms/~", Answer(body=doc(name)))
    with pytest.raises(NotApplied, match="NOT applied, send it again"):
        await stub_rig.client.update_range(
            RangeUpdate(inv_code="HR:1", start_date=FUTURE, end_date=FUTURE, availability=1)
        )


def test_a_refusal_in_the_documented_transaction_details_reaches_the_ledger(tmp_path: Path) -> None:
    """transaction_details.slate_v2.json names rooms only by channel-side ids: the refusal must still
    show on the values of that transaction (get_calendar reads these)."""
    from hotelrunner_mcp.hotelrunner.models import Transaction

    transaction = Transaction.model_validate(doc_json("transaction_details.slate_v2.json")["transaction"])
    update = RangeUpdate(inv_code="HR:1", rate_code="HR:1", start_date=FUTURE, end_date=FUTURE, price=Decimal("90"))
    with CalendarLedger(tmp_path / "mirror.db") as ledger:
        ledger.record(
            list(ledger_writes(PlannedRequest(kind="range", payload=update, summary="t", date_count=1))),
            transaction_id="883770514",
            tool_call_id=None,
            client=None,
        )
        assert ledger.record_transaction_result("883770514", channel_results(transaction)) == 1
        value = ledger.previous("HR:1", "HR:1", FUTURE, "price")
    assert value is not None and value.checked_at is not None
    states = {r.channel_code: r for r in value.channel_results}
    assert states["bookingcom"].state == "failed" and "Люкс (68366)" in (states["bookingcom"].error_message or "")
    assert states["online"].state == "succeeded"


# --------------------------------------------------------------------------- reservations


async def test_listing_booleans_are_the_documented_literals(stub_rig: Rig, stub: StubUpstream) -> None:
    """params.slate_v2.reservations.md: "If set to `false`, all reservations will be shown"."""
    await stub_rig.client.get_reservations(undelivered=False, modified=True)
    query = query_of(stub.requests("/reservations")[0])
    assert query["undelivered"] == ["false"] and query["modified"] == ["true"]


@pytest.mark.parametrize(
    "name",
    [
        "reservations_get.slate_v2.json",
        "reservations_get.devdocs.reconstructed.json",
        "reservations_get.am_2026.reconstructed.json",
    ],
)
async def test_every_documented_listing_parses(stub_rig: Rig, stub: StubUpstream, name: str) -> None:
    stub.script("/reservations", Answer(body=doc(name)))
    page = await stub_rig.client.get_reservations()
    (booking,) = page.reservations
    assert booking.hr_number.startswith("R") and booking.rooms and booking.total
    assert booking.updated_at is not None and booking.updated_at.tzinfo is not None


def test_the_2026_object_keeps_what_a_user_wants() -> None:
    """push.am_2026.reconstructed.json: new fields, offsets with milliseconds, no requires_response in
    the verbatim head — a `reserved` booking still awaits the property's answer."""
    raw = doc_json("push.am_2026.reconstructed.json")["reservations"][0]
    raw.pop("requires_response", None)  # the verbatim head has none; only the third-party tail adds it
    booking = Reservation.model_validate(raw)
    assert booking.reservation_id == "37515739" and booking.channel == "online" and booking.channel_display == "Online"
    assert booking.total_guests == 3 and booking.total_rooms == 1 and booking.provider_number is None
    assert booking.billing_address is not None and booking.billing_address.city == "Izmir"
    assert booking.updated_at == datetime(2026, 2, 23, 13, 32, 20, tzinfo=UTC)
    assert booking.awaits_response  # state "reserved", no requires_response
    assert booking.rooms[0].meal_plan == "bed-breakfast" and booking.model_dump()["payments"]


def test_older_pushes_carry_the_channel_as_a_display_name() -> None:
    (booking,) = parse_push(doc("push.slate_v2.json"))
    assert booking.channel == "bookingcom" and booking.channel_display == "Booking.com" and booking.reason == "modify"
    (old,) = parse_push(doc("push.slate_v1.json"))
    assert old.rooms and old.channel == "bookingcom"


@pytest.mark.parametrize(
    "name",
    [
        "push.am_2026.reconstructed.json",
        "push.devdocs_2025.reconstructed.json",
        "push.slate_v2.json",
        "push.slate_v1.json",
    ],
)
def test_every_documented_push_parses(name: str) -> None:
    (booking,) = parse_push(doc(name))
    assert booking.hr_number and booking.rooms and booking.checkin_date


async def test_a_200_error_body_is_not_an_empty_listing(stub_rig: Rig, stub: StubUpstream) -> None:
    stub.script("/reservations", Answer(body={"status": "error", "message": "internal"}), Answer(body={}))
    with pytest.raises(UpstreamRejected, match="internal"):
        await stub_rig.client.get_reservations()
    with pytest.raises(MalformedResponse, match="no 'reservations' list"):
        await stub_rig.client.get_reservations()


# --------------------------------------------------------------------------- fire and acknowledge


async def test_fire_and_acknowledge_read_the_verbatim_bodies(stub_rig: Rig, stub: StubUpstream) -> None:
    """fire/ack .response_ok.verbatim.txt end with a trailing comma: still a plain "ok"."""
    stub.script("/reservations/fire", Answer(body=doc("fire.devdocs.response_ok.verbatim.txt")))
    stub.script("/reservations/~", Answer(body=doc("ack.devdocs.response_ok.verbatim.txt")))
    await stub_rig.client.fire_reservation("R387266425", "cancel", "customer")
    await stub_rig.client.acknowledge_reservation("ac3bd58f73e83cfb671903bf7d20787111", pms_number="PMS3425")
    fire, ack = stub.requests("/reservations/fire")[0], stub.requests("/reservations/~")[0]
    assert query_of(fire)["cancel_reason"] == ["customer"] and query_of(ack)["pms_number"] == ["PMS3425"]


async def test_the_documented_fire_error_says_why(stub_rig: Rig, stub: StubUpstream) -> None:
    stub.script("/reservations/fire", Answer(body=doc("fire.devdocs.response_error.json")))
    with pytest.raises(UpstreamRejected, match="state_change_is_not_available"):
        await stub_rig.client.fire_reservation("R387266425", "confirm")


async def test_a_cancel_needs_a_reason_before_anything_is_sent(stub_rig: Rig, stub: StubUpstream) -> None:
    with pytest.raises(InvalidRequest, match="a cancel needs cancel_reason"):
        await stub_rig.client.fire_reservation("R387266425", "cancel")
    assert stub.requests() == [] and stub_rig.used == 0


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_acknowledge_switched_off_is_not_bad_credentials(stub_rig: Rig, stub: StubUpstream, status: int) -> None:
    """ack.devdocs.request.txt: "To enable this endpoint, please contact us." Its answer when off is undocumented."""
    stub.script("/reservations/~", Answer(status=status, body={"status": "error", "message": "not enabled"}))
    with pytest.raises(EndpointNotEnabled, match="switches on per app") as refused:
        await stub_rig.client.acknowledge_reservation("ac3bd58f73e83cfb671903bf7d20787111")
    assert "token and hr_id are not in question" in refused.value.message


# --------------------------------------------------------------------------- settings


def test_a_v1_base_url_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """rooms_get.slate_v1.json: v1 answers bare arrays with other field names."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="old v1 API"):
        Settings.from_mapping({"HOTELRUNNER_BASE_URL": "https://app.hotelrunner.com/api/v1/apps"})


def test_room_counts_accept_the_documented_code_form(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_mapping({"HOTELRUNNER_ROOM_COUNTS": "HR:1:3,HR:1903=2,DLXTRP:1"})
    assert dict(settings.room_counts) == {"HR:1": 3, "HR:1903": 2, "DLXTRP": 1}


@pytest.mark.parametrize("name", ["connected_channels.am.json", "connected_channels.slate_v2.json"])
async def test_documented_channel_lists_parse(stub_rig: Rig, stub: StubUpstream, name: str) -> None:
    stub.script("/infos/connected_channels", Answer(body=doc(name)))
    channels = await stub_rig.client.get_connected_channels()
    assert channels and all(c.code for c in channels)


@pytest.mark.parametrize("name", ["channels.am.json", "channels.slate_v2.json"])
async def test_documented_channel_catalogues_parse(stub_rig: Rig, stub: StubUpstream, name: str) -> None:
    stub.script("/infos/channels", Answer(body=doc(name)))
    channels = await stub_rig.client.get_channels()
    assert {"bookingcom", "expedia"} <= {c.code for c in channels}


async def test_the_2016_daily_answers_with_single_quotes_are_read(stub_rig: Rig, stub: StubUpstream) -> None:
    """rooms_daily.devdocs_2016.responses.verbatim.txt: `"status": 'ok'`, and a try_again without a comma."""
    ok, try_again = re.split(r"\n\s*or\s*\n", doc("rooms_daily.devdocs_2016.responses.verbatim.txt"))
    stub.script("/rooms/daily", Answer(body=ok), Answer(body=try_again))
    room = [DailyRoomUpdate(inv_code="HR:1903", dates=[DailyValues(date=date(2017, 1, 1), price=Decimal("400"))])]
    assert (await stub_rig.client.update_daily(room)).transaction_id == "123456789"
    with pytest.raises(NotApplied, match="HR:1903 2017-01-01: Invalid price"):
        await stub_rig.client.update_daily(room)


async def test_the_documented_snippet_body_shape_is_what_we_send(stub_rig: Rig, stub: StubUpstream) -> None:
    """rooms_daily.devdocs.request_snippet.json: availability only, on channel online."""
    snippet = doc_json("rooms_daily.devdocs.request_snippet.json")["rooms"][0]
    days = [
        DailyValues(date=date.fromisoformat(d["date"]), availability=int(d["availability"])) for d in snippet["dates"]
    ]
    await stub_rig.client.update_daily(
        [DailyRoomUpdate(inv_code=snippet["inv_code"], channel_codes=["online"], dates=days)]
    )
    sent_room = json_of(stub.requests("/rooms/daily")[0])["rooms"][0]
    assert sent_room["inv_code"] == snippet["inv_code"] and sent_room["channel_codes"] == snippet["channel_codes"]
    assert [(d["date"], str(d["availability"])) for d in sent_room["dates"]] == [
        (d["date"], d["availability"]) for d in snippet["dates"]
    ]


def test_a_multipart_push_as_the_docs_snippet_sends_it_is_stored(tmp_path: Path) -> None:
    """push.devdocs.request.txt posts `new FormData()` with `data`: multipart/form-data. The receiver
    answers the documented `{"status": "ok"}` (push_response.slate_v2.json)."""
    from test_webhook import HR_ID, TOKEN, running_receiver

    settings = Settings(token=TOKEN, hr_id=HR_ID, data_dir=tmp_path / "data")
    with running_receiver(settings) as receiver:
        answer = receiver.http.post(
            "/hotelrunner/callback",
            params={"token": TOKEN, "hr_id": HR_ID},
            files={"data": (None, doc("push.am_2026.reconstructed.json").encode())},
        )
        stored = receiver.store.get("R377873409")
    assert answer.status_code == 200 and answer.json() == doc_json("push_response.slate_v2.json")
    assert stored is not None and stored.guest == "John Doe" and stored.channel == "online"


async def test_an_answer_that_echoes_the_url_carries_no_secret_onward(
    stub_rig: Rig, stub: StubUpstream, tmp_path: Path
) -> None:
    """An upstream that echoes the request URL (token in it) into a successful body: redacted before any
    model, mirror row or tool answer sees it (issue 12, Low)."""
    echoed = f"{stub.base_url}/reservations?token=tok-SECRET-31337&hr_id=hr-424242"
    listing = doc_json("reservations_get.slate_v2.json")
    listing["reservations"][0]["note"] = f"debug: {echoed}"
    stub.script("/reservations", Answer(body=listing))
    (booking,) = (await stub_rig.client.get_reservations()).reservations
    assert "tok-SECRET-31337" not in (booking.note or "") and "hr-424242" not in (booking.note or "")


async def test_a_try_again_refusing_some_dates_leaves_the_others_unknown(stub_rig: Rig, stub: StubUpstream) -> None:
    """The documented request sends 2025-01-01 and 2025-04-01; the documented try_again refuses only the
    first. The docs do not say what became of the second: outcome unknown, not "NOT applied"."""
    from hotelrunner_mcp.errors import OutcomeUnknown

    stub.script("/rooms/daily", Answer(body=doc("rooms_daily.devdocs.response_try_again.verbatim.txt")))
    days = [
        DailyValues(date=date(2025, 1, 1), price=Decimal("400")),
        DailyValues(date=date(2025, 4, 1), price=Decimal("400")),
    ]
    with pytest.raises(OutcomeUnknown, match="outcome unknown for them"):
        await stub_rig.client.update_daily([DailyRoomUpdate(inv_code="HR:1903", dates=days)])


@pytest.mark.parametrize(
    ("status", "outcome"), [("OK", "ok"), (" ok ", "ok"), ("success", "unknown"), ("error", "refused")]
)
async def test_a_write_status_is_read_without_guessing(
    stub_rig: Rig, stub: StubUpstream, status: str, outcome: str
) -> None:
    from hotelrunner_mcp.errors import OutcomeUnknown

    stub.script("/rooms/~", Answer(body={"status": status, "transaction_id": "9"}))
    update = RangeUpdate(inv_code="HR:1", start_date=FUTURE, end_date=FUTURE, availability=1)
    if outcome == "ok":
        assert (await stub_rig.client.update_range(update)).ok
    else:
        with pytest.raises(OutcomeUnknown if outcome == "unknown" else UpstreamRejected):
            await stub_rig.client.update_range(update)


def test_channel_states_and_counts_the_list_leaves_out_are_not_lost() -> None:
    """Review finding: a detail in an undocumented state was dropped, and counts beyond the list ignored
    (the transaction then counted as final)."""
    from hotelrunner_mcp.hotelrunner.models import Transaction

    transaction = Transaction.model_validate(
        {
            "id": "1",
            "counts": {"failed": 2, "succeeded": 1, "in_progress": 1},
            "details": [
                {
                    "channel_code": "bookingcom",
                    "state": "error",
                    "name": "Chambre (1)",
                    "error_message": "Price below minimum",
                },
                {"channel_code": "online", "state": "succeeded"},
            ],
        }
    )
    results = {(r.channel_code, r.state): r for r in channel_results(transaction)}
    assert "Price below minimum" in (results[("bookingcom", "failed")].error_message or "")
    assert ("(not listed)", "in_progress") in results and ("(not listed)", "failed") in results


async def test_a_full_page_without_pagination_is_not_taken_as_the_last(stub_rig: Rig, stub: StubUpstream) -> None:
    one = doc_json("reservations_get.slate_v2.json")["reservations"][0]
    full = {"reservations": [{**one, "hr_number": f"R{n:09d}"} for n in range(50)]}  # no count, no pages
    stub.script("/reservations", Answer(body=full))
    with pytest.raises(MalformedResponse, match="cannot tell whether more follow"):
        await stub_rig.client.get_reservations(per_page=50)


async def test_acknowledge_switched_off_with_a_200_error_body_is_not_enabled(stub_rig: Rig, stub: StubUpstream) -> None:
    """Errors have no documented HTTP status: a 200 body saying the endpoint is not enabled means that."""
    stub.script(
        "/reservations/~", Answer(body={"status": "error", "message": "This endpoint is not enabled for your app"})
    )
    with pytest.raises(EndpointNotEnabled):
        await stub_rig.client.acknowledge_reservation("ac3bd58f73e83cfb671903bf7d20787111")
    stub.script("/reservations/~", Answer(body={"status": "error", "message": "unknown message_uid"}))
    with pytest.raises(UpstreamRejected) as other:
        await stub_rig.client.acknowledge_reservation("ac3bd58f73e83cfb671903bf7d20787111")
    assert not isinstance(other.value, EndpointNotEnabled)
