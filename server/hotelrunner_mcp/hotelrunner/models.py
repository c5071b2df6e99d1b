"""Typed HR-v1 payloads: what HotelRunner answers (tolerant of every documented variant) and what we send.

Size: one model per documented payload, each accepting every shape the docs have printed since 2015
(tests/fixtures/hotelrunner-docs); splitting them would scatter the shared coercions they rely on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# --------------------------------------------------------------------------- what we send


CalendarField = Literal["availability", "price", "stop_sale", "cta", "ctd", "min_stay", "max_stay"]
CALENDAR_FIELDS: tuple[CalendarField, ...] = get_args(CalendarField)
"""The calendar fields HotelRunner's updates take, in one order used everywhere (CalendarValues' order)."""


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
        """Only the calendar fields that are set, in declaration order (never inv_code, dates, ...)."""
        return {k: getattr(self, k) for k in CalendarValues.model_fields if getattr(self, k) is not None}


class RateTarget(BaseModel):
    """Which calendar an update writes to, as HotelRunner's docs define it.

    Both update pages say: `inv_code` "only updates the Room Type and its Master Rate", and "if
    inv_code is also sent in the request, rate_code will be ignored". So an update is sent either by
    `inv_code` alone (the room type: availability, and the master rate's price and restrictions) or by
    `rate_code` alone (that rate's price, the only field the docs let rate_code set). `rate_code` here
    is the rate the values are recorded against; it is sent only when `by_rate` is true.
    """

    inv_code: str
    rate_code: str | None = None

    @property
    def by_rate(self) -> bool:
        """True when the update must name its rate alone (a rate that is not the room type's master)."""
        return not is_master_rate(self.inv_code, self.rate_code)


def is_master_rate(inv_code: str, rate_code: str | None) -> bool:
    """The master rate of a room type is the rate whose code is the room type's code (HR:1/HR:1 in every
    documented room list); a room-level value (rate_code None) is written through the room type too.
    `is_master` in GET /rooms marks something else: HotelRunner's "Default Room" for unmatched bookings."""
    return rate_code is None or rate_code == inv_code


RATE_ONLY_FIELDS = frozenset({"price"})
"""What an update sent by rate_code alone may set (the docs: rate_code "is used to update price of rates")."""


class RangeUpdate(CalendarValues, RateTarget):
    """One PUT /rooms/~ : one room type or one rate over an inclusive date range."""

    start_date: date
    end_date: date
    days: list[int] | None = Field(default=None, description="Weekdays, Sunday=0 … Saturday=6; None = all")
    channel_codes: list[str] | None = None


class DailyValues(CalendarValues):
    """One date's values inside a PUT /rooms/daily room entry."""

    date: date


class DailyRoomUpdate(RateTarget):
    """One room entry of PUT /rooms/daily: at most 90 dates, sent by inv_code or by rate_code (RateTarget)."""

    model_config = ConfigDict(extra="forbid")

    channel_codes: list[str] | None = None
    dates: list[DailyValues]


MAX_DAILY_DATES = 90


# --------------------------------------------------------------------------- what HotelRunner answers
#
# Response models are tolerant: unknown fields are kept (extra="allow"), old and new field names are both
# accepted, amounts may be numbers or strings, codes may be numbers, and collections may come as a list or
# as an object keyed by id. `model_dump(mode="json")` gives a record that validates back to the same model.


def _to_decimal(value: Any) -> Any:
    """Amounts arrive as numbers or strings ("169.00", " 169 "); "" and None mean no amount."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("an amount cannot be a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # 149.9 -> Decimal("149.9"), not the binary expansion
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not an amount") from None
    raise ValueError(f"{value!r} is not an amount")


def _to_datetime(value: Any) -> Any:
    """ISO-8601 with `Z` or an offset; also "... UTC". Naive times are UTC (HotelRunner documents UTC)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.endswith(" UTC"):
            text = text[:-4] + "Z"
        value = text
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def _utc_if_naive(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _empty_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _as_list(value: Any) -> Any:
    """None -> [], a lone item -> [item], an object keyed by id -> its values (the key kept as `line_id`)."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if isinstance(item, Mapping) and "line_id" not in item:
                item = {"line_id": str(key), **item}
            items.append(item)
        return items
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _str_list(value: Any) -> Any:
    """A list of codes; also accepts "a,b" and None."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


Amount = Annotated[Decimal | None, BeforeValidator(_to_decimal)]
Stamp = Annotated[datetime | None, BeforeValidator(_to_datetime), AfterValidator(_utc_if_naive)]
Day = Annotated[date | None, BeforeValidator(_empty_to_none)]
Codes = Annotated[list[str], BeforeValidator(_str_list)]


class _Answer(BaseModel):
    """Base of the response models: keep unknown fields, accept field names and aliases, numbers as codes."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)


class Room(_Answer):
    """One rate of one room type from GET /rooms (newer and older field names)."""

    inv_code: str = Field(validation_alias=AliasChoices("inv_code", "availability_group", "room_code"))
    rate_code: str | None = Field(default=None, validation_alias=AliasChoices("rate_code", "code"))
    name: str | None = None
    description: str | None = None
    policy: str | None = None
    room_capacity: int | None = None
    adult_capacity: int | None = None
    availability_update: bool | None = None
    restrictions_update: bool | None = None
    price_update: bool | None = None
    pricing_type: str | None = None
    is_master: bool | None = None
    shared: bool | None = None
    channel_codes: Codes = Field(default_factory=list)
    sales_currency: str | None = None
    sell_online: bool | None = None

    @property
    def non_refundable(self) -> bool:
        return is_non_refundable(self.rate_code)


CHANNEL_CODES = {"booking.com": "bookingcom", "hotels.com": "hotelscom", "google hotel ads": "google"}


def channel_code(name: str) -> str:
    """HotelRunner's code for a channel name as people (and older pushes) write it: "Booking.com" -> "bookingcom"."""
    folded = name.strip().lower()
    return CHANNEL_CODES.get(folded) or re.sub(r"[^a-z0-9_]", "", folded) or folded  # a name in another script stays


NON_REFUNDABLE_MARKS = frozenset({"NR", "NRF", "NONREF", "NONREFUNDABLE"})


def is_non_refundable(rate_code: str | None) -> bool:
    """HotelRunner's convention: an `NR` part in a rate code (DLX-NR, DLX_NR) marks a non-refundable rate;
    a code that merely contains the letters (DINNER) does not."""
    return any(part in NON_REFUNDABLE_MARKS for part in re.split(r"[^A-Z0-9]+", (rate_code or "").upper()))


class Address(_Answer):
    street: str | None = None
    street_2: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    country_code: str | None = None
    postal_code: str | None = None
    phone: str | None = None
    email: str | None = None


class DailyPrice(_Answer):
    date: Day = None
    price: Amount = None


class Extra(_Answer):
    name: str | None = None
    price: Amount = None


def _daily_prices(value: Any) -> Any:
    """A list of {date, price}, or an object {date: price}."""
    if isinstance(value, Mapping) and all(not isinstance(v, Mapping) for v in value.values()):
        return [{"date": k, "price": v} for k, v in value.items()]
    return _as_list(value)


def _child_ages(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class ReservationRoom(_Answer):
    """One room line of a reservation."""

    line_id: str | None = Field(default=None, validation_alias=AliasChoices("line_id", "id"))
    state: str | None = None
    code: str | None = Field(default=None, validation_alias=AliasChoices("code", "rate_code"))
    inv_code: str | None = Field(default=None, validation_alias=AliasChoices("inv_code", "availability_group"))
    name: str | None = None
    price: Amount = None
    non_refundable: bool | None = None
    nights: int | None = None
    total_guest: int | None = None
    total_adult: int | None = None
    child_ages: Annotated[list[int], BeforeValidator(_child_ages)] = Field(default_factory=list)
    checkin_date: Day = None
    checkout_date: Day = None
    extra_info: Any = None
    meal_plan: str | None = None  # 2026 object: "bed-breakfast"; meal_plan_presentation is kept as sent
    daily_prices: Annotated[list[DailyPrice], BeforeValidator(_daily_prices)] = Field(default_factory=list)
    extras: Annotated[list[Extra], BeforeValidator(_as_list)] = Field(default_factory=list)


_GUEST_FIRST = ("guest_first_name", "firstname", "first_name")
_GUEST_LAST = ("guest_last_name", "lastname", "last_name", "surname")


class Reservation(_Answer):
    """A reservation from GET /reservations or a push.

    `guest` is always a display name; when HotelRunner sent a guest object it is kept in `guest_details`
    and its first/last names fill `guest_first_name`/`guest_last_name`.
    """

    hr_number: str
    reservation_id: str | None = None  # 2026 object: HotelRunner's numeric id
    provider_number: str | None = None  # the channel's number; null for direct bookings
    pms_number: str | None = None
    channel: str | None = None  # always a code ("bookingcom"); older pushes send "Booking.com": see below
    channel_display: str | None = None
    source_display: str | None = None
    state: str | None = None
    modified: bool | None = None
    guest: str | None = None
    guest_first_name: str | None = Field(default=None, validation_alias=AliasChoices(*_GUEST_FIRST))
    guest_last_name: str | None = Field(default=None, validation_alias=AliasChoices(*_GUEST_LAST))
    guest_details: dict[str, Any] | None = None
    cancel_reason: str | None = None
    completed_at: Stamp = None
    updated_at: Stamp = None
    sub_total: Amount = None
    extras_total: Amount = None
    adjustments_total: Amount = None
    tax_total: Amount = None
    total: Amount = None
    currency: str | None = None
    paid_amount: Amount = None
    payment: str | None = None
    checkin_date: Day = None
    checkout_date: Day = None
    note: str | None = None
    address: Address | None = None
    billing_address: Address | None = None
    total_guests: int | None = None
    total_rooms: int | None = None
    rooms: Annotated[list[ReservationRoom], BeforeValidator(_as_list)] = Field(default_factory=list)
    message_uid: str | None = None
    requires_response: bool | None = None  # named by the fire page; absent from the verbatim 2026 object
    next_states: Codes = Field(default_factory=list)  # in no HotelRunner example (integrators only)
    reason: str | None = None  # pushes only: modify | cancel | confirm (absent from the 2026 push)

    @property
    def awaits_response(self) -> bool:
        """Whether the property must confirm or cancel it: `requires_response` when HotelRunner sends it,
        else the documented state rule (`reserved` is the initial state, before the hotelier confirms)."""
        if self.requires_response is not None:
            return self.requires_response
        return (self.state or "").lower() == "reserved"

    @model_validator(mode="before")
    @classmethod
    def _channel_as_code(cls, data: Any) -> Any:
        """Older pushes carry the channel's display name ("Booking.com"); keep it as channel_display and
        store the code, so one booking never has two channel values across versions."""
        if not isinstance(data, Mapping) or not isinstance(data.get("channel"), str):
            return data
        name = data["channel"].strip()
        code = channel_code(name)
        if code == name:
            return data
        data = dict(data)
        data["channel"] = code or None
        data.setdefault("channel_display", name)
        return data

    @model_validator(mode="before")
    @classmethod
    def _normalise_guest(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("guest"), Mapping):
            return data
        data = dict(data)
        details = dict(data.pop("guest"))
        first = next((details[k] for k in _GUEST_FIRST if details.get(k)), None)
        last = next((details[k] for k in _GUEST_LAST if details.get(k)), None)
        name = details.get("name") or details.get("full_name") or " ".join(str(p) for p in (first, last) if p)
        data["guest"] = name or None
        data.setdefault("guest_first_name", first)
        data.setdefault("guest_last_name", last)
        data.setdefault("guest_details", details)
        return data

    @model_validator(mode="after")
    def _guest_name_from_parts(self) -> Reservation:
        if not self.guest and (self.guest_first_name or self.guest_last_name):
            self.guest = " ".join(p for p in (self.guest_first_name, self.guest_last_name) if p)
        return self


class ReservationPage(_Answer):
    """One page of GET /reservations."""

    reservations: Annotated[list[Reservation], BeforeValidator(_as_list)] = Field(default_factory=list)
    count: int = 0
    current_page: int = 1
    pages: int = 1


def _errors(value: Any) -> Any:
    if value is None or (isinstance(value, str | Mapping | list) and not value):  # {}, "" and [] mean none
        return []
    if isinstance(value, str | Mapping):
        return [value]
    return value


class UpdateResult(_Answer):
    """Answer to a write: `status` "ok", "try_again" (NOT applied) or something else (e.g. "error").

    PUT /rooms/daily may answer "ok" with an `errors` list: some parts failed.
    """

    status: str
    transaction_id: str | None = None
    errors: Annotated[list[Any], BeforeValidator(_errors)] = Field(default_factory=list)
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status.strip().lower() == "ok"

    @property
    def partial(self) -> bool:
        return self.ok and bool(self.errors)

    def refusals(self) -> list[Refusal] | None:
        """The refused (code, date) cells, in the documented shape `[{"HR:1903": {"2025-01-01": "Invalid
        price"}}]` (code = the inv_code or rate_code the entry was sent with); a bare `{code: message}`
        refuses the whole entry. None when an error has another shape: then nothing can be trusted."""
        found: list[Refusal] = []
        for error in self.errors:
            if not isinstance(error, Mapping) or not error:
                return None
            for code, detail in error.items():
                if isinstance(detail, Mapping):
                    for day, message in detail.items():
                        try:
                            when = date.fromisoformat(str(day))
                        except ValueError:
                            return None
                        found.append(Refusal(code=str(code), date=when, message=str(message)))
                elif isinstance(detail, str | list):
                    text = detail if isinstance(detail, str) else "; ".join(map(str, detail))
                    found.append(Refusal(code=str(code), date=None, message=text))
                else:
                    return None
        return found


class Refusal(BaseModel):
    """One part of an update HotelRunner refused: an entry's code, a date (None = every date), why."""

    code: str
    date: date | None
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.date or '(every date)'}: {self.message}"


class TransactionCounts(_Answer):
    failed: int = 0
    succeeded: int = 0
    in_progress: int = 0


class TransactionDetail(_Answer):
    """How one channel handled one part of an update."""

    id: str | None = None
    channel_code: str | None = None
    state: str | None = None  # failed | succeeded | in_progress
    name: str | None = None
    code: str | None = None
    allocation_group: str | None = None  # the CHANNEL's room id (e.g. Booking.com's "8833301"), not an inv_code
    created_at: Stamp = None
    pid: str | None = None
    error_message: str | None = None


class Transaction(_Answer):
    """GET /infos/transaction_details (the inner `transaction` object)."""

    id: str | None = None
    counts: TransactionCounts = Field(default_factory=TransactionCounts)
    details: Annotated[list[TransactionDetail], BeforeValidator(_as_list)] = Field(default_factory=list)


class Channel(_Answer):
    """A channel HotelRunner can connect (GET /infos/channels)."""

    name: str | None = None
    code: str


class ConnectedChannel(Channel):
    """A channel connected to the property, with counts of its distribution jobs."""

    in_progress: int = 0
    succeeded: int = 0
    failed: int = 0
