"""Villa Thaifa as HotelRunner would describe it: eight room types (twelve rooms), two rates each,
three connected channels, EUR. Static data; the calendar and bookings live in `state`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CURRENCY = "EUR"
NR_DISCOUNT = Decimal("0.90")  # the non-refundable rate is derived: 10 % below the base rate

CONNECTED_CHANNELS: dict[str, str] = {"bookingcom": "Booking.com", "expedia": "Expedia", "online": "Online Booking Engine"}
ALL_CHANNELS: dict[str, str] = {
    **CONNECTED_CHANNELS,
    "airbnb": "Airbnb",
    "agoda": "Agoda",
    "hotelscom": "Hotels.com",
    "google": "Google Hotel Ads",
    "tripadvisor": "TripAdvisor",
    "hrs": "HRS",
    "trivago": "trivago",
}


@dataclass(frozen=True)
class RoomType:
    inv_code: str
    name: str
    rooms: int
    base_price: Decimal
    room_capacity: int
    adult_capacity: int
    description: str


@dataclass(frozen=True)
class Rate:
    rate_code: str
    room: RoomType
    non_refundable: bool

    @property
    def is_master(self) -> bool:
        return not self.non_refundable

    @property
    def updatable(self) -> bool:
        """Derived rates follow their master: the API may change neither availability,
        restrictions nor price on them."""
        return not self.non_refundable

    @property
    def channel_codes(self) -> list[str]:
        return list(CONNECTED_CHANNELS)

    def to_json(self) -> dict[str, object]:
        name = self.room.name + (" - Non-refundable" if self.non_refundable else "")
        policy = (
            "Non-refundable: the full amount is charged at booking."
            if self.non_refundable
            else "Free cancellation until 7 days before arrival; after that the first night is charged."
        )
        return {
            "inv_code": self.room.inv_code,
            "rate_code": self.rate_code,
            "name": name,
            "description": self.room.description,
            "policy": policy,
            "room_capacity": self.room.room_capacity,
            "adult_capacity": self.room.adult_capacity,
            "availability_update": self.updatable,
            "restrictions_update": self.updatable,
            "price_update": self.updatable,
            "pricing_type": "guest_based",
            "is_master": self.is_master,
            "shared": False,
            "channel_codes": self.channel_codes,
            "sales_currency": CURRENCY,
            "sell_online": True,
        }


ROOM_TYPES: tuple[RoomType, ...] = (
    RoomType("DLXTRP", "Deluxe Triple", 3, Decimal("169"), 3, 3, "Three single beds or a double and a single, garden view."),
    RoomType("DLXDBL", "Deluxe Double", 1, Decimal("159"), 2, 2, "Queen bed, zellige bathroom, patio side."),
    RoomType("DBLSUP", "Double Room Superior", 2, Decimal("149"), 2, 2, "Double bed, tadelakt shower, courtyard view."),
    RoomType("EXESTE", "Executive Suite", 1, Decimal("169"), 3, 2, "King bed and lounge with a sofa bed."),
    RoomType("DLXKNG", "Deluxe King Suite", 1, Decimal("329"), 3, 2, "King bed, private terrace, fireplace."),
    RoomType("FAMSTE", "Family Suite", 2, Decimal("189"), 5, 4, "Two bedrooms sharing a bathroom, for families."),
    RoomType("SUITE", "Suite", 1, Decimal("179"), 3, 2, "Double bed and sitting room around the pool."),
    RoomType("PRESTE", "Presidential Suite", 1, Decimal("449"), 4, 4, "Top-floor suite, two bedrooms, rooftop view of the Atlas."),
)

ROOMS_BY_CODE: dict[str, RoomType] = {room.inv_code: room for room in ROOM_TYPES}
RATES: tuple[Rate, ...] = tuple(
    rate for room in ROOM_TYPES for rate in (Rate(f"{room.inv_code}-BAR", room, False), Rate(f"{room.inv_code}-NR", room, True))
)
RATES_BY_CODE: dict[str, Rate] = {rate.rate_code: rate for rate in RATES}


def master_rate(inv_code: str) -> Rate:
    return RATES_BY_CODE[f"{inv_code}-BAR"]


def rates_of(inv_code: str) -> list[Rate]:
    return [rate for rate in RATES if rate.room.inv_code == inv_code]
