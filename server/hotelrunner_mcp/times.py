"""UTC times as this server writes them: one format for what people and agents read (ISO 8601 with a Z),
one fixed-width format for what SQLite stores and sorts (string order = time order). Naive means UTC."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Literal

STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def as_utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def iso_z(moment: datetime, timespec: Literal["seconds", "milliseconds"] = "seconds") -> str:
    """2026-12-01T22:03:06Z (or with milliseconds): how answers, errors and audit lines show a time."""
    return as_utc(moment).isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_z_from_epoch(timestamp: float | None) -> str | None:
    """The same from epoch seconds; None for no time or one no calendar can show."""
    if timestamp is None or not math.isfinite(timestamp):
        return None
    try:
        return iso_z(datetime.fromtimestamp(timestamp, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def stored(moment: datetime) -> str:
    """The fixed-width text SQLite rows keep."""
    return as_utc(moment).strftime(STORED_FORMAT)


def parse_stored(text: str | None) -> datetime | None:
    """Inverse of `stored`."""
    return datetime.strptime(text, STORED_FORMAT).replace(tzinfo=UTC) if text else None
