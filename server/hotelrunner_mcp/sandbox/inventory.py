"""The calendar HotelRunner keeps and never lets you read: availability per room type and date,
restrictions per room type, date and channel, prices per rate, date and channel.

Model (a documented simplification of HotelRunner):
- Availability is per inv_code and shared by its rates and channels (channel_codes[] does not
  split it). Until an update sets it, it is the room count of the type minus rooms booked that
  night. Once set explicitly it is the number of rooms left to sell: a later booking lowers it by
  the rooms booked (never below 0) and a cancellation gives them back.
- Restrictions (stop_sale, cta, ctd, min_stay, max_stay) are per inv_code, date and channel.
- Prices are per rate, date and channel. A derived non-refundable rate (NR:<inv>) has no price of
  its own: it is always 10 % below its master rate on the same channel and date. A half-board rate
  (HB:<inv>) has its own price, master base price + 30 EUR until an update sets it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hotelrunner_mcp.sandbox.catalog import HB_SUPPLEMENT, NR_DISCOUNT, RATES_BY_CODE, ROOMS_BY_CODE, Rate, master_rate

RESTRICTION_DEFAULTS: dict[str, int | None] = {"stop_sale": 0, "cta": 0, "ctd": 0, "min_stay": 1, "max_stay": None}
RESTRICTIONS = tuple(RESTRICTION_DEFAULTS)
CENT = Decimal("0.01")


class Calendar:
    """Mutable calendar; not thread-safe on its own (SandboxState holds the lock)."""

    def __init__(self) -> None:
        self._booked: dict[tuple[str, date], int] = {}
        self._availability: dict[tuple[str, date], int] = {}
        self._restrictions: dict[tuple[str, date, str], dict[str, int | None]] = {}
        self._prices: dict[tuple[str, date, str], Decimal] = {}

    # availability -------------------------------------------------------------------------
    def booked(self, inv_code: str, day: date) -> int:
        return self._booked.get((inv_code, day), 0)

    def availability(self, inv_code: str, day: date) -> int:
        explicit = self._availability.get((inv_code, day))
        if explicit is not None:
            return explicit
        return max(0, ROOMS_BY_CODE[inv_code].rooms - self.booked(inv_code, day))

    def book(self, inv_code: str, day: date, rooms: int) -> None:
        """Take (`rooms` > 0) or give back (`rooms` < 0) rooms for one night."""
        key = (inv_code, day)
        self._booked[key] = max(0, self._booked.get(key, 0) + rooms)
        if key in self._availability:
            self._availability[key] = max(0, self._availability[key] - rooms)

    def set_availability(self, inv_code: str, day: date, value: int) -> None:
        self._availability[(inv_code, day)] = value

    # restrictions -------------------------------------------------------------------------
    def restrictions(self, inv_code: str, day: date, channel: str) -> dict[str, int | None]:
        return {**RESTRICTION_DEFAULTS, **self._restrictions.get((inv_code, day, channel), {})}

    def set_restriction(self, inv_code: str, day: date, channel: str, name: str, value: int) -> None:
        self._restrictions.setdefault((inv_code, day, channel), {})[name] = value

    # prices -------------------------------------------------------------------------------
    def price(self, rate: Rate, day: date, channel: str) -> Decimal:
        if rate.derived:
            master = master_rate(rate.room.inv_code)
            return (self.price(master, day, channel) * NR_DISCOUNT).quantize(CENT)
        default = rate.room.base_price + (HB_SUPPLEMENT if rate.kind == "hb" else 0)
        return self._prices.get((rate.rate_code, day, channel), default)

    def set_price(self, rate: Rate, day: date, channel: str, value: Decimal) -> None:
        self._prices[(rate.rate_code, day, channel)] = value.quantize(CENT)

    # reading ------------------------------------------------------------------------------
    def snapshot(self, inv_code: str, day: date, rate_code: str | None = None) -> dict[str, object]:
        """What the sandbox holds for one room type and date. Per-channel values are under
        `channels`; a top-level value is given when all channels agree, else None."""
        rate = RATES_BY_CODE[rate_code] if rate_code else master_rate(inv_code)
        channels: dict[str, dict[str, object]] = {}
        for channel in rate.channel_codes:
            channels[channel] = {"price": self.price(rate, day, channel), **self.restrictions(inv_code, day, channel)}
        result: dict[str, object] = {
            "inv_code": inv_code,
            "rate_code": rate.rate_code,
            "date": day.isoformat(),
            "availability": self.availability(inv_code, day),
            "booked": self.booked(inv_code, day),
            "rooms": ROOMS_BY_CODE[inv_code].rooms,
        }
        for name in ("price", *RESTRICTIONS):
            values = {c[name] for c in channels.values()}
            result[name] = values.pop() if len(values) == 1 else None
        result["channels"] = channels
        return result
