"""Questions asked of the reservation mirror: stay-date filters, guest search, sorting, and occupancy.

Pure functions and value types; `store.ReservationStore` runs them against SQLite.
Dates follow the hotel convention: a stay occupies the nights checkin ≤ night < checkout.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from hotelrunner_mcp.errors import InvalidRequest, check_range
from hotelrunner_mcp.hotelrunner.models import Reservation, ReservationRoom, channel_code
from hotelrunner_mcp.times import parse_stored, stored

SortKey = Literal["checkin", "checkout", "created", "updated"]
SORT_COLUMNS: dict[str, str] = {
    "checkin": "checkin_date",
    "checkout": "checkout_date",
    "created": "completed_at",
    "updated": "updated_at",
}
CANCELED_STATES = frozenset({"canceled", "cancelled"})
MAX_OCCUPANCY_NIGHTS = 366
_CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    """Money rounded the way invoices round it (half up), to the cent."""
    return amount.quantize(_CENT, ROUND_HALF_UP)


# Letters that carry no separable accent in Unicode, spelled as guests type them on a plain keyboard.
_PLAIN_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"})


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form used for guest search: "Müller" and "MULLER" both give "muller"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_PLAIN_LETTERS)


utc_text = stored  # storage times, defined in times.py
parse_utc_text = parse_stored


@dataclass(frozen=True)
class DateRange:
    """Inclusive range of dates; either end may be open (None)."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        check_range("start", self.start, "end", self.end)

    @classmethod
    def on(cls, day: date) -> DateRange:
        return cls(day, day)


@dataclass(frozen=True)
class PageKey:
    """Where a page of a sorted list ended: the last reservation's sort value (as stored) and hr_number.
    The next page is what sorts after it, so a booking arriving meanwhile repeats or hides nothing."""

    value: str | None
    hr_number: str


