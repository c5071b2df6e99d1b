"""`hotelrunner-mcp check --probe`: settle, against the live API, what HotelRunner's docs leave open on
the read side — with at most 3 read-only requests and never a write.

What it asks: whether `undelivered=false` (the docs' literal, which the client sends) and `undelivered=0`
list the same bookings, and, only if they differ, which of them HotelRunner reads as its default
(`true`); and, from those same answers, which documented fields the reservation objects really carry
(`requires_response`, `next_states`, `message_uid`, channel codes or display names, timestamp offsets).
The findings are printed and kept in `<data dir>/probe.json` for the next person to read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hotelrunner_mcp.hotelrunner.client import MAX_PER_PAGE, HotelRunnerClient

MAX_PROBE_REQUESTS = 3
LISTING_DAYS = 30  # HotelRunner lists bookings of the last ~30 days


def probe_path(data_dir: Path) -> Path:
    return data_dir / "probe.json"


@dataclass
class ProbeReport:
    """What the probe saw; `findings` in plain words, `requests` it spent (never more than 3)."""

    probed_at: str
    base_url: str
    requests: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    fields_seen: dict[str, bool] = field(default_factory=dict)

    def text(self) -> str:
        lines = [f"Probe of {self.base_url} ({self.requests} read-only requests, no write):"]
        lines += [f"- {finding}" for finding in self.findings]
        return "\n".join(lines)


async def run_probe(client: HotelRunnerClient, *, base_url: str, today: date | None = None) -> ProbeReport:
    """Ask the listing with `undelivered=false`, then `=0`, then (only if they differ) with no value."""
    since = (today or datetime.now(UTC).date()) - timedelta(days=LISTING_DAYS)
    report = ProbeReport(probed_at=datetime.now(UTC).isoformat(timespec="seconds"), base_url=base_url)
    common = {"from_date": since.isoformat(), "per_page": str(MAX_PER_PAGE)}

    async def listing(label: str, extra: Mapping[str, str]) -> list[dict[str, Any]]:
        page, raw = await client.probe_listing({**common, **extra})
        report.requests += 1
        report.counts[label] = page.count or len(page.reservations)
        return raw

    literal = await listing("undelivered=false", {"undelivered": "false"})
    numeric = await listing("undelivered=0", {"undelivered": "0"})
    a, b = report.counts["undelivered=false"], report.counts["undelivered=0"]
    if a == b:
        report.findings.append(
            f"undelivered=false and undelivered=0 list the same {a} bookings: HotelRunner reads both alike here "
            "(or every recent booking is still undelivered, which would hide a difference)."
        )
    else:
        await listing("undelivered (default)", {})
        c = report.counts["undelivered (default)"]
        which = "=0" if b == c else "=false" if a == c else "neither"
        report.findings.append(
            f"undelivered=false lists {a} bookings, undelivered=0 lists {b}, the default lists {c}: HotelRunner reads "
            f"undelivered{which} as its default. The client sends the literal false, as the docs print it."
        )
    report.fields_seen = _fields_seen(literal, numeric)
    for name, seen in report.fields_seen.items():
        report.findings.append(f"reservation field {name}: {'present' if seen else 'absent'} in these answers")
    return report


def _fields_seen(*pages: list[dict[str, Any]]) -> dict[str, bool]:
    """Which disputed fields the raw reservation objects carry (as HotelRunner sent them)."""
    raw = [r for page in pages for r in page]
    stamps = [str(r.get("updated_at") or "") for r in raw]
    return {
        "requires_response": any("requires_response" in r for r in raw),
        "next_states": any("next_states" in r for r in raw),
        "message_uid": any(r.get("message_uid") for r in raw),
        "channel as a display name (e.g. Booking.com)": any(
            isinstance(r.get("channel"), str) and r["channel"] != r["channel"].lower() for r in raw
        ),
        "timestamps with an offset instead of Z": any(s and not s.endswith("Z") for s in stamps),
    }


def save_probe(report: ProbeReport, data_dir: Path) -> Path:
    """Keep the findings beside the mirror (0600, replaced atomically)."""
    path = probe_path(data_dir)
    scratch = path.with_suffix(".tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(report), out, indent=1, ensure_ascii=False)
    os.replace(scratch, path)
    return path


def load_probe(data_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(probe_path(data_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
