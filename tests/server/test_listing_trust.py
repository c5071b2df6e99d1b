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


async def test_a_listing_that_is_not_oldest_first_is_never_resumed_mid_way(stub: StubUpstream, tmp_path: Path) -> None:
    """Resuming a backfill at page N relies on HotelRunner listing oldest first, which its docs never show.
    A newest-first listing makes the server forget its progress (page 1 again next time), not skip."""
    settings = Settings(
        token=TOKEN, hr_id=HR_ID, base_url=stub.base_url, data_dir=tmp_path / "data", timeout_seconds=2.0
    )

    def numbered(n: int, booked: datetime) -> dict[str, Any]:
        return {**booking("confirmed", booked), "hr_number": f"R9{n:08d}", "completed_at": booked.isoformat()}

    newest_first = [numbered(n, NOW - timedelta(hours=n)) for n in range(100)]
    page = {"count": 100, "pages": 2, "current_page": 1, "reservations": newest_first[:50]}
    stub.script("/reservations", Answer(body=page), Answer(body={**page, "current_page": 1}))
    async with connect(settings) as mcp:
        await mcp.ok("get_reservations", arriving_from=CHECKIN.isoformat(), max_sync_requests=1)
        await mcp.ok("get_reservations", arriving_from=CHECKIN.isoformat(), max_sync_requests=1, refresh=True)
    pages = [query_of(s)["page"][0] for s in stub.requests("/reservations")]
    assert pages == ["1", "1"]