def page_cursor(key: PageKey, query: ReservationQuery) -> str:
    """`key` as an opaque token, bound to the order it was taken in."""
    data = {"sort": query.sort, "descending": query.descending, "value": key.value, "hr_number": key.hr_number}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def parse_cursor(cursor: str, query: ReservationQuery) -> PageKey:
    """The PageKey of a token page_cursor made for the same order; InvalidRequest otherwise."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = PageKey(data["value"], data["hr_number"])
        order = (data["sort"], data["descending"])
        if not isinstance(key.hr_number, str) or not isinstance(key.value, str | None):
            raise ValueError(cursor)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidRequest(
            "cursor is not one this server gave: pass the next_cursor of the previous answer unchanged, with the "
            "same filters and sort (or leave cursor out to start from the first page). Nothing was sent."
        ) from exc
    if order != (query.sort, query.descending):
        raise InvalidRequest(
            f"this cursor continues a list sorted by {order[0]}{' descending' if order[1] else ''}: ask with that "
            "sort again, or leave cursor out to start a new list. Nothing was sent."
        )
    return key


@dataclass(frozen=True)
class ReservationQuery:
    """What to find in the mirror. Every filter given must match (AND); None means no filter.

    - arriving / departing: checkin_date / checkout_date inside the range
    - in_house_on: guests sleeping there that night (checkin ≤ day < checkout)
    - overlapping: stays with at least one night inside the range
    - created: completed_at (booking time, UTC) on a date inside the range
    - updated_since: updated_at at or after this moment
    - guest: case- and accent-insensitive substring of the guest name or e-mail
    - channel, state, inv_code: codes, case-insensitive ("Booking.com" also finds channel "bookingcom")
    - awaiting_response: awaiting the property's confirm or cancel (`Reservation.awaits_response`), or not
    """

    arriving: DateRange | None = None
    departing: DateRange | None = None
    in_house_on: date | None = None
    overlapping: DateRange | None = None
    created: DateRange | None = None
    updated_since: datetime | None = None
    guest: str | None = None
    channel: str | None = None
    state: str | None = None
    inv_code: str | None = None
    awaiting_response: bool | None = None
    sort: SortKey = "checkin"
    descending: bool = False
    limit: int | None = None
    after: PageKey | None = None  # only what sorts after this reservation (the end of the previous page)

    def __post_init__(self) -> None:
        if self.sort not in SORT_COLUMNS:
            raise InvalidRequest(f"sort must be one of {', '.join(SORT_COLUMNS)}, not {self.sort!r}")
        if self.limit is not None and self.limit < 1:
            raise InvalidRequest(f"limit must be at least 1, not {self.limit}")
        if self.guest is not None and not fold(self.guest).strip():
            raise InvalidRequest("guest search text is empty; give part of a name or e-mail, or leave it out")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _range_clauses(column: str, rng: DateRange, params: list[Any]) -> list[str]:
    clauses = []
    if rng.start:
        clauses.append(f"{column} >= ?")
        params.append(rng.start.isoformat())
    if rng.end:
        clauses.append(f"{column} <= ?")
        params.append(rng.end.isoformat())
    return clauses


# The trigram index (mirror.py's reservation_guest) finds a substring of at least 3 characters; a
# shorter one is looked for by scanning guest_search itself. Both give the same reservations.
TRIGRAM = 3


def guest_phrase(text: str) -> str | None:
    """The FTS5 query finding `text` as a substring through the trigram index, or None when the text
    is too short for it (fewer than 3 characters once folded)."""
    needle = fold(text).strip()
    return '"' + needle.replace('"', '""') + '"' if len(needle) >= TRIGRAM else None


def guest_clause(text: str, params: list[Any], *, indexed: bool) -> str:
    """The guest search condition (a substring of guest_search, both folded) and its parameter: through
    the trigram index when there is one and the text is long enough for it, otherwise a LIKE scan."""
    phrase = guest_phrase(text) if indexed else None
    if phrase is not None:
        params.append(phrase)
        return "r.guest_key IN (SELECT rowid FROM reservation_guest WHERE reservation_guest MATCH ?)"
    params.append(f"%{_escape_like(fold(text).strip())}%")
    return "r.guest_search LIKE ? ESCAPE '\\'"


def only_guest(query: ReservationQuery) -> bool:
    """True when the guest search is the query's only filter."""
    return query.guest is not None and replace(query, guest=None, sort="checkin", descending=False, limit=None) == (
        ReservationQuery()
    )


def where_clause(query: ReservationQuery, *, guest_index: bool = False) -> tuple[str, list[Any]]:
    """SQL condition over the `reservation` table (alias r) and its parameters; `guest_index`: the
    mirror has the trigram index of guest_search (reservation_guest)."""
    clauses: list[str] = []
    params: list[Any] = []
    if query.arriving:
        clauses += _range_clauses("r.checkin_date", query.arriving, params)
    if query.departing:
        clauses += _range_clauses("r.checkout_date", query.departing, params)
    if query.in_house_on:
        clauses.append("r.checkin_date <= ? AND r.checkout_date > ?")
        params += [query.in_house_on.isoformat()] * 2
    if query.overlapping:
        if query.overlapping.end:
            clauses.append("r.checkin_date <= ?")
            params.append(query.overlapping.end.isoformat())
        if query.overlapping.start:
            clauses.append("r.checkout_date > ?")
            params.append(query.overlapping.start.isoformat())
    if query.created:
        if query.created.start:
            clauses.append("r.completed_at >= ?")
            params.append(utc_text(datetime.combine(query.created.start, time(), UTC)))
        if query.created.end:
            clauses.append("r.completed_at < ?")
            params.append(utc_text(datetime.combine(query.created.end + timedelta(days=1), time(), UTC)))
    if query.updated_since:
        clauses.append("r.updated_at >= ?")
        params.append(utc_text(query.updated_since))
    if query.guest:
        clauses.append(guest_clause(query.guest, params, indexed=guest_index))
    if query.channel:
        clauses.append("r.channel IN (?, ?)")
        params += [query.channel.strip().lower(), channel_code(query.channel)]
    if query.state:
        state = query.state.strip().lower()
        spellings = sorted(CANCELED_STATES) if state in CANCELED_STATES else [state]  # canceled = cancelled
        clauses.append(f"r.state IN ({', '.join('?' * len(spellings))})")
        params.extend(spellings)
    if query.inv_code:
        clauses.append(
            "EXISTS (SELECT 1 FROM reservation_room rr WHERE rr.hr_number = r.hr_number AND UPPER(rr.inv_code) = UPPER(?))"
        )
        params.append(query.inv_code.strip())
    if query.awaiting_response is not None:
        clauses.append(f"{'' if query.awaiting_response else 'NOT '}({AWAITING_SQL})")
    if query.after is not None:
        clauses.append(_after_clause(query, query.after, params))
    return (" AND ".join(clauses) or "1"), params


