"""Validating calendar updates (PUT /rooms/~ and PUT /rooms/daily) into `RoomChange`s.

Targeting (rooms_put_range.devdocs.request.txt, rooms_daily.devdocs.params.txt):
- `inv_code` sent: the room type and its master rate (rate_code, and room_code on /rooms/~, are
  ignored for targeting); every field applies, as the master rate's *_update flags allow.
- otherwise `rate_code` (or, on /rooms/~, `room_code`, which may be an inv_code: the master rate's
  code) names ONE rate, and only `price` applies ("Rate code is used to update price of rates if
  it's price_update is true"); the other fields are ignored silently (the request log lists them
  in `ignored_fields`), and a price on a rate whose price_update is false is refused.
- /rooms/~ requires `room_code` whatever else is sent (every literal request in the docs sends it).

/rooms/daily: entry-level problems (malformed body, an entry without a code, an unknown code or
channel, more than MAX_DAILY_DATES dates) refuse the whole call with a 4xx JSON error. Per-date
value problems refuse those dates only and come back in the documented shape
`errors: [{"<inv_code or rate_code as sent>": {"<YYYY-MM-DD>": "<message>"}}]`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from hotelrunner_mcp.sandbox.catalog import RATES_BY_CODE, ROOMS_BY_CODE, Rate, master_rate
from hotelrunner_mcp.sandbox.errors import SandboxError, invalid
from hotelrunner_mcp.sandbox.inventory import RESTRICTIONS
from hotelrunner_mcp.sandbox.params import Params, parse_date, parse_flag, parse_int, parse_price

MAX_DAILY_DATES = 90
MAX_RANGE_DAYS = 731
VALUE_FIELDS = ("availability", "price", *RESTRICTIONS)
FLAG_OF = {
    "availability": "availability_update",
    "price": "price_update",
    **{r: "restrictions_update" for r in RESTRICTIONS},
}


@dataclass(frozen=True)
class Target:
    """What one update names: a rate, and whether it came as a room type (inv_code)."""

    rate: Rate
    by_inv_code: bool
    code: str  # the code as sent (the key of /rooms/daily errors)

    def applies(self, name: str) -> bool:
        """Whether a field sent with this target is used (not silently ignored)."""
        return self.by_inv_code or name == "price"


@dataclass
class RoomChange:
    """Values to set for one rate (or its room type) on some dates and channels."""

    rate: Rate
    channels: list[str]
    days: dict[date, dict[str, object]] = field(default_factory=dict)

    @property
    def inv_code(self) -> str:
        return self.rate.room.inv_code


@dataclass
class DailyResult:
    """A parsed /rooms/daily call: what to apply, the documented `errors`, what was ignored."""

    changes: list[RoomChange]
    errors: list[dict[str, dict[str, str]]]
    ignored_fields: list[str]
    accepted_dates: int
    refused_dates: int


def parse_value(name: str, raw: object) -> object:
    if name == "price":
        return parse_price(name, raw)
    if name in ("stop_sale", "cta", "ctd"):
        return parse_flag(name, raw)
    if name == "availability":
        return parse_int(name, raw, minimum=0, maximum=999)
    return parse_int(name, raw, minimum=1, maximum=365)


def not_updatable(rate: Rate, name: str) -> SandboxError:
    if rate.kind == "default":
        why = f"{rate.rate_code} is HotelRunner's Default Room for unmatched reservations; it accepts no update"
    elif rate.derived:
        master = master_rate(rate.room.inv_code).rate_code
        why = f"it is derived from {master}; update the room type (inv_code={master}) instead"
    else:
        why = f"only its price may be updated; availability and restrictions belong to inv_code={rate.room.inv_code}"
    return invalid(
        f"Rate {rate.rate_code} may not update '{name}' ({FLAG_OF[name]} is false: {why}).", code="field_not_updatable"
    )


def check_values(rate: Rate, values: dict[str, object]) -> None:
    for name in values:
        if not rate.may_update(name):
            raise not_updatable(rate, name)
    low, high = values.get("min_stay"), values.get("max_stay")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise invalid(f"min_stay ({low}) is greater than max_stay ({high}).")


def room_type_target(inv_code: str) -> Target:
    if inv_code not in ROOMS_BY_CODE:
        known = ", ".join(ROOMS_BY_CODE)
        raise invalid(f"Unknown inv_code {inv_code[:40]!r}; known room types: {known}.", code="unknown_inv_code")
    return Target(master_rate(inv_code), True, inv_code)


def rate_target(code: str, parameter: str) -> Target:
    rate = RATES_BY_CODE.get(code)
    if rate is None:
        raise invalid(f"Unknown {parameter} {code[:40]!r}: no rate has that code.", code="unknown_rate_code")
    return Target(rate, False, code)


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


def parse_range_update(params: Params) -> tuple[RoomChange, list[str]]:
    """PUT /rooms/~: the change and the names of the fields ignored."""
    room_code = params.require("room_code")
    if params.has("inv_code"):
        target = room_type_target(str(params.get("inv_code")))
    elif params.has("rate_code"):
        target = rate_target(str(params.get("rate_code")), "rate_code")
    else:
        target = rate_target(room_code, "room_code")
    start = parse_date("start_date", params.require("start_date"))
    end = parse_date("end_date", params.require("end_date"))
    if end < start:
        raise invalid(f"end_date {end} is before start_date {start}.", code="invalid_date_range")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise invalid(f"The range {start}..{end} is longer than {MAX_RANGE_DAYS} days; split it.")
    weekdays_raw = params.list("days")
    weekdays = None if weekdays_raw is None else {parse_int("days[]", d, minimum=0, maximum=6) for d in weekdays_raw}
    sent = [name for name in VALUE_FIELDS if params.has(name)]
    if not sent:
        raise invalid(f"Nothing to update: send at least one of {', '.join(VALUE_FIELDS)}.", code="nothing_to_update")
    ignored = [name for name in sent if not target.applies(name)]
    if target.by_inv_code and params.has("rate_code"):
        ignored.insert(0, "rate_code")
    values = {name: parse_value(name, params.get(name)) for name in sent if target.applies(name)}
    check_values(target.rate, values)
    change = RoomChange(target.rate, resolve_channels(target.rate, params.list("channel_codes")))
    if values:
        day = start
        while day <= end:
            if weekdays is None or (day.isoweekday() % 7) in weekdays:  # Sunday = 0 ... Saturday = 6
                change.days[day] = dict(values)
            day += timedelta(days=1)
    return change, ignored


# /rooms/daily ------------------------------------------------------------------------------------
def _entry_target(entry: object, index: int) -> Target:
    where = f"rooms[{index}]"
    if not isinstance(entry, dict):
        raise invalid(f"{where} must be an object with inv_code (or rate_code) and dates.")
    inv_code, rate_code = entry.get("inv_code"), entry.get("rate_code")
    if inv_code not in (None, ""):
        return room_type_target(str(inv_code))
    if rate_code not in (None, ""):
        return rate_target(str(rate_code), "rate_code")
    raise SandboxError(
        400,
        "missing_parameter",
        f"{where} needs inv_code (the room type and its master rate) or rate_code (one rate's price).",
    )


def _check_entry(entry: dict[str, object], index: int, target: Target) -> list[str]:
    where = f"rooms[{index}]"
    channels_raw = entry.get("channel_codes")
    if channels_raw is not None and not (
        isinstance(channels_raw, list) and all(isinstance(c, str) for c in channels_raw)
    ):
        raise invalid(f"{where}.channel_codes must be a list of channel codes.")
    dates = entry.get("dates")
    if not isinstance(dates, list) or not dates:
        raise invalid(f"{where}.dates must be a non-empty list of {{date, ...}} objects.")
    if len(dates) > MAX_DAILY_DATES:
        raise invalid(
            f"{where} has {len(dates)} dates; at most {MAX_DAILY_DATES} dates per room per call. Split it into several calls.",
            code="too_many_dates",
        )
    for item in dates:
        if not isinstance(item, dict) or item.get("date") in (None, ""):
            raise invalid(f"each entry of {where}.dates needs a 'date' (YYYY-MM-DD).")
    return resolve_channels(target.rate, channels_raw)


def _date_values(target: Target, item: dict[str, object]) -> tuple[date, dict[str, object], list[str]]:
    """One date of an entry: its day, the values to apply and the names ignored. A refusal is a
    SandboxError whose message is the documented per-date text ("Invalid price", ...)."""
    try:
        day = parse_date("date", item["date"])
    except SandboxError:
        raise invalid("Invalid date (YYYY-MM-DD)") from None
    sent = [name for name in VALUE_FIELDS if item.get(name) is not None]
    if not sent:
        raise invalid(f"Nothing to update: send at least one of {', '.join(VALUE_FIELDS)}")
    values: dict[str, object] = {}
    for name in sent:
        if not target.applies(name):
            continue
        try:
            values[name] = parse_value(name, item[name])
        except SandboxError as error:
            raise invalid(f"Invalid {name}: {error.message.rstrip('.')}") from None
    try:
        check_values(target.rate, values)
    except SandboxError as error:
        prefix = "Not updatable" if error.code == "field_not_updatable" else "Invalid min_stay"
        raise invalid(f"{prefix}: {error.message.rstrip('.')}", code=error.code) from None
    return day, values, [name for name in sent if not target.applies(name)]


def parse_daily_body(body: object) -> DailyResult:
    if not isinstance(body, dict) or not isinstance(body.get("rooms"), list):
        raise SandboxError(
            400, "missing_parameter", 'Body must be JSON {"rooms": [{"inv_code": ..., "dates": [...]}]}.'
        )
    rooms = body["rooms"]
    if not rooms:
        raise invalid("rooms is empty: send at least one room.")
    targets = [_entry_target(entry, index) for index, entry in enumerate(rooms)]
    channels = [
        _check_entry(entry, index, target) for index, (entry, target) in enumerate(zip(rooms, targets, strict=True))
    ]
    result = DailyResult([], [], [], 0, 0)
    for index, (entry, target, entry_channels) in enumerate(zip(rooms, targets, channels, strict=True)):
        if target.by_inv_code and entry.get("rate_code") not in (None, ""):
            result.ignored_fields.append(f"rooms[{index}].rate_code")
        change = RoomChange(target.rate, entry_channels)
        refused: dict[str, str] = {}
        accepted: dict[date, dict[str, object]] = {}
        ignored: list[str] = []
        for item in entry["dates"]:
            key = str(item["date"])
            try:
                day, values, skipped = _date_values(target, item)
            except SandboxError as error:
                refused.setdefault(key, error.message)
                continue
            ignored += [name for name in skipped if name not in ignored]
            if day.isoformat() not in refused:
                accepted.setdefault(day, {}).update(values)
        for day in list(accepted):
            if day.isoformat() in refused:  # a date refused once is refused whole
                del accepted[day]
        change.days = {day: values for day, values in accepted.items() if values}
        result.ignored_fields += [f"rooms[{index}].{name}" for name in ignored]
        result.accepted_dates += len(accepted)
        result.refused_dates += len(refused)
        if refused:
            result.errors.append({target.code: refused})
        result.changes.append(change)
    return result
