"""`hotelrunner-mcp check`: one GET /rooms through the gate, then room count and quota."""

from __future__ import annotations

import sys

import anyio

from .config import Settings
from .errors import HotelRunnerError
from .services import Services


async def _check(settings: Settings) -> str:
    services = Services.open(settings)
    try:
        snapshot = await services.catalog.get(refresh=True)
        quota = services.limiter.status()
        types = snapshot.room_types()
        return (
            f"OK: {settings.base_url} answered with {len(types)} room types and {len(snapshot.rooms)} rates.\n"
            f"Quota: {quota.used_today} of {quota.per_day} requests used in the last 24 h, {quota.left_today} left "
            f"({quota.per_minute}/minute). Audit log: {settings.audit_file}"
        )
    finally:
        await services.aclose()


def run_check(settings: Settings) -> int:
    """Print the result; exit 0 when HotelRunner answered, 1 with the reason otherwise."""
    try:
        print(anyio.run(_check, settings))
    except HotelRunnerError as exc:
        print(f"check failed ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    return 0
