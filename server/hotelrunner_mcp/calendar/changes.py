"""Calendar changes as an agent asks for them, and their validation against the property's rooms.

`validate_changes` checks every change before anything is sent and either returns `ResolvedChange`s
(the rate picked, the explicit dates, the fields to set) or raises `CalendarValidationError` listing
ALL problems, each naming the change and field and saying how to fix it.

Size: every rule a change must meet, each with the message that says how to fix it, kept in one
checker so a change is validated in one pass and every problem is reported at once.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from hotelrunner_mcp.errors import InvalidRequest, range_problem
from hotelrunner_mcp.hotelrunner.models import CALENDAR_FIELDS, RATE_ONLY_FIELDS, is_master_rate, is_non_refundable

PROPERTY_TIMEZONE = "Africa/Casablanca"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
FIELD_FLAG = {  # which Room flag allows the API to change each field
    "availability": "availability_update",
    "price": "price_update",
    "stop_sale": "restrictions_update",
    "cta": "restrictions_update",
    "ctd": "restrictions_update",
    "min_stay": "restrictions_update",
    "max_stay": "restrictions_update",
}
MAX_PRICE = Decimal(1_000_000)
MAX_STAY_NIGHTS = 365
MAX_AVAILABILITY_UNKNOWN_COUNT = 100  # a sanity bound when the room type's size is not configured
MAX_CHANGES = 5000  # keeps one call's work bounded (8 rooms x 365 single-night changes is 2920)
MAX_CHANNELS = 50  # HotelRunner connects a few dozen channels at most
ALL_CHANNELS = "*"  # cell channel for a rate whose channel list is unknown: "every channel"
Value = int | Decimal | bool


class RoomRate(Protocol):
    """What validation needs from `models.Room` (one rate of one room type, as GET /rooms lists it)."""

    inv_code: str
    rate_code: str | None
    name: str | None
    availability_update: bool | None
    restrictions_update: bool | None
    price_update: bool | None
    is_master: bool | None
    channel_codes: list[str]
    sales_currency: str | None


class CalendarChange(BaseModel):
    """One calendar change: some values for one room type (and rate) over a date range."""

    model_config = ConfigDict(extra="forbid")

    room: str = Field(description="The room type's inv_code, exactly as get_rooms shows it.")
    rate_code: str | None = Field(
        default=None,
        description="Rate to change, as get_rooms shows it. Omit for the room's master rate (the rate whose code "
        "is the room's inv_code, or its only updatable rate). Another rate takes only a price; derived rates such "
        "as NR follow their parent and cannot be set.",
    )
    start_date: date = Field(description="First date to change, YYYY-MM-DD (property's local date).")
    end_date: date = Field(description="Last date to change, YYYY-MM-DD, inclusive. Same as start_date for one day.")
    weekdays: list[Weekday] | None = Field(
        default=None,
        max_length=7,
        description='Only these weekdays inside the range, e.g. ["fri","sat"] for weekends. Omit for every day.',
    )
    channels: list[str] | None = Field(
        default=None,
        max_length=MAX_CHANNELS,
        description='Only these channel codes, e.g. ["bookingcom"]. Omit for every channel of the rate.',
    )
    availability: int | None = Field(
        default=None, description="Rooms left to sell (0 or more). Shared by all rates of the room."
    )
    price: Decimal | None = Field(
        default=None, description="Nightly price in the rate's sales currency, above 0, at most 2 decimals."
    )
    stop_sale: bool | None = Field(default=None, description="true closes the dates for sale; false reopens them.")
    cta: bool | None = Field(default=None, description="Closed to arrival: true forbids check-in on these dates.")
    ctd: bool | None = Field(default=None, description="Closed to departure: true forbids check-out on these dates.")
    min_stay: int | None = Field(
        default=None, description="Minimum nights for stays arriving on these dates (1 or more)."
    )
    max_stay: int | None = Field(
        default=None, description="Maximum nights for stays arriving on these dates (1 or more)."
    )

    def values(self) -> dict[str, Value]:
        """The calendar fields this change sets, in a fixed order."""
        return {name: getattr(self, name) for name in CALENDAR_FIELDS if getattr(self, name) is not None}


@dataclass(frozen=True)
class ResolvedChange:
    """A valid change: its position in the request, the rate it touches and its explicit dates."""

    index: int
    change: CalendarChange
    rate: RoomRate
    dates: tuple[date, ...]
    channels: tuple[str, ...] | None  # None = every channel of the rate
    values: dict[str, Value]

    @property
    def inv_code(self) -> str:
        return self.rate.inv_code

    @property
    def rate_code(self) -> str | None:
        return self.rate.rate_code


class CalendarValidationError(InvalidRequest):
    """Some changes are invalid; nothing was sent. `problems` lists each one on its own."""

    def __init__(self, problems: list[str]) -> None:
        noun = "problem" if len(problems) == 1 else "problems"
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"{len(problems)} {noun} in the calendar changes; nothing was sent, no quota used:\n{lines}")
        self.problems = problems


def property_today(now: datetime | None = None) -> date:
    """Today's date at the property (Morocco), which is what "not in the past" is measured against."""
    try:
        zone: ZoneInfo | timezone = ZoneInfo(PROPERTY_TIMEZONE)
    except ZoneInfoNotFoundError:  # no tz database on this machine: Morocco's usual offset
        zone = timezone(timedelta(hours=1))
    return (now or datetime.now(UTC)).astimezone(zone).date()


