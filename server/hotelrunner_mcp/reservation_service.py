"""Reservation reads that may reach HotelRunner: keeping the mirror fresh, and looking up one number."""

from __future__ import annotations

from .errors import HotelRunnerError
from .gate import quota_patience
from .models import Reservation
from .services import Services
from .sync import SyncReport


async def freshen(
    services: Services, *, force: bool = False, max_requests: int | None = None
) -> tuple[SyncReport | None, str]:
    """Sync the mirror if it is due (or `force`d) and say how fresh it is. When the due sync fails
    (HotelRunner down, quota spent) after an earlier one succeeded, answer from the mirror anyway
    and say so: pushes may still have kept it current. A forced or first sync's failure is raised."""
    sync = services.sync
    routine = not force and sync.freshness.last_sync_at is not None
    try:
        with quota_patience(0 if routine else None):  # a routine refresh never makes a question wait
            report = await (sync.sync(max_requests) if force else sync.ensure_fresh(max_requests, wait=not routine))
    except HotelRunnerError as exc:
        if force or services.sync.freshness.last_sync_at is None:
            raise
        return None, (
            f"{services.sync.freshness.describe()}; the sync due now failed ({exc.message}), so this answer "
            "may miss changes HotelRunner did not push"
        )
    freshness = services.sync.freshness.describe()
    if report is not None and not report.complete:
        freshness += (
            f"; PARTIAL: the sync stopped at max_sync_requests={max_requests} and more changes are waiting, "
            "so this answer may miss some: ask again with a higher max_sync_requests"
        )
    return report, freshness


async def lookup(services: Services, number: str) -> Reservation | None:
    """One upstream lookup by HotelRunner or channel number, stored in the mirror."""
    page = await services.require_client().get_reservations(reservation_number=number, undelivered=False)
    for found in page.reservations:
        services.store.upsert(found, source="lookup")
    return services.store.get(number)
