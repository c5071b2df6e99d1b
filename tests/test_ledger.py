"""Calendar ledger: what we set is remembered, latest wins, channel results attach, several processes share it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hotelrunner_mcp.calendar.ledger import CalendarLedger, ChannelResult, LedgerWrite

DAY = date(2026, 8, 1)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mirror.db"


@pytest.fixture
def ledger(db_path: Path):
    with CalendarLedger(db_path) as led:
        yield led


def price(
    day: date, value: str, *, inv: str = "DLXT", rate: str | None = "BAR", channels: tuple[str, ...] = ()
) -> LedgerWrite:
    return LedgerWrite(inv, rate, day, "price", Decimal(value), channels)


def test_previous_is_none_before_anything_was_set(ledger: CalendarLedger) -> None:
    assert ledger.previous("DLXT", "BAR", DAY, "price") is None
    assert ledger.query(start=DAY, end=DAY) == []


def test_latest_value_wins_and_keeps_its_provenance(ledger: CalendarLedger) -> None:
    ledger.record([price(DAY, "169.00")], transaction_id="T1", tool_call_id="call-1", client="claude")
    ledger.record([price(DAY, "179.50")], transaction_id="T2", tool_call_id="call-2", client="cursor")

    prev = ledger.previous("DLXT", "BAR", DAY, "price")
    assert prev is not None
    assert (prev.value, prev.transaction_id, prev.tool_call_id, prev.client) == (
        Decimal("179.50"),
        "T2",
        "call-2",
        "cursor",
    )
    assert str(prev.value) == "179.50"  # the digits we sent, not a float
    assert prev.set_at.tzinfo is not None
    assert [v.value for v in ledger.query(start=DAY, end=DAY)] == [Decimal("179.50")]


def test_values_come_back_in_their_field_type(ledger: CalendarLedger) -> None:
    ledger.record(
        [
            LedgerWrite("DLXT", None, DAY, "availability", "3"),
            LedgerWrite("DLXT", None, DAY, "stop_sale", 1),  # HotelRunner's 0/1 flags
            LedgerWrite("DLXT", None, DAY, "cta", False),
            LedgerWrite("DLXT", None, DAY, "min_stay", Decimal("2")),
            LedgerWrite("DLXT", "BAR", DAY, "price", 169),
        ],
        transaction_id="T1",
        tool_call_id=None,
        client=None,
    )
    got = {v.field: v.value for v in ledger.query(start=DAY, end=DAY)}
    assert got == {"availability": 3, "stop_sale": True, "cta": False, "min_stay": 2, "price": Decimal("169")}
    assert [type(got[f]) for f in ("availability", "stop_sale", "min_stay", "price")] == [int, bool, int, Decimal]


def test_channel_specific_write_only_answers_for_its_channels(ledger: CalendarLedger) -> None:
    ledger.record([price(DAY, "150")], transaction_id="T1", tool_call_id=None, client=None)
    ledger.record([price(DAY, "165", channels=("bookingcom",))], transaction_id="T2", tool_call_id=None, client=None)

    assert ledger.previous("DLXT", "BAR", DAY, "price", ["bookingcom"]).value == Decimal("165")
    assert ledger.previous("DLXT", "BAR", DAY, "price", ("expedia",)).value == Decimal("150")
    assert ledger.previous("DLXT", "BAR", DAY, "price").value == Decimal("150")  # "every channel" as last set so
    both = ledger.query(start=DAY, end=DAY)
    assert {(v.channels, v.value) for v in both} == {((), Decimal("150")), (("bookingcom",), Decimal("165"))}

    # A later write to every channel supersedes the Booking.com-only value.
    ledger.record([price(DAY, "170")], transaction_id="T3", tool_call_id=None, client=None)
    assert [(v.channels, v.value) for v in ledger.query(start=DAY, end=DAY)] == [((), Decimal("170"))]
    assert ledger.previous("DLXT", "BAR", DAY, "price", ("bookingcom",)).value == Decimal("170")


def test_query_filters_by_dates_room_rate_and_field(ledger: CalendarLedger) -> None:
    days = [DAY + timedelta(days=i) for i in range(5)]
    ledger.record(
        [price(d, "169") for d in days]
        + [price(d, "149", rate="NR") for d in days]
        + [price(d, "159", inv="DLXD") for d in days]
        + [LedgerWrite("DLXT", None, d, "availability", 2) for d in days],
        transaction_id="T1",
        tool_call_id=None,
        client=None,
    )
    window = ledger.query(start=days[1], end=days[2], inv_code="DLXT", rate_code="BAR")
    assert [(v.day, v.rate_code, v.field) for v in window] == [
        (days[1], None, "availability"),
        (days[1], "BAR", "price"),
        (days[2], None, "availability"),
        (days[2], "BAR", "price"),
    ]
    only_price = ledger.query(start=days[0], end=days[4], fields=["price"])
    assert len(only_price) == 15 and {v.field for v in only_price} == {"price"}
    with pytest.raises(ValueError, match="unknown calendar field"):
        ledger.query(start=DAY, end=DAY, fields=["colour"])


def test_previous_many_answers_a_whole_year_of_keys(ledger: CalendarLedger) -> None:
    rooms = [f"R{i}" for i in range(8)]
    days = [date(2027, 1, 1) + timedelta(days=i) for i in range(365)]
    fields = {"price": Decimal("169"), "availability": 1, "min_stay": 2}
    writes = [LedgerWrite(r, None, d, f, v) for r in rooms for d in days for f, v in fields.items()]
    ledger.record(writes, transaction_id="TY", tool_call_id=None, client=None)

    keys = [(w.inv_code, w.rate_code, w.day, w.field, ()) for w in writes]
    never_set = ("R0", None, date(2028, 1, 1), "price", ())
    found = ledger.previous_many([*keys, never_set])
    assert len(found) == len(writes) == 8 * 365 * 3
    assert never_set not in found
    unsorted = ("R1", None, days[0], "price", ("expedia", "bookingcom"))  # covered by the every-channel write
    assert ledger.previous_many([unsorted])[unsorted].value == Decimal("169")
    assert found[("R7", None, days[-1], "min_stay", ())].value == 2


def test_transaction_results_attach_to_every_row_of_the_transaction(ledger: CalendarLedger) -> None:
    ledger.record(
        [price(DAY, "169"), price(DAY, "159", inv="DLXD")], transaction_id="T1", tool_call_id=None, client=None
    )
    ledger.record([price(DAY + timedelta(days=1), "169")], transaction_id="T2", tool_call_id=None, client=None)
    assert ledger.pending_transactions() == ["T2", "T1"]

    touched = ledger.record_transaction_result(
        "T1",
        [
            ChannelResult("online", "succeeded"),
            ChannelResult("bookingcom", "failed", "Price below minimum", inv_code="DLXT"),
            ChannelResult("bookingcom", "succeeded", inv_code="DLXD"),
        ],
    )
    assert touched == 2
    dlxt = ledger.previous("DLXT", "BAR", DAY, "price")
    assert {(r.channel_code, r.state, r.error_message) for r in dlxt.channel_results} == {
        ("online", "succeeded", None),
        ("bookingcom", "failed", "Price below minimum"),
    }
    assert dlxt.checked_at is not None
    dlxd = ledger.previous("DLXD", "BAR", DAY, "price")
    assert {(r.channel_code, r.state) for r in dlxd.channel_results} == {
        ("online", "succeeded"),
        ("bookingcom", "succeeded"),
    }
    assert ledger.pending_transactions() == ["T2"]
    assert ledger.record_transaction_result("unknown", [ChannelResult("online", "succeeded")]) == 0


def test_a_transaction_still_in_progress_stays_pending_until_a_later_check(ledger: CalendarLedger) -> None:
    ledger.record([price(DAY, "169")], transaction_id="T1", tool_call_id=None, client=None)
    ledger.record_transaction_result("T1", [ChannelResult("expedia", "in_progress")])
    assert ledger.pending_transactions() == ["T1"]
    ledger.record_transaction_result("T1", [ChannelResult("expedia", "succeeded")])
    assert ledger.pending_transactions() == []
    assert [r.state for r in ledger.previous("DLXT", "BAR", DAY, "price").channel_results] == ["succeeded"]


def test_the_ledger_survives_reopening(db_path: Path) -> None:
    with CalendarLedger(db_path) as first:
        first.record([price(DAY, "189")], transaction_id="T9", tool_call_id="c", client="x")
        first.record_transaction_result("T9", [ChannelResult("online", "succeeded")])
    with CalendarLedger(db_path) as second:
        prev = second.previous("DLXT", "BAR", DAY, "price")
        assert prev is not None and prev.value == Decimal("189") and prev.channel_results[0].state == "succeeded"


def test_bad_writes_are_refused_before_anything_is_stored(ledger: CalendarLedger) -> None:
    with pytest.raises(ValueError, match="unknown calendar field"):
        LedgerWrite("DLXT", None, DAY, "colour", 1)
    with pytest.raises(ValueError, match="price takes a number"):
        LedgerWrite("DLXT", None, DAY, "price", [1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="price takes a number"):
        LedgerWrite("DLXT", None, DAY, "price", True)
    with pytest.raises(ValueError, match="finite"):
        LedgerWrite("DLXT", None, DAY, "price", Decimal("NaN"))
    with pytest.raises(ValueError, match="whole number"):
        LedgerWrite("DLXT", None, DAY, "availability", 2.5)
    with pytest.raises(ValueError, match="true/false"):
        LedgerWrite("DLXT", None, DAY, "stop_sale", 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.record(
            [price(DAY, "1")], transaction_id=None, tool_call_id=None, client=None, set_at=datetime(2026, 1, 1)
        )
    assert ledger.query(start=DAY, end=DAY) == []


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import date, timedelta
    from pathlib import Path
    from hotelrunner_mcp.calendar.ledger import CalendarLedger, LedgerWrite

    db, tag = Path(sys.argv[1]), sys.argv[2]
    with CalendarLedger(db) as ledger:
        for i in range(40):
            ledger.record(
                [LedgerWrite(tag, None, date(2026, 8, 1) + timedelta(days=d), "availability", i) for d in range(10)],
                transaction_id=f"{tag}-{i}", tool_call_id=None, client=tag,
            )
    """
)


def test_two_processes_write_concurrently_without_losing_anything(db_path: Path) -> None:
    CalendarLedger(db_path).close()  # schema first, so both writers start on the same file
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(db_path), tag]) for tag in ("A", "B")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with CalendarLedger(db_path) as ledger:
        values = ledger.query(start=DAY, end=DAY + timedelta(days=9))
        assert {(v.inv_code, v.value) for v in values} == {("A", 39), ("B", 39)}
        assert len(values) == 20
        assert len(ledger.pending_transactions(limit=1000)) == 80
