"""select_undo and undo_changes, pure: what undoing some ledger batches puts back, channel by channel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hotelrunner_mcp.calendar.ledger import LedgerBatch, StoredWrite
from hotelrunner_mcp.calendar.undo import select_undo, undo_changes

DAY = date(2030, 5, 1)
TODAY = date(2030, 1, 1)
CHANNELS = {("SUITE", "SUITE"): ("bookingcom", "expedia", "online")}


def write(id_: int, batch: int, price: str, channels: tuple[str, ...] = (), day: date = DAY) -> StoredWrite:
    return StoredWrite(id_, batch, "SUITE", "SUITE", day, "price", channels, Decimal(price))


def batch(id_: int) -> LedgerBatch:
    return LedgerBatch(id_, f"t{id_}", datetime(2030, 1, 1, tzinfo=UTC), None, None, 1)


def test_a_channel_set_apart_before_the_undone_change_gets_its_own_value_back() -> None:
    history = [write(1, 1, "140"), write(2, 2, "150", ("bookingcom",)), write(3, 3, "160")]
    selection = select_undo([batch(3)], history[2:], history, TODAY, CHANNELS)
    assert selection.restore == {
        ("SUITE", "SUITE", DAY, "price", ("bookingcom",)): Decimal("150"),
        ("SUITE", "SUITE", DAY, "price", ("expedia",)): Decimal("140"),
        ("SUITE", "SUITE", DAY, "price", ("online",)): Decimal("140"),
    }
    changes = undo_changes(selection.restore)
    assert {(c.channels[0] if c.channels else None, c.price) for c in changes} == {
        ("bookingcom", Decimal("150")),
        ("expedia", Decimal("140")),
        ("online", Decimal("140")),
    }


def test_without_the_rate_s_channel_list_the_every_channel_value_comes_first() -> None:
    history = [write(1, 1, "140"), write(2, 2, "150", ("bookingcom",)), write(3, 3, "160")]
    selection = select_undo([batch(3)], history[2:], history, TODAY)
    assert selection.restore == {
        ("SUITE", "SUITE", DAY, "price", ()): Decimal("140"),
        ("SUITE", "SUITE", DAY, "price", ("bookingcom",)): Decimal("150"),
    }
    first, second = undo_changes(selection.restore)
    assert first.channels is None and second.channels == ["bookingcom"]  # every channel first, then the exception


def test_unknown_superseded_past_and_unchanged_cells_are_left_alone() -> None:
    unknown = [write(1, 1, "160")]
    assert select_undo([batch(1)], unknown, unknown, TODAY, CHANNELS).unknown == [("SUITE", "SUITE", DAY, "price", ())]
    later = [write(1, 1, "140"), write(2, 2, "160"), write(3, 3, "170", ("expedia",))]
    assert select_undo([batch(2)], later[1:2], later, TODAY, CHANNELS).superseded
    past = [write(1, 1, "140", day=date(2029, 12, 1)), write(2, 2, "160", day=date(2029, 12, 1))]
    assert select_undo([batch(2)], past[1:], past, TODAY, CHANNELS).past
    same = [write(1, 1, "140"), write(2, 2, "140")]
    assert select_undo([batch(2)], same[1:], same, TODAY, CHANNELS).unchanged


def test_undoing_several_batches_goes_back_to_before_the_first() -> None:
    history = [write(1, 1, "140"), write(2, 2, "150"), write(3, 3, "160", ("bookingcom",))]
    selection = select_undo([batch(2), batch(3)], history[1:], history, TODAY, CHANNELS)
    assert selection.restore == {("SUITE", "SUITE", DAY, "price", ()): Decimal("140")}
    (change,) = undo_changes(selection.restore)
    assert change.price == Decimal("140") and change.channels is None and change.start_date == DAY
