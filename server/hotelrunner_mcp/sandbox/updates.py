"""Validating calendar updates (PUT /rooms/~ and PUT /rooms/daily) into `RoomChange`s.

A change is refused with 422 when it names an unknown room type or rate, a channel the rate is
not connected to, a value out of range, a field the rate may not update (its *_update flag is
false) or more than MAX_DAILY_DATES dates for one room in /rooms/daily."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from hotelrunner_mcp.sandbox.inventory import RESTRICTIONS
from hotelrunner_mcp.sandbox.catalog import RATES_BY_CODE, ROOMS_BY_CODE, Rate, master_rate
from hotelrunner_mcp.sandbox.errors import SandboxError, invalid, missing
from hotelrunner_mcp.sandbox.params import Params, parse_date, parse_flag, parse_int, parse_price

MAX_DAILY_DATES = 90
MAX_RANGE_DAYS = 731
VALUE_FIELDS = ("availability", "price", *RESTRICTIONS)
FLAG_OF = {"availability": "availability_update", "price": "price_update", **{r: "restrictions_update" for r in RESTRICTIONS}}


@dataclass
class RoomChange:
    """Values to set for one rate (or its room type) on some dates and channels."""

    rate: Rate
    channels: list[str]
    days: dict[date, dict[str, object]] = field(default_factory=dict)

    @property
    def inv_code(self) -> str:
        return self.rate.room.inv_code


def parse_value(name: str, raw: object) -> object:
    if name == "price":
        return parse_price(name, raw)
    if name in ("stop_sale", "cta", "ctd"):
        return parse_flag(name, raw)
    if name == "availability":
        return parse_int(name, raw, minimum=0, maximum=999)
    return parse_int(name, raw, minimum=1, maximum=365)


def check_values(rate: Rate, values: dict[str, object], where: str = "") -> None:
    for name in values:
        if not rate.updatable:
            raise invalid(
                f"Rate {rate.rate_code} may not update '{name}' ({FLAG_OF[name]} is false: it is derived "
                f"from {master_rate(rate.room.inv_code).rate_code}); update the master rate instead{where}.",
                code="field_not_updatable",
            )
    low, high = values.get("min_stay"), values.get("max_stay")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise invalid(f"min_stay ({low}) is greater than max_stay ({high}){where}.")


def resolve_rate(inv_code: object, rate_code: object) -> Rate:
    if inv_code in (None, ""):
        raise missing("inv_code")
    if str(inv_code) not in ROOMS_BY_CODE:
        known = ", ".join(ROOMS_BY_CODE)
        raise invalid(f"Unknown inv_code {str(inv_code)[:40]!r}; known room types: {known}.", code="unknown_inv_code")
    if rate_code in (None, ""):
        return master_rate(str(inv_code))
    rate = RATES_BY_CODE.get(str(rate_code))
    if rate is None or rate.room.inv_code != inv_code:
        raise invalid(f"Unknown rate_code {str(rate_code)[:40]!r} for room type {inv_code}.", code="unknown_rate_code")
    return rate


def resolve_channels(rate: Rate, requested: list[str] | None) -> list[str]:
    if not requested:
        return rate.channel_codes
    unknown = [c for c in requested if c not in rate.channel_codes]
    if unknown:
        raise invalid(
            f"Channel(s) {', '.join(unknown)[:80]} not connected to rate {rate.rate_code}; "
            f"connected: {', '.join(rate.channel_codes)}.",
            code="unknown_channel",
        )
    return list(dict.fromkeys(requested))


def parse_range_update(params: Params) -> RoomChange:
    """PUT /rooms/~ (`room_code` is the older name of `inv_code`)."""
    rate = resolve_rate(params.get("inv_code") or params.get("room_code"), params.get("rate_code"))
    start = parse_date("start_date", params.require("start_date"))
    end = parse_date("end_date", params.require("end_date"))
    if end < start:
        raise invalid(f"end_date {end} is before start_date {start}.", code="invalid_date_range")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise invalid(f"The range {start}..{end} is longer than {MAX_RANGE_DAYS} days; split it.")
    weekdays_raw = params.list("days")
    weekdays = None if weekdays_raw is None else {parse_int("days[]", d, minimum=0, maximum=6) for d in weekdays_raw}
    values = {name: parse_value(name, params.get(name)) for name in VALUE_FIELDS if params.has(name)}
    if not values:
        raise invalid(f"Nothing to update: send at least one of {', '.join(VALUE_FIELDS)}.", code="nothing_to_update")
    check_values(rate, values)
    change = RoomChange(rate, resolve_channels(rate, params.list("channel_codes")))
    day = start
    while day <= end:
        if weekdays is None or (day.isoweekday() % 7) in weekdays:  # Sunday = 0 ... Saturday = 6
            change.days[day] = dict(values)
        day += timedelta(days=1)
    return change


def parse_daily_room(entry: object, index: int) -> RoomChange:
    where = f" (rooms[{index}])"
    if not isinstance(entry, dict):
        raise invalid(f"rooms[{index}] must be an object with inv_code and dates.")
    try:
        rate = resolve_rate(entry.get("inv_code"), entry.get("rate_code"))
        channels_raw = entry.get("channel_codes")
        if channels_raw is not None and not (isinstance(channels_raw, list) and all(isinstance(c, str) for c in channels_raw)):
            raise invalid("channel_codes must be a list of channel codes.")
        dates = entry.get("dates")
        if not isinstance(dates, list) or not dates:
            raise invalid("dates must be a non-empty list of {date, ...} objects.")
        change = RoomChange(rate, resolve_channels(rate, channels_raw))
        for item in dates:
            if not isinstance(item, dict) or "date" not in item:
                raise invalid("each entry of dates needs a 'date' (YYYY-MM-DD).")
            day = parse_date("date", item["date"])
            values = {name: parse_value(name, item[name]) for name in VALUE_FIELDS if item.get(name) is not None}
            if not values:
                raise invalid(f"Nothing to update on {day}: send at least one of {', '.join(VALUE_FIELDS)}.")
            check_values(rate, values)
            change.days.setdefault(day, {}).update(values)
    except SandboxError as error:
        error.message = error.message.rstrip(".") + where + "."
        raise
    return change


def parse_daily_body(body: object) -> tuple[list[RoomChange], list[dict[str, object]]]:
    """PUT /rooms/daily: valid rooms and, for rooms refused, `errors` entries. More than
    MAX_DAILY_DATES dates for any room refuses the whole call (422), as does a malformed body."""
    if not isinstance(body, dict) or not isinstance(body.get("rooms"), list):
        raise SandboxError(400, "missing_parameter", 'Body must be JSON {"rooms": [{"inv_code": ..., "dates": [...]}]}.')
    rooms = body["rooms"]
    if not rooms:
        raise invalid("rooms is empty: send at least one room.")
    for index, entry in enumerate(rooms):
        dates = entry.get("dates") if isinstance(entry, dict) else None
        if isinstance(dates, list) and len(dates) > MAX_DAILY_DATES:
            raise invalid(
                f"rooms[{index}] has {len(dates)} dates; at most {MAX_DAILY_DATES} dates per room per call. "
                "Split it into several calls.",
                code="too_many_dates",
            )
    changes: list[RoomChange] = []
    errors: list[dict[str, object]] = []
    for index, entry in enumerate(rooms):
        try:
            changes.append(parse_daily_room(entry, index))
        except SandboxError as error:
            if error.status == 400:
                error.status, error.code = 422, "missing_parameter"
            inv = entry.get("inv_code") if isinstance(entry, dict) else None
            errors.append({"index": index, "inv_code": inv, "code": error.code, "message": error.message})
    if not changes:
        first = errors[0]
        raise SandboxError(422, str(first["code"]), "; ".join(str(e["message"]) for e in errors))
    return changes, errors
