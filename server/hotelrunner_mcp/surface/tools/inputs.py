"""Bounded input types shared by the tools: what an agent may send, refused with a clear message (and at
no cost) when it is out of any sane range, instead of failing deep inside with an internal error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _plausible_day(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"{value} is outside {EARLIEST}..{LATEST}; give a real date")
    return value


def _plausible_moment(value: datetime) -> datetime:
    if not EARLIEST.year <= value.year <= LATEST.year:
        raise ValueError(f"{value.isoformat()} is outside {EARLIEST.year}..{LATEST.year}; give a real time")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Day = Annotated[date, AfterValidator(_plausible_day)]
"""A date in 2000..2100."""
Moment = Annotated[datetime, AfterValidator(_plausible_moment)]
"""A time in 2000..2100; without an offset it is UTC."""
SearchText = Annotated[str, Field(min_length=1, max_length=200)]
"""A name, e-mail or code to look for."""
ReservationNumber = Annotated[str, Field(min_length=1, max_length=64)]
ChangeId = Annotated[int, Field(ge=0, le=2**53)]
