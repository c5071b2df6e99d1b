"""How HotelRunner wants its parameters: 0/1 calendar flags, true/false listing booleans, YYYY-MM-DD, plain
decimals, `name[]=` arrays, and which code names the calendar an update writes to (`RateTarget`).

The checks here refuse, before any quota is spent, an update that would change nothing or that no
documented request can express (a restriction on a rate other than the master).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from hotelrunner_mcp.errors import InvalidRequest
from hotelrunner_mcp.hotelrunner.models import RATE_ONLY_FIELDS, CalendarValues, DailyRoomUpdate, RateTarget

Params = Mapping[str, Any]


def encode_value(value: Any) -> str:
    """One parameter value as HotelRunner expects it: 0/1, YYYY-MM-DD, plain decimal text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def encode_params(params: Params) -> list[tuple[str, str]]:
    """Query pairs: None is left out (not sent = not changed), sequences become `name[]=` repeats."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            pairs += [(f"{name}[]", encode_value(item)) for item in value]
        else:
            pairs.append((name, encode_value(value)))
    return pairs


def audit_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    grouped: dict[str, Any] = {}
    for name, value in pairs:
        if name.endswith("[]"):
            grouped.setdefault(name, []).append(value)
        else:
            grouped[name] = value
    return grouped


def literal_bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def target_params(target: RateTarget) -> dict[str, str]:
    """How PUT /rooms/~ names what it updates, so the literal requests' reading (room_code) and the
    parameter table's (inv_code wins over rate_code) agree on it."""
    if target.by_rate:
        return {"room_code": target.rate_code or "", "rate_code": target.rate_code or ""}
    return {"room_code": target.inv_code, "inv_code": target.inv_code}


def target_name(target: RateTarget) -> str:
    return f"rate {target.rate_code}" if target.by_rate else target.inv_code


def check_target(target: RateTarget, fields: Mapping[str, object]) -> None:
    """An update sent by rate_code may set only what the docs let rate_code set (its price)."""
    extra = sorted(set(fields) - RATE_ONLY_FIELDS)
    if target.by_rate and extra:
        raise InvalidRequest(
            f"rate {target.rate_code}: HotelRunner's API sets only the price of a rate that is not its room "
            f"type's master rate ({target.inv_code}); {', '.join(extra)} would be ignored or land on the master "
            "rate. Nothing was sent."
        )


def daily_room(room: DailyRoomUpdate) -> dict[str, Any]:
    """One /rooms/daily entry, named by inv_code alone or by rate_code alone (never both: see RateTarget)."""
    entry: dict[str, Any] = {"rate_code": room.rate_code} if room.by_rate else {"inv_code": room.inv_code}
    if room.channel_codes is not None:
        entry["channel_codes"] = list(room.channel_codes)
    entry["dates"] = [
        {"date": day.date.isoformat(), **{k: _json_value(v) for k, v in day.set_fields().items()}} for day in room.dates
    ]
    return entry


def _json_value(value: int | Decimal | bool) -> int | str:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def check_values(values: CalendarValues, where: str) -> None:
    """Refuse, before any quota is spent, an update that would change nothing or carries impossible values."""
    fields = values.set_fields()
    if not fields:
        raise InvalidRequest(
            f"{where}: nothing to change; set at least one of availability, price, stop_sale, "
            "cta, ctd, min_stay, max_stay."
        )
    for name in ("availability", "min_stay", "max_stay"):
        if name in fields and fields[name] < 0:
            raise InvalidRequest(f"{where}: {name} cannot be negative ({fields[name]}).")
    price = fields.get("price")
    if price is not None and (not Decimal(price).is_finite() or price <= 0):
        raise InvalidRequest(f"{where}: price must be a positive amount, got {price}.")


def short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
