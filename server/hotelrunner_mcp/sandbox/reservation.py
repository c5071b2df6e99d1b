"""A reservation as the sandbox holds it, and its HR-v1 JSON (the newest documented shape:
rooms as a list, amounts as numbers, timestamps in UTC with a `Z`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from hotelrunner_mcp.sandbox.catalog import CURRENCY

TOURIST_TAX_PER_GUEST_NIGHT = Decimal("2.50")
CANCEL_REASONS = ("customer", "no_room", "no_show", "invalid_price")


def iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def nights_of(checkin: date, checkout: date) -> list[date]:
    return [checkin + timedelta(days=i) for i in range((checkout - checkin).days)]


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

    @property
    def price(self) -> Decimal:
        return sum((p for _, p in self.daily_prices), Decimal(0))

    @property
    def guests(self) -> int:
        return self.adults + len(self.child_ages)


@dataclass
class Reservation:
    hr_number: str
    provider_number: str
    channel: str
    state: str  # reserved | confirmed | canceled
    firstname: str
    lastname: str
    email: str
    phone: str
    country: str
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

    @property
    def checkin(self) -> date:
        return min(line.checkin for line in self.rooms)

    @property
    def checkout(self) -> date:
        return max(line.checkout for line in self.rooms)

    @property
    def requires_response(self) -> bool:
        return self.state == "reserved"

    @property
    def next_states(self) -> list[str]:
        return ["confirm", "cancel"] if self.state == "reserved" else []

    @property
    def sub_total(self) -> Decimal:
        return sum((line.price for line in self.rooms), Decimal(0))

    @property
    def extras_total(self) -> Decimal:
        return sum((e.price for line in self.rooms for e in line.extras), Decimal(0))

    @property
    def tax_total(self) -> Decimal:
        guest_nights = sum(line.guests * len(line.daily_prices) for line in self.rooms)
        return TOURIST_TAX_PER_GUEST_NIGHT * guest_nights

    @property
    def total(self) -> Decimal:
        return self.sub_total + self.extras_total + self.adjustments_total + self.tax_total

    def to_json(self) -> dict[str, object]:
        line_state = "canceled" if self.state == "canceled" else self.state
        return {
            "hr_number": self.hr_number,
            "provider_number": self.provider_number,
            "pms_number": self.pms_number,
            "channel": self.channel,
            "state": self.state,
            "modified": self.modified,
            "guest": f"{self.firstname} {self.lastname}",
            "firstname": self.firstname,
            "lastname": self.lastname,
            "cancel_reason": self.cancel_reason,
            "completed_at": iso_z(self.completed_at),
            "updated_at": iso_z(self.updated_at),
            "sub_total": money(self.sub_total),
            "extras_total": money(self.extras_total),
            "adjustments_total": money(self.adjustments_total),
            "tax_total": money(self.tax_total),
            "total": money(self.total),
            "currency": CURRENCY,
            "paid_amount": money(self.paid_amount),
            "payment": self.payment,
            "checkin_date": self.checkin.isoformat(),
            "checkout_date": self.checkout.isoformat(),
            "note": self.note,
            "address": {
                "street": self.street,
                "street_2": "",
                "city": self.city,
                "state": "",
                "country": self.country,
                "phone": self.phone,
                "email": self.email,
            },
            "rooms": [
                {
                    "id": line.line_id,
                    "state": line_state,
                    "code": line.rate_code,
                    "inv_code": line.inv_code,
                    "name": line.name,
                    "price": money(line.price),
                    "non_refundable": line.non_refundable,
                    "nights": len(line.daily_prices),
                    "total_guest": line.guests,
                    "total_adult": line.adults,
                    "child_ages": list(line.child_ages),
                    "checkin_date": line.checkin.isoformat(),
                    "checkout_date": line.checkout.isoformat(),
                    "extra_info": line.extra_info,
                    "daily_prices": [{"date": d.isoformat(), "price": money(p)} for d, p in line.daily_prices],
                    "extras": [{"name": e.name, "price": money(e.price)} for e in line.extras],
                }
                for line in self.rooms
            ],
            "message_uid": self.message_uid,
            "requires_response": self.requires_response,
            "next_states": self.next_states,
        }