# --------------------------------------------------------------------------- validation


def validate_changes(
    changes: Sequence[CalendarChange],
    rooms: Sequence[RoomRate],
    *,
    today: date,
    max_days_ahead: int = 730,
    max_span_days: int = 366,
    room_counts: Mapping[str, int] | None = None,
) -> list[ResolvedChange]:
    """Check every change against the rooms, their sizes (`room_counts`, inv_code → rooms; availability
    may not exceed it) and `today` (the property's local date).

    Raises `CalendarValidationError` (an `InvalidRequest`) listing every problem found.
    """
    if not changes:
        raise CalendarValidationError(["changes: give at least one change"])
    if len(changes) > MAX_CHANGES:
        raise CalendarValidationError(
            [
                f"changes: {len(changes)} changes, at most {MAX_CHANGES} per call; use date ranges and weekdays, or split the call"
            ]
        )
    problems: list[str] = []
    checker = _Checker(
        rooms, today=today, max_days_ahead=max_days_ahead, max_span_days=max_span_days, room_counts=room_counts
    )
    resolved: list[ResolvedChange] = []
    for index, change in enumerate(changes):
        found, change_problems = checker.check(index, change)
        problems.extend(change_problems)
        if found is not None:
            resolved.append(found)
    if not problems:
        problems.extend(cross_change_problems(resolved))
    if problems:
        raise CalendarValidationError(problems)
    return resolved


