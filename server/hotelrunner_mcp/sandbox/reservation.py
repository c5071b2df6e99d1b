"""A reservation as the sandbox holds it, and its HR-v1 JSON in the newest documented object
(reservations_get.am_2026 / push.am_2026): the 2026 field set and order, timestamps with
milliseconds on HotelRunner's own clock ("2026-02-23T16:28:12.000+03:00"), `item_total` as a
string, payments as strings, no `next_states` (no HotelRunner example has it), and
`requires_response` only when asked for (the fire page's prose names it; the 2026 head has none)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hotelrunner_mcp.sandbox.catalog import CONNECTED_CHANNELS, CURRENCY
from hotelrunner_mcp.sandbox.guests import COUNTRY_NAMES

TOURIST_TAX_PER_GUEST_NIGHT = Decimal("2.50")
CANCEL_REASONS = ("customer", "no_room", "no_show", "invalid_price")
HR_TZ = timezone(timedelta(hours=3), "+03:00")  # HotelRunner's own clock (Istanbul), as its examples print it
PAYMENT_METHOD_NAMES = {
    "cash": "Pay at the hotel",
    "credit_card": "Credit card",
    "bank_transfer": "Bank transfer",
    "paypal": "PayPal",
}


def iso_z(moment: datetime) -> str:
    """UTC with a Z, as the 2015-2016 examples (transaction_details) print it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_hr(moment: datetime) -> str:
    """HotelRunner's 2026 timestamps: milliseconds and the +03:00 offset."""
    local = moment.astimezone(HR_TZ)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}+03:00"


def hr_date(moment: datetime) -> date:
    """The calendar date on HotelRunner's clock."""
    return moment.astimezone(HR_TZ).date()


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def money_text(value: Decimal) -> str:
    """Amounts HotelRunner sends as strings ("130.0")."""
    return str(money(value))


def nights_of(checkin: date, checkout: date) -> list[date]:
    return [checkin + timedelta(days=i) for i in range((checkout - checkin).days)]


