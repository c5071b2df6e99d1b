"""Typed HR-v1 payloads: what HotelRunner answers (tolerant of every documented variant) and what we send."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

# --------------------------------------------------------------------------- what we send


class CalendarValues(BaseModel):
    """The calendar fields an update may set. A field left None is not sent, so not changed."""

    model_config = ConfigDict(extra="forbid")

    availability: int | None = None
    price: Decimal | None = None
    stop_sale: bool | None = None
    cta: bool | None = None
    ctd: bool | None = None
    min_stay: int | None = None
    max_stay: int | None = None

    def set_fields(self) -> dict[str, int | Decimal | bool]:
        """Only the fields that are set, in declaration order."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class RangeUpdate(CalendarValues):
    """One PUT /rooms/~ : one room type (and optionally one rate) over an inclusive date range."""

    inv_code: str
    rate_code: str | None = None
    start_date: date
    end_date: date
    days: list[int] | None = Field(default=None, description="Weekdays, Sunday=0 … Saturday=6; None = all")
    channel_codes: list[str] | None = None


class DailyValues(CalendarValues):
    """One date's values inside a PUT /rooms/daily room entry."""

    date: date


class DailyRoomUpdate(BaseModel):
    """One room entry of PUT /rooms/daily: at most 90 dates. `rate_code` None = the room's master rate."""

    model_config = ConfigDict(extra="forbid")

    inv_code: str
    rate_code: str | None = None
    channel_codes: list[str] | None = None
    dates: list[DailyValues]


MAX_DAILY_DATES = 90