def _after_clause(query: ReservationQuery, after: PageKey, params: list[Any]) -> str:
    """What sorts after `after` in order_clause's order (missing values last, then hr_number)."""
    column = f"r.{SORT_COLUMNS[query.sort]}"
    beyond = "<" if query.descending else ">"
    if after.value is None:  # among the reservations without a value, which sort last
        params.append(after.hr_number)
        return f"({column} IS NULL AND r.hr_number {beyond} ?)"
    params += [after.value, after.value, after.hr_number]
    return f"({column} IS NULL OR {column} {beyond} ? OR ({column} = ? AND r.hr_number {beyond} ?))"


# `Reservation.awaits_response` in SQL: requires_response when HotelRunner sent it, else state reserved.
AWAITING_SQL = (
    "CASE WHEN json_type(r.payload, '$.requires_response') IN ('true', 'false')"
    " THEN json_extract(r.payload, '$.requires_response') = 1 ELSE r.state = 'reserved' END"
)


def order_clause(query: ReservationQuery) -> str:
    """Sort with missing values last, then by hr_number so the order is stable."""
    column = f"r.{SORT_COLUMNS[query.sort]}"
    direction = "DESC" if query.descending else "ASC"
    return f"{column} IS NULL, {column} {direction}, r.hr_number {direction}"


def guest_search_text(reservation: Reservation) -> str:
    """What `guest=` searches: folded guest name, first/last names and e-mail."""
    email = reservation.address.email if reservation.address else None
    parts = (reservation.guest, reservation.guest_first_name, reservation.guest_last_name, email)
    return " | ".join(fold(p) for p in parts if p)


# --------------------------------------------------------------------------- occupancy


@dataclass(frozen=True)
class NightOccupancy:
    """One night of one room type. `rooms_total` is None for a type missing from the room list.

    `revenue` and `adr` are None when the night's bookings are in more than one currency.
    """

    night: date
    inv_code: str
    rooms_sold: int
    rooms_total: int | None
    revenue: Decimal | None
    adr: Decimal | None
    currency: str | None

    @property
    def occupancy(self) -> float | None:
        """Share of rooms sold, 0..1 (can exceed 1 when overbooked)."""
        return self.rooms_sold / self.rooms_total if self.rooms_total else None


@dataclass(frozen=True)
class RoomNight:
    """One room line occupying one night, with the revenue attributed to that night."""

    night: date
    inv_code: str
    revenue: Decimal | None
    currency: str | None


