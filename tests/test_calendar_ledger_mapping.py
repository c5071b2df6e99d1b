"""What an applied request puts in the ledger: every value it set, and nothing HotelRunner refused.

Refusals come in HotelRunner's documented shape (rooms_daily.devdocs.response_try_again.json):
`errors: [{"<code the entry was sent with>": {"<date>": "<message>"}}]`.
"""

from __future__ import annotations

from datetime import date

from hotelrunner_mcp.calendar.compiler import PlannedRequest
from hotelrunner_mcp.calendar.service import ledger_writes, refused_cells
from hotelrunner_mcp.hotelrunner.models import DailyRoomUpdate, DailyValues, RangeUpdate, UpdateResult

DAY = date(2027, 3, 1)
NEXT = date(2027, 3, 2)


def _daily(*targets: tuple[str, str]) -> PlannedRequest:
    rooms = [
        DailyRoomUpdate(
            inv_code=inv, rate_code=rate, dates=[DailyValues(date=DAY, price=150), DailyValues(date=NEXT, price=160)]
        )
        for inv, rate in targets
    ]
    return PlannedRequest(kind="daily", payload=rooms, summary="test", date_count=2 * len(targets))


def _ok(*errors: object) -> UpdateResult:
    return UpdateResult.model_validate({"status": "ok", "transaction_id": "1", "errors": list(errors)})


def test_range_writes_only_the_chosen_weekdays_and_fields() -> None:
    # 2027-03-01 is a Monday; days=[5, 6] are Friday and Saturday.
    update = RangeUpdate(
        inv_code="SUITE",
        rate_code="SUITE",
        start_date=DAY,
        end_date=date(2027, 3, 14),
        days=[5, 6],
        price=200,
        availability=1,
    )
    writes = list(ledger_writes(PlannedRequest(kind="range", payload=update, summary="t", date_count=4)))
    assert sorted({w.day.isoformat() for w in writes}) == ["2027-03-05", "2027-03-06", "2027-03-12", "2027-03-13"]
    assert {(w.field, w.rate_code) for w in writes} == {("price", "SUITE"), ("availability", None)}


def test_a_refused_date_is_left_out_and_the_rest_is_recorded() -> None:
    request = _daily(("DLXDBL", "DLXDBL"), ("SUITE", "SUITE"))
    refused = refused_cells(request, _ok({"SUITE": {DAY.isoformat(): "Invalid price"}}))
    assert refused == {(1, DAY)}
    kept = {(w.inv_code, w.day) for w in ledger_writes(request, skip=refused)}
    assert kept == {("DLXDBL", DAY), ("DLXDBL", NEXT), ("SUITE", NEXT)}


def test_an_entry_sent_by_rate_code_is_matched_by_that_code() -> None:
    request = _daily(("DLXTRP", "DLXTRP"), ("DLXTRP", "HB:DLXTRP"))
    refused = refused_cells(request, _ok({"HB:DLXTRP": {NEXT.isoformat(): "Invalid price"}}))
    assert refused == {(1, NEXT)}
    kept = {(w.rate_code, w.day) for w in ledger_writes(request, skip=refused)}
    assert kept == {("DLXTRP", DAY), ("DLXTRP", NEXT), ("HB:DLXTRP", DAY)}


def test_an_error_naming_nothing_that_was_sent_means_nothing_is_trusted() -> None:
    request = _daily(("DLXDBL", "DLXDBL"))
    assert refused_cells(request, _ok("something failed")) is None
    assert refused_cells(request, _ok({"HR:1903": {DAY.isoformat(): "Invalid price"}})) is None
    assert refused_cells(request, _ok({"DLXDBL": {"not a date": "x"}})) is None
    assert refused_cells(request, _ok()) == set()


def test_a_refused_range_update_is_left_out_too() -> None:
    update = RangeUpdate(inv_code="SUITE", rate_code="SUITE", start_date=DAY, end_date=DAY, price=200)
    request = PlannedRequest(kind="range", payload=update, summary="t", date_count=1)
    refused = refused_cells(request, _ok({"SUITE": "no"}))
    assert refused == {(0, None)}
    assert list(ledger_writes(request, skip=refused)) == []


def test_a_refusal_naming_the_room_taints_its_other_rates_too() -> None:
    """Review finding: `{"HR:1": {date: "Invalid price"}}` beside a half-board price sent by rate_code
    may be about that price: unknown beats recording a refused price as set."""
    rooms = [
        DailyRoomUpdate(inv_code="HR:1", rate_code="HR:1", dates=[DailyValues(date=DAY, availability=2)]),
        DailyRoomUpdate(inv_code="HR:1", rate_code="HB:HR:1", dates=[DailyValues(date=DAY, price=9)]),
    ]
    request = PlannedRequest(kind="daily", payload=rooms, summary="t", date_count=2)
    assert refused_cells(request, _ok({"HR:1": {DAY.isoformat(): "Invalid price"}})) == {(0, DAY), (1, DAY)}


def test_a_refusal_for_a_date_that_was_not_sent_means_nothing_is_trusted() -> None:
    request = _daily(("DLXDBL", "DLXDBL"))
    assert refused_cells(request, _ok({"DLXDBL": {"2031-01-01": "Invalid price"}})) is None
