"""Compile validated calendar changes into the fewest upstream requests, and say it in plain words.

Cost model: a PUT /rooms/daily call carries up to 90 dates for each of any number of room entries, so
its cost is max over entries of ceil(dates / 90). A PUT /rooms/~ carries one uniform range (one set of
values, optional weekdays) for one room. `compile_plan` tries every number of daily calls from the
largest needed down to zero, moving the biggest uniform ranges out of the daily entries until they
fit, and keeps the cheapest mix (ties go to fewer range requests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, computed_field

from hotelrunner_mcp.calendar.changes import (
    ALL_CHANNELS,
    WEEKDAYS,
    CalendarChange,
    CalendarValidationError,
    Cell,
    CellState,
    RateKey,
    ResolvedChange,
    RoomRate,
    Value,
    fingerprint,
    merge_cells,
    plain_value,
    property_today,
    target_rate,
    validate_changes,
)
from hotelrunner_mcp.hotelrunner.models import (
    CALENDAR_FIELDS,
    MAX_DAILY_DATES,
    DailyRoomUpdate,
    DailyValues,
    RangeUpdate,
)

__all__ = [
    "CalendarChange",
    "CalendarPlan",
    "CalendarValidationError",
    "PlannedRequest",
    "ResolvedChange",
    "compile_plan",
    "describe",
    "fingerprint",
    "property_today",
    "validate_changes",
]

Channels = tuple[str, ...] | None  # None = every channel of the rate
EntryKey = tuple[str, str, Channels, str]
"""One room entry: (inv_code, the rate it is sent under (target_rate), channels, part). `part` is "" for an
entry carrying every field, or one field's name when splitting by field is cheaper (compile_plan)."""
EntryDates = dict[date, dict[str, Value]]