class _Checker:
    """Validates one change at a time against the rooms; collects problems instead of stopping."""

    def __init__(
        self,
        rooms: Sequence[RoomRate],
        *,
        today: date,
        max_days_ahead: int,
        max_span_days: int,
        room_counts: Mapping[str, int] | None,
    ) -> None:
        self.room_counts = {code.upper(): count for code, count in (room_counts or {}).items()}
        self.rates_by_room: dict[str, list[RoomRate]] = {}
        for rate in rooms:
            self.rates_by_room.setdefault(rate.inv_code, []).append(rate)
        self.today = today
        self.last_day = today + timedelta(days=max_days_ahead)
        self.max_span_days = max_span_days

    def _availability_problems(self, where: str, change: CalendarChange) -> list[str]:
        rooms = change.availability
        if rooms is None:
            return []
        if rooms < 0:
            return [f"{where}.availability: must be 0 or more, got {rooms}; use 0 to sell none"]
        size = self.room_counts.get(change.room.strip().upper())
        if size is not None and rooms > size:
            return [
                f"{where}.availability: {change.room} has {size} room(s) (HOTELRUNNER_ROOM_COUNTS), so {rooms} "
                "would oversell on every channel; give at most that number"
            ]
        if size is None and rooms > MAX_AVAILABILITY_UNKNOWN_COUNT:
            return [
                f"{where}.availability: {rooms} rooms is not plausible (at most {MAX_AVAILABILITY_UNKNOWN_COUNT}); "
                "set HOTELRUNNER_ROOM_COUNTS so the server knows each room type's size"
            ]
        return []

    def check(self, index: int, change: CalendarChange) -> tuple[ResolvedChange | None, list[str]]:
        where = f"changes[{index}]"
        values = change.values()
        rate, problems = self._rate(where, change, values)
        channels: tuple[str, ...] | None = None
        if rate is not None:
            problems += self._field_problems(where, rate, values)
            channels, channel_problems = self._channels(where, change, rate)
            problems += channel_problems
        dates, date_problems = self._dates(where, change)
        problems += date_problems
        if not values:
            problems.append(f"{where}: sets nothing; give at least one of {', '.join(CALENDAR_FIELDS)}")
        problems += self._value_problems(where, change)
        if problems or rate is None:
            return None, problems
        return ResolvedChange(index, change, rate, dates, channels, values), []

    # ---- values

    def _value_problems(self, where: str, change: CalendarChange) -> list[str]:
        problems: list[str] = []
        price = change.price
        if price is not None:
            if price <= 0:
                problems.append(f"{where}.price: must be greater than 0, got {price}")
            elif price >= MAX_PRICE:
                problems.append(f"{where}.price: {price} is not a plausible nightly price (must be below {MAX_PRICE})")
            elif price != round(price, 2):
                problems.append(f"{where}.price: at most 2 decimals, got {price}; round it, e.g. {round(price, 2)}")
        problems.extend(self._availability_problems(where, change))
        for name in ("min_stay", "max_stay"):
            nights = getattr(change, name)
            if nights is not None and not 1 <= nights <= MAX_STAY_NIGHTS:
                problems.append(f"{where}.{name}: must be 1 to {MAX_STAY_NIGHTS} nights, got {nights}")
        if change.min_stay is not None and change.max_stay is not None and change.min_stay > change.max_stay:
            problems.append(
                f"{where}.min_stay: {change.min_stay} is above max_stay {change.max_stay}; "
                "min_stay must be at most max_stay"
            )
        return problems

    # ---- dates

    def _dates(self, where: str, change: CalendarChange) -> tuple[tuple[date, ...], list[str]]:
        start, end = change.start_date, change.end_date
        problems: list[str] = []
        if (problem := range_problem("start_date", start, "end_date", end)) is not None:
            problems.append(f"{where}.end_date: {problem}; use {start} for one day")
        if start < self.today:
            problems.append(
                f"{where}.start_date: {start} is in the past (today is {self.today} at the property); start on {self.today} or later"
            )
        if end > self.last_day:
            problems.append(
                f"{where}.end_date: {end} is too far ahead; the last date that can be changed is {self.last_day}"
            )
        span = (end - start).days + 1
        if span > self.max_span_days:
            problems.append(
                f"{where}.end_date: the range covers {span} days, more than {self.max_span_days}; split it into several changes"
            )
        weekdays = change.weekdays
        if weekdays is not None:
            if not weekdays:
                problems.append(f"{where}.weekdays: empty list; omit weekdays for every day")
            duplicates = sorted({d for d, n in Counter(weekdays).items() if n > 1}, key=WEEKDAYS.index)
            if duplicates:
                problems.append(
                    f"{where}.weekdays: {', '.join(duplicates)} given more than once; list each weekday once"
                )
        if problems:
            return (), problems
        wanted = set(weekdays) if weekdays else set(WEEKDAYS)
        dates = tuple(d for d in _days(start, end) if WEEKDAYS[d.weekday()] in wanted)
        present = {WEEKDAYS[d.weekday()] for d in dates}
        missing = [d for d in WEEKDAYS if d in wanted and d not in present]
        if weekdays and missing:
            problems.append(
                f"{where}.weekdays: {', '.join(missing)} never occur{'s' if len(missing) == 1 else ''} between {start} and {end}; "
                "widen the range or drop that weekday"
            )
        return dates, problems

    # ---- rate and channels

    def _rate(self, where: str, change: CalendarChange, values: dict[str, Value]) -> tuple[RoomRate | None, list[str]]:
        rates = self.rates_by_room.get(change.room)
        if rates is None:
            known = ", ".join(sorted(self.rates_by_room)) or "none (get_rooms returned no rooms)"
            close = [code for code in self.rates_by_room if code.casefold() == change.room.strip().casefold()]
            hint = f"did you mean {close[0]!r}? " if close else ""
            return None, [f"{where}.room: unknown room {change.room!r}; {hint}known inv_codes: {known}"]
        codes = ", ".join(_rate_name(r) for r in rates)
        if change.rate_code is not None:
            for rate in rates:
                if rate.rate_code == change.rate_code:
                    return rate, []
            elsewhere = sorted(
                r.inv_code for rates_ in self.rates_by_room.values() for r in rates_ if r.rate_code == change.rate_code
            )
            hint = f" (that rate belongs to {', '.join(elsewhere)})" if elsewhere else ""
            return None, [
                f"{where}.rate_code: room {change.room} has no rate {change.rate_code!r}{hint}; its rates: {codes}"
            ]
        if all(r.is_master for r in rates) and not any(_any_update(r) for r in rates):
            return None, [
                f"{where}.room: {change.room} is HotelRunner's Default Room, where bookings land when a channel's "
                "room is not mapped; it has no calendar to change. Map the channel room in HotelRunner instead"
            ]
        masters = [r for r in rates if is_master_rate(r.inv_code, r.rate_code)]
        if len(masters) == 1:
            return masters[0], []
        if len(rates) == 1:
            return rates[0], []
        updatable = [r for r in rates if all(_allows(r, f) for f in values)] or [r for r in rates if _any_update(r)]
        if len(updatable) == 1:
            return updatable[0], []
        return None, [
            f"{where}.rate_code: room {change.room} has several rates ({codes}) and no single master rate; set rate_code"
        ]

    def _field_problems(self, where: str, rate: RoomRate, values: dict[str, Value]) -> list[str]:
        problems: list[str] = []
        master = self._master(rate.inv_code)
        for name in values:
            if name == "availability" and master is not None and rate is not master:
                # availability belongs to the room type and goes by inv_code: through another rate its
                # channel list and the order of changes would be that rate's, not the room's
                problems.append(
                    f"{where}.availability: availability belongs to room {rate.inv_code}, not to rate {_rate_name(rate)}; "
                    f"omit rate_code (or use the master rate {master.rate_code!r}) to set it"
                )
                continue
            if _allows(rate, name):
                if (
                    name != "availability"
                    and name not in RATE_ONLY_FIELDS
                    and not is_master_rate(rate.inv_code, rate.rate_code)
                ):
                    problems.append(self._not_by_rate(where, rate, name))
                continue
            flag = FIELD_FLAG[name]
            others = [r for r in self.rates_by_room[rate.inv_code] if r is not rate and _allows(r, name)]
            message = f"{where}.{name}: rate {_rate_name(rate)} of room {rate.inv_code} does not accept {name} updates ({flag} is off)"
            if others and _looks_derived(rate):
                parent = others[0]
                message += (
                    f"; it is a derived rate{' (non-refundable)' if _is_nr(rate) else ''} that follows its parent rate "
                    f"{_rate_name(parent)}, so change rate_code {parent.rate_code!r} instead"
                )
            elif others:
                message += (
                    f"; rate {', '.join(_rate_name(r) for r in others)} can: set rate_code to {others[0].rate_code!r}"
                )
            else:
                message += f"; no rate of room {rate.inv_code} accepts {name} updates through the API, change it in the HotelRunner panel"
            problems.append(message)
        return problems

    def _master(self, inv_code: str) -> RoomRate | None:
        return next((r for r in self.rates_by_room[inv_code] if is_master_rate(r.inv_code, r.rate_code)), None)

    def _not_by_rate(self, where: str, rate: RoomRate, name: str) -> str:
        """Restrictions on a rate other than the master: no documented request sets them there."""
        master = next((r for r in self.rates_by_room[rate.inv_code] if is_master_rate(r.inv_code, r.rate_code)), None)
        fix = (
            f"set it on the master rate {master.rate_code!r} (omit rate_code)"
            if master
            else "change it in the HotelRunner panel"
        )
        return (
            f"{where}.{name}: rate {_rate_name(rate)} is not the master rate of room {rate.inv_code}, and HotelRunner's "
            f"API sets only a price on such a rate (a restriction sent through the room type lands on its master "
            f"rate); {fix}"
        )

    @staticmethod
    def _channels(where: str, change: CalendarChange, rate: RoomRate) -> tuple[tuple[str, ...] | None, list[str]]:
        channels = change.channels
        if channels is None:
            return None, []
        problems: list[str] = []
        if not channels:
            problems.append(f"{where}.channels: empty list; omit channels for every channel of the rate")
        duplicates = sorted(c for c, n in Counter(channels).items() if n > 1)
        if duplicates:
            problems.append(f"{where}.channels: {', '.join(duplicates)} given more than once; list each channel once")
        known = list(rate.channel_codes)
        unknown = [c for c in dict.fromkeys(channels) if c not in known]
        if unknown:
            listed = ", ".join(known) if known else "none listed by HotelRunner (omit channels)"
            problems.append(
                f"{where}.channels: {', '.join(unknown)} not connected to rate {_rate_name(rate)}; its channels: {listed}"
            )
        if problems:
            return None, problems
        ordered = tuple(c for c in known if c in channels)  # the rate's own order: stable keys
        return (None if set(ordered) == set(known) else ordered), []


