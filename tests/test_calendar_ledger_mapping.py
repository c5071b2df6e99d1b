"""What an applied request puts in the ledger: every value it set, and nothing HotelRunner refused."""

from __future__ import annotations

from datetime import date

from hotelrunner_mcp.calendar_plan import PlannedRequest
from hotelrunner_mcp.calendar_service import ledger_writes, refused_entries
from hotelrunner_mcp.models import DailyRoomUpdate, DailyValues, RangeUpdate

DAY = date(2027, 3, 1)


def _daily(*codes: str) -> PlannedRequest:
    rooms = [DailyRoomUpdate(inv_code=c, rate_code=f"{c}-BAR", dates=[DailyValues(date=DAY, price=150, min_stay=2)]) for c in codes]
    return PlannedRequest(kind="daily", payload=rooms, summary="test", date_count=len(codes))


def test_range_writes_only_the_chosen_weekdays_and_fields() -> None:
    # 2027-03-01 is a Monday; days=[5, 6] are Friday and Saturday.
    update = RangeUpdate(inv_code="SUITE", rate_code="SUITE-BAR", start_date=DAY, end_date=date(2027, 3, 14), days=[5, 6], price=200, availability=1)
    writes = list(ledger_writes(PlannedRequest(kind="range", payload=update, summary="t", date_count=4)))
    assert sorted({w.day.isoformat() for w in writes}) == ["2027-03-05", "2027-03-06", "2027-03-12", "2027-03-13"]
    assert {(w.field, w.rate_code) for w in writes} == {("price", "SUITE-BAR"), ("availability", None)}


def test_refused_room_entries_are_left_out_of_the_ledger() -> None:
    request = _daily("DLXDBL", "SUITE", "DBLSUP")
    by_index = refused_entries(request, [{"index": 1, "inv_code": "SUITE", "message": "no"}])
    assert by_index == {1}
    by_code = refused_entries(request, [{"inv_code": "DBLSUP", "message": "no"}])
    assert by_code == {2}
    kept = {w.inv_code for w in ledger_writes(request, skip=by_index)}
    assert kept == {"DLXDBL", "DBLSUP"}


def test_an_error_naming_no_room_means_nothing_is_trusted() -> None:
    assert refused_entries(_daily("DLXDBL"), ["something failed"]) is None
    assert refused_entries(_daily("DLXDBL"), []) == set()


def test_a_refused_range_update_is_left_out_too() -> None:
    update = RangeUpdate(inv_code="SUITE", rate_code="SUITE-BAR", start_date=DAY, end_date=DAY, price=200)
    request = PlannedRequest(kind="range", payload=update, summary="t", date_count=1)
    refused = refused_entries(request, [{"inv_code": "SUITE", "message": "no"}])
    assert refused == {0}
    assert list(ledger_writes(request, skip=refused)) == []