class PlannedRequest(BaseModel):
    """One upstream request of a plan: a /rooms/daily call (several room entries) or one /rooms/~ range."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["daily", "range"]
    payload: list[DailyRoomUpdate] | RangeUpdate
    summary: str
    date_count: int


class CalendarPlan(BaseModel):
    """What a set of changes will cost and do. `descriptions[i]` is changes[i] in plain words."""

    requests: list[PlannedRequest]
    descriptions: list[str]
    date_count: int  # distinct (room type, rate, date) touched
    naive_request_count: int  # one PUT /rooms/~ per room entry and date, for comparison

    @computed_field  # type: ignore[prop-decorator]
    @property
    def request_count(self) -> int:
        return len(self.requests)


def compile_plan(resolved: Sequence[ResolvedChange]) -> CalendarPlan:
    """Merge the changes (later ones win per room, rate, channel, date and field) and pack them."""
    state = merge_cells(resolved)
    rates = {(rc.inv_code, rc.rate_code): rc.rate for rc in resolved}
    entries = _entries(state, rates)
    by_field = _by_field(entries)
    whole, split = _choose(entries), _choose(by_field)
    chosen, chosen_entries = (split, by_field) if split[0] < whole[0] else (whole, entries)
    _cost, ranges, daily = chosen
    requests = [_daily_request(call, chosen_entries) for call in _daily_calls(daily)]
    requests += [_range_request(s) for s in ranges]
    return CalendarPlan(
        requests=requests,
        descriptions=[describe(rc, overridden_dates(rc, state)) for rc in resolved],
        date_count=sum(len(by_date) for by_date in state.values()),
        naive_request_count=sum(len(dates) for dates in entries.values()),
    )


# --------------------------------------------------------------------------- merged cells -> room entries


def _entries(state: CellState, rates: dict[RateKey, RoomRate]) -> dict[EntryKey, EntryDates]:
    """Group final cells into room entries: channels that end with the same value travel together,
    and a value shared by every channel of the rate is sent without a channel list."""
    entries: dict[EntryKey, EntryDates] = {}
    for (inv, rate_code), by_date in state.items():
        all_channels = tuple(rates[(inv, rate_code)].channel_codes) or (ALL_CHANNELS,)
        for day in sorted(by_date):
            for name in CALENDAR_FIELDS:
                per_channel = by_date[day].get(name)
                if not per_channel:
                    continue
                sent_as = target_rate(inv, rate_code, name)
                for channels, value in _channel_groups(per_channel, all_channels):
                    entries.setdefault((inv, sent_as, channels, ""), {}).setdefault(day, {})[name] = value
    room_order = {
        inv: n for n, (inv, _rate) in reversed(list(enumerate(state)))
    }  # rooms in the order the changes name them
    return dict(
        sorted(
            entries.items(),
            key=lambda kv: (room_order[kv[0][0]], kv[0][1] != kv[0][0], kv[0][1], kv[0][2] is not None, kv[0][2] or ()),
        )
    )


def _by_field(entries: dict[EntryKey, EntryDates]) -> dict[EntryKey, EntryDates]:
    """The same entries, one per field: a year of one price and a few min_stay dates are then one range
    and one small daily call, instead of the min_stay dates cutting the price range into pieces."""
    split: dict[EntryKey, EntryDates] = {}
    for (inv, rate, channels, _part), dates in entries.items():
        for day, values in dates.items():
            for name, value in values.items():
                split.setdefault((inv, rate, channels, name), {})[day] = {name: value}
    return split


def _channel_groups(per_channel: dict[str, Cell], all_channels: tuple[str, ...]) -> list[tuple[Channels, Value]]:
    values: dict[Value, list[str]] = {}
    for channel in all_channels:
        if channel in per_channel:
            values.setdefault(per_channel[channel].value, []).append(channel)
    if len(values) == 1 and len(next(iter(values.values()))) == len(all_channels):
        return [(None, next(iter(values)))]
    return [(tuple(channels), value) for value, channels in values.items()]


# --------------------------------------------------------------------------- choosing daily vs range


@dataclass(frozen=True)
class _Range:
    """Dates of one room entry that share one set of values and form one /rooms/~ range."""

    key: EntryKey
    dates: tuple[date, ...]
    values: dict[str, Value]


def _uniform_ranges(key: EntryKey, dates: EntryDates) -> list[_Range]:
    """Split an entry's dates into ranges: same values, and every date of [first, last] on the
    weekdays used is included. Biggest first."""
    classes: dict[frozenset[tuple[str, Value]], list[date]] = {}
    for day in sorted(dates):
        classes.setdefault(frozenset(dates[day].items()), []).append(day)
    found: list[_Range] = []
    for days in classes.values():
        weekdays = {d.weekday() for d in days}
        run = [days[0]]
        for day in days[1:]:
            if day == _next_on(run[-1], weekdays):
                run.append(day)
            else:
                found.append(_Range(key, tuple(run), dates[run[0]]))
                run = [day]
        found.append(_Range(key, tuple(run), dates[run[0]]))
    return sorted(found, key=lambda r: -len(r.dates))


def _next_on(day: date, weekdays: set[int]) -> date:
    """The first date after `day` that falls on one of `weekdays` (date.weekday() numbers)."""
    nxt = day + timedelta(days=1)
    while nxt.weekday() not in weekdays:
        nxt += timedelta(days=1)
    return nxt


Choice = tuple[int, list[_Range], dict[EntryKey, list[date]]]
"""(requests it costs, range requests, dates left for /rooms/daily calls per entry)."""


def _choose(entries: dict[EntryKey, EntryDates]) -> Choice:
    """The cheapest split into range requests and dates left for /rooms/daily calls. Entries naming one
    room and rate never share a daily call (HotelRunner's docs show each room once per call), so their
    daily chunks add up."""
    if not entries:
        return 0, [], {}
    candidates = {key: _uniform_ranges(key, dates) for key, dates in entries.items()}
    most_calls = max(math.ceil(len(dates) / MAX_DAILY_DATES) for dates in entries.values())
    best: tuple[int, list[_Range]] | None = None
    for calls in range(most_calls, -1, -1):
        ranges: list[_Range] = []
        chunks: dict[tuple[str, str], int] = {}
        for key, dates in entries.items():
            left = len(dates)
            for candidate in candidates[key]:
                if left <= calls * MAX_DAILY_DATES:
                    break
                ranges.append(candidate)
                left -= len(candidate.dates)
            chunks[key[:2]] = chunks.get(key[:2], 0) + math.ceil(left / MAX_DAILY_DATES)
        cost = max(chunks.values(), default=0) + len(ranges)
        if best is None or cost < best[0]:
            best = (cost, ranges)
    assert best is not None
    cost, ranges = best
    in_ranges = {(r.key, d) for r in ranges for d in r.dates}
    daily = {key: [d for d in sorted(dates) if (key, d) not in in_ranges] for key, dates in entries.items()}
    return cost, ranges, {key: days for key, days in daily.items() if days}


# --------------------------------------------------------------------------- building the requests


def _daily_calls(daily: dict[EntryKey, list[date]]) -> list[list[tuple[EntryKey, list[date]]]]:
    """Chunk each entry's dates by 90 and put each chunk in the first call that does not name the same room
    and rate yet: the docs show each room once per call, and a server merging by code could lose values."""
    calls: list[list[tuple[EntryKey, list[date]]]] = []
    carried: list[set[tuple[str, str]]] = []
    for key, days in daily.items():
        n = 0
        for i in range(0, len(days), MAX_DAILY_DATES):
            while n < len(calls) and key[:2] in carried[n]:
                n += 1
            if n == len(calls):
                calls.append([])
                carried.append(set())
            calls[n].append((key, days[i : i + MAX_DAILY_DATES]))
            carried[n].add(key[:2])
            n += 1
    return calls


def _daily_request(call: list[tuple[EntryKey, list[date]]], entries: dict[EntryKey, EntryDates]) -> PlannedRequest:
    payload = [
        DailyRoomUpdate(
            inv_code=inv,
            rate_code=rate_code,
            channel_codes=list(channels) if channels else None,
            dates=[DailyValues(date=day, **entries[(inv, rate_code, channels, part)][day]) for day in days],
        )
        for (inv, rate_code, channels, part), days in call
    ]
    parts = [f"{_entry_name(key)} {len(days)} dates {days[0]}..{days[-1]}" for key, days in call]
    return PlannedRequest(
        kind="daily",
        payload=payload,
        summary="PUT /rooms/daily: " + "; ".join(parts),
        date_count=sum(len(days) for _, days in call),
    )


def _range_request(r: _Range) -> PlannedRequest:
    inv, rate_code, channels, _part = r.key
    weekdays = sorted({d.weekday() for d in r.dates})
    consecutive = (r.dates[-1] - r.dates[0]).days + 1 == len(r.dates)
    payload = RangeUpdate(
        inv_code=inv,
        rate_code=rate_code,
        start_date=r.dates[0],
        end_date=r.dates[-1],
        days=None if consecutive else sorted((wd + 1) % 7 for wd in weekdays),
        channel_codes=list(channels) if channels else None,
        **r.values,
    )
    days_text = "" if consecutive else ", " + "+".join(WEEKDAYS[wd].capitalize() for wd in weekdays)
    summary = (
        f"PUT /rooms/~: {_entry_name(r.key)} {r.dates[0]} to {r.dates[-1]}{days_text} "
        f"({len(r.dates)} dates): {_values_text(r.values)}"
    )
    return PlannedRequest(kind="range", payload=payload, summary=summary, date_count=len(r.dates))


def _entry_name(key: EntryKey) -> str:
    inv, rate_code, channels, _part = key
    name = f"{inv}/{rate_code}" if rate_code and rate_code != inv else inv
    return f"{name} [{', '.join(channels)}]" if channels else name


def _values_text(values: dict[str, Value]) -> str:
    return ", ".join(f"{k}={plain_value(v)}" for k, v in values.items())


# --------------------------------------------------------------------------- plain words


def describe(rc: ResolvedChange, overridden: int = 0) -> str:
    """One change in plain words: room, rate, values with currency, dates, weekdays, channels."""
    rate = rc.rate
    room = f"{rate.name} ({rate.inv_code})" if rate.name else rate.inv_code
    values = ", ".join(_describe_value(name, value, rate.sales_currency) for name, value in rc.values.items())
    change = rc.change
    if change.start_date == change.end_date:
        when = f"on {change.start_date} ({WEEKDAYS[change.start_date.weekday()].capitalize()})"
    else:
        span = (change.end_date - change.start_date).days + 1
        when = f"from {change.start_date} to {change.end_date} ({span} days)"
    if change.weekdays:
        days = ", ".join(d.capitalize() for d in WEEKDAYS if d in change.weekdays)
        when += f", only {days} ({len(rc.dates)} dates)"
    if rc.channels:
        where = f"on {', '.join(rc.channels)} only"
    elif rate.channel_codes:
        where = f"on all channels ({', '.join(rate.channel_codes)})"
    else:
        where = "on all channels"
    text = f"changes[{rc.index}]: {room}, rate {rate.rate_code or '(default)'}: {values}; {when}; {where}."
    if overridden == len(rc.dates):
        text += " Later changes override it on every date: it has no effect."
    elif overridden:
        text += f" Later changes override it on {overridden} of its {len(rc.dates)} dates."
    return text


def _describe_value(name: str, value: Value, currency: str | None) -> str:
    if name == "price":
        return f"price {value:.2f} {currency or '(rate currency)'} per night"
    if name == "availability":
        return f"availability {value} room{'s' if value != 1 else ''}" + (" (sells none)" if value == 0 else "")
    if name == "stop_sale":
        return "stop sale (closed for sale)" if value else "open for sale (stop sale lifted)"
    if name in ("cta", "ctd"):
        what = "arrival" if name == "cta" else "departure"
        return f"closed to {what}" if value else f"open to {what}"
    label = "min stay" if name == "min_stay" else "max stay"
    return f"{label} {value} night{'s' if value != 1 else ''}"


def overridden_dates(rc: ResolvedChange, state: CellState) -> int:
    """How many of this change's dates a later change overwrites (any field, any channel)."""
    by_date = state[(rc.inv_code, rc.rate_code)]
    channels = rc.channels or tuple(rc.rate.channel_codes) or (ALL_CHANNELS,)
    return sum(
        1 for day in rc.dates if any(by_date[day][name][ch].index != rc.index for name in rc.values for ch in channels)
    )