def target_rate(inv_code: str, rate_code: str | None, field_name: str) -> str:
    """The rate a field is sent (and recorded) under: a non-master rate's price goes by that rate's code
    alone; everything else goes by the room type's inv_code, which HotelRunner applies to the room type
    and its master rate (whose code is the inv_code)."""
    if field_name in RATE_ONLY_FIELDS and rate_code is not None and not is_master_rate(inv_code, rate_code):
        return rate_code
    return inv_code


def plain_value(value: object) -> str:
    """A calendar value as every answer prints it: true/false as the agent sends them, prices to the cent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _allows(rate: RoomRate, field_name: str) -> bool:
    """False only when HotelRunner says so; an unknown flag (older API answers) leaves it to HotelRunner."""
    return getattr(rate, FIELD_FLAG[field_name]) is not False


def _any_update(rate: RoomRate) -> bool:
    return any(getattr(rate, flag) is not False for flag in set(FIELD_FLAG.values()))


def _is_nr(rate: RoomRate) -> bool:
    return is_non_refundable(rate.rate_code)


def _looks_derived(rate: RoomRate) -> bool:
    return _is_nr(rate) or not _any_update(rate)


def _rate_name(rate: RoomRate) -> str:
    return rate.rate_code or "(default rate)"


# --------------------------------------------------------------------------- the merged result


@dataclass(frozen=True)
class Cell:
    """The final value of one field on one date for one channel, and which change set it."""

    value: Value
    index: int


RateKey = tuple[str, str | None]  # (inv_code, rate_code)
# state[(inv, rate)][date][field][channel] -> Cell; later changes overwrite earlier ones.
CellState = dict[RateKey, dict[date, dict[str, dict[str, Cell]]]]


def merge_cells(resolved: Sequence[ResolvedChange]) -> CellState:
    """What the calendar should hold after all changes, per rate, date, field and channel."""
    state: CellState = {}
    for rc in resolved:
        channels = rc.channels or tuple(rc.rate.channel_codes) or (ALL_CHANNELS,)
        by_date = state.setdefault((rc.inv_code, rc.rate_code), {})
        for day in rc.dates:
            fields = by_date.setdefault(day, {})
            for name, value in rc.values.items():
                per_channel = fields.setdefault(name, {})
                for channel in channels:
                    per_channel[channel] = Cell(value, rc.index)
    return state


def cross_change_problems(resolved: Sequence[ResolvedChange]) -> list[str]:
    """Problems only visible once changes are combined: min_stay above max_stay on the same dates,
    or two rates of one room setting different availability (availability is per room type)."""
    problems: list[str] = []
    state = merge_cells(resolved)
    stay_clashes: dict[tuple[int, int], list[date]] = {}
    for by_date in state.values():
        for day, fields in by_date.items():
            for channel, low in fields.get("min_stay", {}).items():
                high = fields.get("max_stay", {}).get(channel)
                if high is not None and low.value > high.value:
                    stay_clashes.setdefault((low.index, high.index), []).append(day)
    for (low_i, high_i), days in stay_clashes.items():
        problems.append(
            f"changes[{low_i}].min_stay: above the max_stay set by changes[{high_i}] on {_some_days(sorted(set(days)))}; "
            "make min_stay at most max_stay on those dates"
        )
    availability: dict[tuple[str, date, str], Cell] = {}
    clashes: dict[tuple[int, int], list[date]] = {}
    for (inv, _rate), by_date in state.items():
        for day, fields in by_date.items():
            for channel, cell in fields.get("availability", {}).items():
                seen = availability.setdefault((inv, day, channel), cell)
                if seen.value != cell.value:
                    pair = (min(seen.index, cell.index), max(seen.index, cell.index))
                    clashes.setdefault(pair, []).append(day)
    for (a, b), days in clashes.items():
        problems.append(
            f"changes[{b}].availability: differs from changes[{a}] for the same room on {_some_days(sorted(set(days)))}; "
            "availability is shared by every rate of a room type, so give one value"
        )
    return problems


def _some_days(days: Sequence[date], shown: int = 3) -> str:
    text = ", ".join(str(d) for d in days[:shown])
    return text + (f" and {len(days) - shown} more dates" if len(days) > shown else "")


# --------------------------------------------------------------------------- binding a plan to its changes


def fingerprint(changes: Sequence[CalendarChange]) -> str:
    """sha256 of a canonical JSON of the changes: equal for the same changes however they were written
    (price 150 == 150.00, weekday and channel order), different for anything that changes the result."""
    canonical = [_canonical(c) for c in changes]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(change: CalendarChange) -> dict[str, object]:
    data: dict[str, object] = {
        "room": change.room,
        "rate_code": change.rate_code,
        "start_date": change.start_date.isoformat(),
        "end_date": change.end_date.isoformat(),
        "weekdays": sorted(set(change.weekdays), key=WEEKDAYS.index) if change.weekdays else None,
        "channels": sorted(set(change.channels)) if change.channels else None,
    }
    for name, value in change.values().items():
        data[name] = format(value.normalize(), "f") if isinstance(value, Decimal) else value
    return data
