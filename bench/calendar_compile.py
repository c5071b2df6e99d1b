"""How many upstream requests realistic calendar changes cost, against one PUT /rooms/~ per date,
and how long validation + compilation take. Prints figures; asserts nothing.

    .venv/bin/python bench/calendar_compile.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from hotelrunner_mcp.calendar.compiler import CalendarChange, compile_plan, validate_changes
from hotelrunner_mcp.hotelrunner.models import Room

TODAY = date(2026, 12, 1)
CHANNELS = ["bookingcom", "expedia", "online"]
VILLA_THAIFA = {  # inv_code: (name, usual price in EUR)
    "DTRIPLE": ("Deluxe Triple", 169),
    "DDOUBLE": ("Deluxe Double", 159),
    "DSUP": ("Double Room Superior", 149),
    "EXEC": ("Executive Suite", 169),
    "DKING": ("Deluxe King Suite", 329),
    "FAMILY": ("Family Suite", 189),
    "SUITE": ("Suite", 179),
    "PRES": ("Presidential Suite", 449),
}


def rooms() -> list[Room]:
    """Each room type with an updatable master rate and a derived non-refundable rate."""
    found = []
    for inv, (name, _) in VILLA_THAIFA.items():
        common = {"inv_code": inv, "channel_codes": CHANNELS, "sales_currency": "EUR"}
        found.append(
            Room(
                **common,
                rate_code=inv,
                name=name,
                is_master=False,
                availability_update=True,
                restrictions_update=True,
                price_update=True,
            )
        )
        found.append(
            Room(
                **common,
                rate_code=f"NR:{inv}",
                name=f"{name} NR",
                is_master=False,
                availability_update=False,
                restrictions_update=False,
                price_update=False,
            )
        )
    return found


def one_room_one_season() -> list[CalendarChange]:
    return [
        CalendarChange(
            room="SUITE", start_date=date(2027, 3, 15), end_date=date(2027, 6, 30), price=Decimal(199), min_stay=2
        )
    ]


def three_rooms_120_days_monthly_prices() -> list[CalendarChange]:
    changes = []
    for inv in ("DTRIPLE", "DDOUBLE", "SUITE"):
        base = VILLA_THAIFA[inv][1]
        start = TODAY
        for month in range(4):
            end = min(start + timedelta(days=29), TODAY + timedelta(days=119))
            changes.append(CalendarChange(room=inv, start_date=start, end_date=end, price=Decimal(base + 10 * month)))
            start = end + timedelta(days=1)
    return changes


def all_rooms_year_weekend_pricing() -> list[CalendarChange]:
    end = TODAY + timedelta(days=364)
    changes = []
    for inv, (_, price) in VILLA_THAIFA.items():
        changes.append(CalendarChange(room=inv, start_date=TODAY, end_date=end, price=Decimal(price)))
        changes.append(
            CalendarChange(room=inv, start_date=TODAY, end_date=end, weekdays=["fri", "sat"], price=Decimal(price + 30))
        )
    return changes


def all_rooms_year_daily_prices() -> list[CalendarChange]:
    """Worst case: a different price every night for every room (e.g. from a revenue tool)."""
    return [
        CalendarChange(
            room=inv,
            start_date=TODAY + timedelta(days=i),
            end_date=TODAY + timedelta(days=i),
            price=Decimal(price + i % 17),
        )
        for inv, (_, price) in VILLA_THAIFA.items()
        for i in range(365)
    ]


def one_room_year_price_and_ten_min_stays() -> list[CalendarChange]:
    """A year at one price, and a 2-night minimum on 10 event dates: split by field, 2 requests."""
    year = [CalendarChange(room="SUITE", start_date=TODAY, end_date=TODAY + timedelta(days=364), price=Decimal(179))]
    events = [TODAY + timedelta(days=15 + 33 * n) for n in range(10)]
    return year + [CalendarChange(room="SUITE", start_date=day, end_date=day, min_stay=2) for day in events]


SCENARIOS: dict[str, Callable[[], list[CalendarChange]]] = {
    "1 room, one season, uniform": one_room_one_season,
    "3 rooms x 120 days, monthly prices": three_rooms_120_days_monthly_prices,
    "8 rooms x 365 days, weekend pricing": all_rooms_year_weekend_pricing,
    "8 rooms x 365 days, a price per night": all_rooms_year_daily_prices,
    "1 room, a year's price + 10 min_stay dates": one_room_year_price_and_ten_min_stays,
}


def main() -> None:
    known = rooms()
    print(f"{'scenario':40} {'changes':>7} {'requests':>8} {'naive':>6} {'kinds':>16} {'compile ms (median)':>20}")
    for name, build in SCENARIOS.items():
        changes = build()
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            plan = compile_plan(validate_changes(changes, known, today=TODAY))
            timings.append((time.perf_counter() - started) * 1000)
        kinds = f"{sum(r.kind == 'daily' for r in plan.requests)} daily {sum(r.kind == 'range' for r in plan.requests)} range"
        print(
            f"{name:40} {len(changes):>7} {plan.request_count:>8} {plan.naive_request_count:>6} {kinds:>16} "
            f"{statistics.median(timings):>20.1f}"
        )


if __name__ == "__main__":
    main()
