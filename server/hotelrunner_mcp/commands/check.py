"""`hotelrunner-mcp check [--probe]`: one GET /rooms through the gate, then room count and quota; with
--probe, at most 3 read-only listing requests that settle what the docs leave open (probe.py)."""

from __future__ import annotations

import sys

import anyio

from hotelrunner_mcp.commands.probe import run_probe, save_probe
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.errors import HotelRunnerError
from hotelrunner_mcp.services import Services


async def _check(settings: Settings, probe: bool) -> str:
    services = Services.open(settings)
    try:
        snapshot = await services.catalog.get(refresh=True)
        types = snapshot.room_types()
        lines = [f"OK: {settings.base_url} answered with {len(types)} room types and {len(snapshot.rooms)} rates."]
        if probe:
            report = await run_probe(services.require_client(), base_url=settings.base_url)
            saved = save_probe(report, settings.data_dir)
            lines += [report.text(), f"Findings kept in {saved}."]
        quota = services.limiter.status()
        lines.append(
            f"Quota: {quota.used_today} of {quota.per_day} requests used in the last 24 h, {quota.left_today} left "
            f"({quota.per_minute}/minute). Audit log: {settings.audit_file}"
        )
        return "\n".join(lines)
    finally:
        await services.aclose()


def run_check(settings: Settings, *, probe: bool = False) -> int:
    """Print the result; exit 0 when HotelRunner answered, 1 with the reason otherwise. `probe` adds at most
    3 read-only listing requests that settle how HotelRunner reads the listing's parameters (probe.py)."""
    try:
        print(anyio.run(_check, settings, probe))
    except HotelRunnerError as exc:
        print(f"check failed ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    return 0