def nights_between(start: date, end: date) -> list[date]:
    """Nights start..end inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def validate_occupancy_range(start: date, end: date) -> None:
    """InvalidRequest unless start..end is a forward range of at most MAX_OCCUPANCY_NIGHTS nights."""
    if end < start:
        check_range("start", start, "end", end)
    if (end - start).days + 1 > MAX_OCCUPANCY_NIGHTS:
        raise InvalidRequest(f"occupancy covers at most {MAX_OCCUPANCY_NIGHTS} nights; ask for a shorter range")


def _line_revenue(line: ReservationRoom, night: date, nights: int) -> Decimal | None:
    for daily in line.daily_prices:
        if daily.date == night and daily.price is not None:
            return daily.price
    if line.daily_prices and any(d.price is not None for d in line.daily_prices):
        return Decimal(0)  # priced per day, and nothing for this night
    if line.price is None or nights <= 0:
        return None
    return line.price / nights


def room_nights(reservation: Reservation, start: date, end: date) -> Iterable[RoomNight]:
    """Every (room line, night) of a non-canceled reservation inside start..end."""
    if (reservation.state or "").lower() in CANCELED_STATES:
        return
    for line in reservation.rooms:
        if (line.state or "").lower() in CANCELED_STATES:
            continue
        checkin = line.checkin_date or reservation.checkin_date
        checkout = line.checkout_date or reservation.checkout_date
        if not checkin or not checkout or checkout <= checkin:
            continue
        nights = line.nights or (checkout - checkin).days
        night = max(checkin, start)
        while night < checkout and night <= end:
            yield RoomNight(night, line.inv_code or "?", _line_revenue(line, night, nights), reservation.currency)
            night += timedelta(days=1)


def occupancy_grid(
    reservations: Iterable[Reservation], start: date, end: date, rooms_per_type: Mapping[str, int]
) -> list[NightOccupancy]:
    """Per night (start..end inclusive) and room type: rooms sold, revenue and average daily rate.

    Every type in `rooms_per_type` appears each night (zero sold included); a type only seen in
    bookings appears on the nights it was sold. Sorted by night, then room type.
    """
    validate_occupancy_range(start, end)
    sold = (room_night for reservation in reservations for room_night in room_nights(reservation, start, end))
    return grid_of(sold, start, end, rooms_per_type)


def grid_of(
    sold_nights: Iterable[RoomNight], start: date, end: date, rooms_per_type: Mapping[str, int]
) -> list[NightOccupancy]:
    """The occupancy grid of some room nights (see occupancy_grid)."""
    sold: dict[tuple[date, str], list[RoomNight]] = defaultdict(list)
    for room_night in sold_nights:
        sold[(room_night.night, room_night.inv_code)].append(room_night)
    cells = {(night, code) for night in nights_between(start, end) for code in rooms_per_type} | set(sold)
    return [_cell(night, code, sold.get((night, code), []), rooms_per_type.get(code)) for night, code in sorted(cells)]


def grid_of_sums(
    sums: Mapping[tuple[date, str], tuple[int, Decimal, int, str | None]],
    start: date,
    end: date,
    rooms_per_type: Mapping[str, int],
) -> list[NightOccupancy]:
    """The occupancy grid from per (night, room type) sums: rooms sold, revenue, how many currencies and
    (when one) which; the same cells occupancy_grid makes from the room nights themselves."""
    cells = {(night, code) for night in nights_between(start, end) for code in rooms_per_type} | set(sums)
    grid = []
    for night, code in sorted(cells):
        sold, revenue, currencies, currency = sums.get((night, code), (0, Decimal(0), 0, None))
        total = to_cents(revenue) if currencies <= 1 else None
        grid.append(
            NightOccupancy(
                night,
                code,
                sold,
                rooms_per_type.get(code),
                total,
                to_cents(total / sold) if total is not None and sold else None,
                currency if currencies == 1 else None,
            )
        )
    return grid


def _cell(night: date, inv_code: str, sold: list[RoomNight], rooms_total: int | None) -> NightOccupancy:
    currencies = {r.currency for r in sold if r.currency}
    currency = next(iter(currencies)) if len(currencies) == 1 else None
    revenue: Decimal | None = None
    if len(currencies) <= 1:
        revenue = to_cents(sum((r.revenue or Decimal(0) for r in sold), Decimal(0)))
    adr = to_cents(revenue / len(sold)) if revenue is not None and sold else None
    return NightOccupancy(night, inv_code, len(sold), rooms_total, revenue, adr, currency)
