"""Reservation reads that may reach HotelRunner: keeping the mirror fresh, and looking up one number."""

from __future__ import annotations

import re
import time

from hotelrunner_mcp.errors import HotelRunnerError, InvalidRequest
from hotelrunner_mcp.gate.gate import quota_patience
from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.reservations.sync import SyncReport
from hotelrunner_mcp.services import Services
from hotelrunner_mcp.storage.offloop import off_loop


async def freshen(
    services: Services, *, force: bool = False, max_requests: int | None = None
) -> tuple[SyncReport | None, str]:
    """Sync the mirror if it is due (or `force`d) and say how fresh it is. When the due sync fails
    (HotelRunner down, quota spent) after an earlier one succeeded, answer from the mirror anyway
    and say so: pushes may still have kept it current. A forced or first sync's failure is raised."""
    sync = services.sync
    routine = not force and (await sync.current_freshness()).last_sync_at is not None
    try:
        with quota_patience(0 if routine else None):  # a routine refresh never makes a question wait
            report = await (sync.sync(max_requests) if force else sync.ensure_fresh(max_requests, wait=not routine))
    except HotelRunnerError as exc:
        now = await sync.current_freshness()
        if force or now.last_sync_at is None:
            raise
        return None, (
            f"{now.describe()}; the sync due now failed ({exc.message}), so this answer "
            "may miss changes HotelRunner did not push"
        )
    freshness = (await sync.current_freshness()).describe()
    if report is not None and not report.complete and report.unordered:
        freshness += (
            f"; PARTIAL: HotelRunner lists bookings in no order, so its listing can only be read in one pass of "
            f"{report.requests_left:,} request(s), more than a question may spend (its max_sync_requests, or one "
            "minute of the quota): this answer may miss bookings. Have the owner run `hotelrunner-mcp sync`, which "
            "reads it at the quota's pace"
        )
    elif report is not None and not report.complete:
        freshness += (
            f"; PARTIAL: this sync stopped at max_sync_requests={max_requests} with about {report.requests_left:,} "
            "more request(s) to go, so this answer may miss bookings; the next question continues where it "
            "stopped (a higher max_sync_requests finishes sooner)"
        )
    return report, freshness


RESERVATION_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{2,63}")
MISS_MEMORY_SECONDS = 600.0  # a number HotelRunner did not know is not asked for again for 10 minutes


def checked_number(number: str) -> str:
    """The number without surrounding spaces, or InvalidRequest when it cannot be a reservation number."""
    number = number.strip()
    if not RESERVATION_NUMBER.fullmatch(number):
        raise InvalidRequest(
            f"{number[:40]!r} is not a reservation number: HotelRunner's look like R754208185, a channel's are "
            "3 to 64 letters, digits, '-', '_', '.', ':' or '/'. Nothing was sent."
        )
    return number


async def lookup(services: Services, number: str) -> Reservation | None:
    """One upstream lookup by HotelRunner or channel number, stored in the mirror. A number that cannot
    be one is refused, and a miss is remembered a while: 250 junk lookups must not spend the day."""
    number = checked_number(number)
    misses = services.lookup_misses
    missed_at = misses.get(number)
    if missed_at is not None and time.monotonic() - missed_at < MISS_MEMORY_SECONDS:
        return None
    page = await services.require_client().get_reservations(reservation_number=number, undelivered=False)
    await off_loop(services.store.upsert_many, page.reservations, source="lookup")
    known = await off_loop(services.store.get, number)
    if known is None:
        misses[number] = time.monotonic()
        while len(misses) > 1000:
            misses.pop(next(iter(misses)))
    else:
        misses.pop(number, None)
    return known


async def known_or_lookup(services: Services, number: str) -> Reservation | None:
    """The booking as the mirror has it, else as one upstream `lookup` finds it."""
    return await off_loop(services.store.get, number) or await lookup(services, number)
