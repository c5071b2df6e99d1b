"""A sync trusts only a listing that is one (issue 12, High 1): a 200 answer with an error body, or an
empty object, is an upstream fault — the mirror keeps its cursor and says it is stale, so a change made
before the fault (here a cancellation two days ago) is fetched by the next good sync, not skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.reservations.mirror import ReservationStore
from stub_upstream import Answer, StubUpstream, query_of, run_stub

from .conftest import connect

TOKEN, HR_ID = "tok-listing-5150", "hr-515151"
NOW = datetime.now(UTC)
CHECKIN = NOW.date() + timedelta(days=10)
LAST_GOOD_SYNC = NOW - timedelta(days=3)
CANCELED_AT = NOW - timedelta(days=2)


def booking(state: str, updated_at: datetime) -> dict[str, Any]:
    return {
        "hr_number": "R900100200",
        "provider_number": "4011",
        "channel": "bookingcom",
        "state": state,
        "guest": "Nadia Benali",
        "updated_at": updated_at.isoformat(),
        "completed_at": "2026-11-20T09:00:00Z",
        "total": 340,
        "currency": "EUR",
        "checkin_date": CHECKIN.isoformat(),
        "checkout_date": (CHECKIN + timedelta(days=2)).isoformat(),
        "rooms": [{"code": "DLXTRP", "inv_code": "DLXTRP", "price": 340, "nights": 2, "total_guest": 2}],
    }


@pytest.fixture
def stub() -> Iterator[StubUpstream]:
    with run_stub() as upstream:
        yield upstream


@pytest.mark.parametrize("fault", [{"status": "error", "message": "maintenance"}, {}, {"reservations": None}])
async def test_a_200_fault_keeps_the_cursor_and_the_cancellation_arrives(
    stub: StubUpstream, tmp_path: Path, fault: dict
) -> None:
    settings = Settings(
        token=TOKEN,
        hr_id=HR_ID,
        base_url=stub.base_url,
        data_dir=tmp_path / "data",
        timeout_seconds=2.0,
        mirror_max_age_seconds=0.001,
    )
    settings.data_dir.mkdir(parents=True)
    with ReservationStore(settings.data_dir / "mirror.db") as store:  # the mirror as a sync three days ago left it
        store.upsert(
            Reservation.model_validate(booking("confirmed", LAST_GOOD_SYNC - timedelta(hours=1))), source="sync"
        )
        store.set_sync_state(last_sync_at=LAST_GOOD_SYNC, cursor=LAST_GOOD_SYNC, report={})
    stub.script("/reservations", Answer(body=fault))
    async with connect(settings) as mcp:
        during = await mcp.ok("get_reservations", arriving_from=CHECKIN.isoformat())
        assert "failed" in during["freshness"]
        assert [r["state"] for r in during["reservations"]] == ["confirmed"]  # answered from the mirror, and says so
        listing = {"reservations": [booking("canceled", CANCELED_AT)], "count": 1, "current_page": 1, "pages": 1}
        stub.script("/reservations", Answer(body=listing))
        after = await mcp.ok("get_reservations", arriving_from=CHECKIN.isoformat(), refresh=True)
    assert [r["state"] for r in after["reservations"]] == ["canceled"]
    asked_from = [query_of(s)["from_last_update_date"][0] for s in stub.requests("/reservations")]
    # both syncs ask from the last good cursor, which is before the cancellation: HotelRunner lists it
    assert asked_from == [LAST_GOOD_SYNC.date().isoformat()] * 2
    assert date.fromisoformat(asked_from[-1]) <= CANCELED_AT.date()


def numbered(n: int, booked: datetime) -> dict[str, Any]:
    return {**booking("confirmed", booked), "hr_number": f"R9{n:08d}", "completed_at": booked.isoformat()}


def listing(bookings: list[dict[str, Any]]) -> list[Answer]:
    """The pages of 50 HotelRunner would answer for these bookings, in this order."""
    pages = -(-len(bookings) // 50)
    return [
        Answer(
            body={
                "count": len(bookings),
                "pages": pages,
                "current_page": p + 1,
                "reservations": bookings[p * 50 : (p + 1) * 50],
            }
        )
        for p in range(pages)
    ]


async def test_a_newest_first_listing_is_resumed_page_by_page(stub: StubUpstream, tmp_path: Path) -> None:
    """HotelRunner's docs never show the listing's order. Newest first only grows at its front and shrinks at its
    end, so resuming at page N may read a booking twice but never skips one: the backfill resumes and finishes."""
    settings = Settings(
        token=TOKEN, hr_id=HR_ID, base_url=stub.base_url, data_dir=tmp_path / "data", timeout_seconds=2.0
    )
    stub.script("/reservations", *listing([numbered(n, NOW - timedelta(hours=n)) for n in range(100)]))
    async with connect(settings) as mcp:
        first = await mcp.ok("get_reservations", max_sync_requests=1)
        second = await mcp.ok("get_reservations", max_sync_requests=1)
    assert first["sync"]["complete"] is False and second["sync"]["complete"] is True
    assert second["matching"] == 100
    assert [query_of(s)["page"][0] for s in stub.requests("/reservations")] == ["1", "2"]


async def test_a_listing_in_no_order_is_read_in_one_pass_within_the_limit(stub: StubUpstream, tmp_path: Path) -> None:
    """A listing in no booking order could shift under a resumed sync and skip a booking: it is only read in one
    pass from page 1. A question's max_sync_requests still bounds what it spends: one too low gets a PARTIAL answer
    that says how many requests the pass needs, and one that allows it completes the mirror."""
    settings = Settings(
        token=TOKEN, hr_id=HR_ID, base_url=stub.base_url, data_dir=tmp_path / "data", timeout_seconds=2.0
    )
    pages = listing([numbered(n, NOW - timedelta(hours=(n * 37) % 150)) for n in range(150)])
    stub.script("/reservations", pages[0], *pages)
    async with connect(settings) as mcp:
        short = await mcp.ok("get_reservations", max_sync_requests=1)
        whole = await mcp.ok("get_reservations", max_sync_requests=3)
    assert (
        short["sync"]["complete"] is False and "no order" in short["freshness"] and "3 request(s)" in short["freshness"]
    )
    assert whole["sync"]["complete"] is True and whole["matching"] == 150
    assert [query_of(s)["page"][0] for s in stub.requests("/reservations")] == ["1", "1", "2", "3"]


async def test_a_listing_in_no_order_longer_than_a_minute_of_quota_is_left_to_the_sync_command(
    stub: StubUpstream, tmp_path: Path
) -> None:
    """Seven pages cannot be read within one minute of the quota (5 requests), which is all a question may wait:
    after the page that shows the disorder, questions spend nothing more on it and say how to finish it."""
    settings = Settings(
        token=TOKEN, hr_id=HR_ID, base_url=stub.base_url, data_dir=tmp_path / "data", timeout_seconds=2.0
    )
    stub.script("/reservations", *listing([numbered(n, NOW - timedelta(hours=(n * 37) % 350)) for n in range(350)]))
    async with connect(settings) as mcp:
        first = await mcp.ok("get_reservations", max_sync_requests=50)
        again = await mcp.ok("get_reservations", max_sync_requests=50, refresh=True)
        status = await mcp.resource("hotelrunner://setup-status")
    assert [query_of(s)["page"][0] for s in stub.requests("/reservations")] == ["1"]
    for answer in (first, again):
        assert answer["sync"]["complete"] is False and "hotelrunner-mcp sync" in answer["freshness"]
    assert again["quota_spent"] == 0 and "7 request(s)" in again["freshness"]
    assert "one pass of 7 request(s)" in status


@pytest.mark.parametrize("second_limit", [2, 10])
async def test_a_resumed_backfill_that_meets_disorder_starts_again_at_page_1(
    stub: StubUpstream, tmp_path: Path, second_limit: int
) -> None:
    """Pages 1 and 2 came in booking order, so the backfill was resumed at page 3; page 3 is in no order, so the
    order of the pages read before was never true either: the listing is read again from page 1, in the same
    sync when its limit allows the whole pass, else by the next one that can."""
    settings = Settings(
        token=TOKEN, hr_id=HR_ID, base_url=stub.base_url, data_dir=tmp_path / "data", timeout_seconds=2.0, per_minute=10
    )  # six pages within a minute: this stub is not HotelRunner
    bookings = [numbered(n, NOW - timedelta(hours=150 - n)) for n in range(150)]  # oldest first...
    bookings[100:] = bookings[100:][::3] + bookings[100:][1::3] + bookings[100:][2::3]  # ...but page 3
    pages = listing(bookings)
    stub.script("/reservations", *pages, *pages)
    async with connect(settings) as mcp:
        first = await mcp.ok("get_reservations", max_sync_requests=2)
        second = await mcp.ok("get_reservations", max_sync_requests=second_limit)
        last = second if second_limit == 10 else await mcp.ok("get_reservations", max_sync_requests=3)
    assert first["sync"]["complete"] is False
    assert second["sync"]["complete"] is (second_limit == 10)
    assert last["sync"]["complete"] is True and last["matching"] == 150
    assert [query_of(s)["page"][0] for s in stub.requests("/reservations")] == ["1", "2", "3", "1", "2", "3"]