def _digits(text: str, count: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[-count:]


@dataclass
class Extra:
    name: str
    price: Decimal


@dataclass
class RoomLine:
    line_id: int
    inv_code: str
    rate_code: str
    name: str
    non_refundable: bool
    checkin: date
    checkout: date
    daily_prices: list[tuple[date, Decimal]]
    adults: int
    child_ages: list[int] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    extra_info: str = ""
    meal_plan: tuple[str, str] = ("bed-breakfast", "Bed and breakfast")

    @property
    def price(self) -> Decimal:
        return sum((p for _, p in self.daily_prices), Decimal(0))

    @property
    def guests(self) -> int:
        return self.adults + len(self.child_ages)

    @property
    def extras_total(self) -> Decimal:
        return sum((e.price for e in self.extras), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return TOURIST_TAX_PER_GUEST_NIGHT * self.guests * len(self.daily_prices)


@dataclass
class Reservation:
    hr_number: str
    provider_number: str | None  # None for direct ("online") bookings
    channel: str
    state: str  # reserved | confirmed | canceled
    firstname: str
    lastname: str
    email: str
    phone: str
    country: str  # ISO code
    city: str
    street: str
    payment: str
    completed_at: datetime
    updated_at: datetime
    rooms: list[RoomLine]
    message_uid: str
    note: str = ""
    adjustments_total: Decimal = Decimal(0)
    paid_amount: Decimal = Decimal(0)
    cancel_reason: str | None = None
    modified: bool = False  # has ever been modified
    modified_pending: bool = False  # modified since last acknowledged
    delivered: bool = False  # the current message_uid was acknowledged
    pms_number: str | None = None
    reservation_id: int = 0

    @property
    def checkin(self) -> date:
        return min(line.checkin for line in self.rooms)

    @property
    def checkout(self) -> date:
        return max(line.checkout for line in self.rooms)

    @property
    def requires_response(self) -> bool:
        """Whether fire may change the state (the property has not answered yet)."""
        return self.state == "reserved"

    @property
    def sub_total(self) -> Decimal:
        return sum((line.price for line in self.rooms), Decimal(0))

    @property
    def extras_total(self) -> Decimal:
        return sum((line.extras_total for line in self.rooms), Decimal(0))

    @property
    def tax_total(self) -> Decimal:
        return sum((line.tax for line in self.rooms), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.sub_total + self.extras_total + self.adjustments_total + self.tax_total

    @property
    def national_id(self) -> str | None:
        """A Moroccan CIN for Moroccan guests (citizens); foreigners give none."""
        if self.country != "MA":
            return None
        return "BE" + _digits("cin:" + self.email, 6)

    @property
    def postal_code(self) -> str:
        return _digits("zip:" + self.street + self.city, 5).rjust(5, "1")

    def _line_json(self, line: RoomLine, first: bool) -> dict[str, object]:
        line_state = "canceled" if self.state == "canceled" else self.state
        comments: list[dict[str, object]] = []
        if first and self.note:
            comments.append(
                {
                    "body": self.note,
                    "channel_note": self.channel != "online",
                    "housekeeping": None,
                    "guest_visible": True,
                }
            )
        if line.extra_info:
            comments.append(
                {"body": line.extra_info, "channel_note": True, "housekeeping": None, "guest_visible": False}
            )
        extras: list[dict[str, object]] = [
            {
                "name": e.name,
                "price": money(e.price),
                "base_price": money_text(e.price),
                "code": "",
                "is_extra": True,
                "total": money(e.price),
                "quantity": 1,
            }
            for e in line.extras
        ]
        extras.append(
            {
                "name": f"Tourist tax ({TOURIST_TAX_PER_GUEST_NIGHT} {CURRENCY} per guest and night)",
                "price": money(line.tax),
                "included_in_price": False,
            }
        )
        return {
            "id": line.line_id,
            "state": line_state,
            "code": line.rate_code,
            "number": None,
            "voucher_number": self.hr_number,
            "availability_group": line.inv_code,
            "rate_code": line.rate_code,
            "rate_plan_code": line.rate_code,
            "inv_code": line.inv_code,
            "non_refundable": line.non_refundable,
            "price": money(line.price),
            "total": money(line.price + line.extras_total),
            "nights": len(line.daily_prices),
            "meal_plan": line.meal_plan[0],
            "meal_plan_presentation": line.meal_plan[1],
            "total_guest": line.guests,
            "total_adult": line.adults,
            "child_ages": list(line.child_ages),
            "name": line.name,
            "name_presentation": line.name,
            "checkin_date": line.checkin.isoformat(),
            "checkout_date": line.checkout.isoformat(),
            "daily_prices": [
                {
                    "date": d.isoformat(),
                    "price": money(p),
                    "original_price": money(p),
                    "discount": 0.0,
                    "rate_code": line.rate_code,
                    "version": "v2",
                }
                for d, p in line.daily_prices
            ],
            "extras": extras,
            "extras_total": money(line.extras_total),
            "included_taxes_total": 0.0,
            "room_base_price": money(line.price),
            "room_sub_total": money(line.price + line.extras_total),
            "comments": comments,
        }

    def _payments_json(self) -> list[dict[str, object]]:
        base = 34_900_000 + (self.reservation_id % 1_000_000) * 2
        payments: list[dict[str, object]] = [
            {
                "state": "checkout",
                "id": base,
                "amount": money_text(self.total),
                "currency": CURRENCY,
                "payment_method": self.payment,
                "payment_method_name": PAYMENT_METHOD_NAMES.get(self.payment, self.payment),
            }
        ]
        if self.paid_amount > 0:
            payments.append(
                {
                    "state": "completed",
                    "id": base + 1,
                    "amount": money_text(self.paid_amount),
                    "currency": CURRENCY,
                    "paid_at": iso_hr(self.completed_at),
                    "payment_method": self.payment,
                }
            )
        return payments

    def to_json(self, *, requires_response_field: bool = False) -> dict[str, object]:
        """The 2026 object; `requires_response` only with requires_response_field."""
        country_name = COUNTRY_NAMES.get(self.country, self.country)
        body: dict[str, object] = {
            "reservation_id": self.reservation_id,
            "hr_number": self.hr_number,
            "provider_number": self.provider_number,
            "pms_number": self.pms_number,
            "channel": self.channel,
            "channel_display": CONNECTED_CHANNELS.get(self.channel, self.channel),
            "source_display": None,
            "state": self.state,
            "modified": self.modified,
            "total_guests": sum(line.guests for line in self.rooms),
            "total_rooms": len(self.rooms),
            "guest": f"{self.firstname} {self.lastname}",
            "firstname": self.firstname,
            "lastname": self.lastname,
            "country": self.country,
            "guest_national_id": self.national_id,
            "guest_is_citizen": self.country == "MA",
            "cancel_reason": self.cancel_reason,
            "completed_at": iso_hr(self.completed_at),
            "updated_at": iso_hr(self.updated_at),
            "sub_total": money(self.sub_total),
            "extras_total": money(self.extras_total),
            "adjustments_total": money(self.adjustments_total),
            "tax_total": money(self.tax_total),
            "item_total": money_text(self.sub_total + self.extras_total),
            "total": money(self.total),
            "currency": CURRENCY,
            "checkin_date": self.checkin.isoformat(),
            "checkout_date": self.checkout.isoformat(),
            "note": self.note or None,
            "payment": self.payment,
            "payment_details": None,
            "paid_amount": money(self.paid_amount),
        }
        if requires_response_field:
            body["requires_response"] = self.requires_response
        body["pms_version_generated"] = self.pms_number is not None
        body["address"] = {
            "city": self.city,
            "state": "",
            "country": f"{country_name} ({self.country})",
            "country_code": self.country,
            "phone": self.phone,
            "email": self.email,
            "street": self.street,
            "street_2": "",
            "postal_code": self.postal_code,
        }
        body["billing_address"] = {
            "bill_type": None,
            "city": self.city,
            "state": "",
            "country": country_name,
            "country_code": self.country,
            "phone": self.phone,
            "email": self.email,
            "street": self.street,
            "street_2": "",
            "tax_office": "",
            "tax_id": "",
            "company": "",
            "firstname": self.firstname,
            "lastname": self.lastname,
        }
        body["rooms"] = [self._line_json(line, index == 0) for index, line in enumerate(self.rooms)]
        body["payments"] = self._payments_json()
        body["message_uid"] = self.message_uid
        return body
