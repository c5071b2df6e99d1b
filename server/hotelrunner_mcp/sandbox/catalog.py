"""Villa Thaifa as HotelRunner would describe it: eight room types (twelve rooms), three
connected channels, EUR, and the codes HotelRunner's own examples use (rooms_get.am_2026):

- each room type's MASTER rate has rate_code == inv_code ("DLXTRP", like HR:1/HR:1);
- its non-refundable rate is "NR:<inv>" ("NR:DLXTRP", like NR:HR:1), derived 10 % below the
  master price and not updatable (availability_update/restrictions_update/price_update false);
- three room types (DLXTRP, FAMSTE, PRESTE) have a half-board rate "HB:<inv>" whose price is its
  own (master + 30 EUR until set) and is the only thing the API may update on it;
- `is_master` is false on every real rate (as on HR:1 in the docs); the docs' "Default Room"
  (HR:99 here) is the one rate with is_master true: online only, no rooms behind it, never
  booked by the seed, and no update is accepted on it.

Channel-side identities (what transaction_details shows instead of our codes) are here too.
Static data; the calendar and bookings live in `state`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CURRENCY = "EUR"
NR_DISCOUNT = Decimal("0.90")  # the non-refundable rate is derived: 10 % below the master rate
HB_SUPPLEMENT = Decimal("30")  # a half-board rate's own price starts at master + 30 EUR

CONNECTED_CHANNELS: dict[str, str] = {"bookingcom": "Booking.com", "expedia": "Expedia Inc.", "online": "Online"}
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

DEFAULT_ROOM_CODE = "HR:99"
DEFAULT_ROOM_DESCRIPTION = (
    "We use this room for unmatched reservations. If a reservation comes with this room type code, this means "
    "that hotelier should update their channel mappings on HotelRunner and the reservation should be mapped with "
    "a room type manually."
)

# kind -> (name suffix, meal plan, meal plan presentation)
RATE_KINDS: dict[str, tuple[str, str, str]] = {
    "master": ("", "bed-breakfast", "Bed and breakfast"),
    "nr": (" - NR", "bed-breakfast", "Bed and breakfast"),
    "hb": (" - Half Board", "half-board", "Half board"),
    "default": ("", "room-only", "Room only"),
}
RATE_POLICIES = {
    "master": "Free cancellation until 7 days before arrival; after that the first night is charged.",
    "nr": "Non-refundable: the full amount is charged at booking.",
    "hb": "Half board (breakfast and dinner). Free cancellation until 7 days before arrival.",
    "default": "",
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
    kind: str  # master | nr | hb | default

    @property
    def non_refundable(self) -> bool:
        return self.kind == "nr"

    @property
    def derived(self) -> bool:
        """A derived rate has no price of its own: it follows its room type's master rate."""
        return self.kind == "nr"

    @property
    def is_master(self) -> bool:
        """As HotelRunner's examples print it: false on every real rate, true on the Default Room."""
        return self.kind == "default"

    @property
    def availability_update(self) -> bool:
        return self.kind == "master"

    @property
    def restrictions_update(self) -> bool:
        return self.kind == "master"

    @property
    def price_update(self) -> bool:
        return self.kind in ("master", "hb")

    def may_update(self, name: str) -> bool:
        if name == "availability":
            return self.availability_update
        if name == "price":
            return self.price_update
        return self.restrictions_update

    @property
    def channel_codes(self) -> list[str]:
        return ["online"] if self.kind == "default" else list(CONNECTED_CHANNELS)

    @property
    def name(self) -> str:
        return self.room.name + RATE_KINDS[self.kind][0]

    @property
    def meal_plan(self) -> tuple[str, str]:
        return RATE_KINDS[self.kind][1], RATE_KINDS[self.kind][2]

    def to_json(self) -> dict[str, object]:
        """Field order and set as in rooms_get.am_2026.reconstructed.json."""
        return {
            "rate_code": self.rate_code,
            "inv_code": self.room.inv_code,
            "availability_update": self.availability_update,
            "restrictions_update": self.restrictions_update,
            "price_update": self.price_update,
            "pricing_type": "guest_based",
            "name": self.name,
            "description": self.room.description,
            "policy": RATE_POLICIES[self.kind],
            "room_capacity": self.room.room_capacity,
            "adult_capacity": self.room.adult_capacity,
            "is_master": self.is_master,
            "shared": False,
            "channel_codes": self.channel_codes,
            "sales_currency": CURRENCY,
            "sell_online": True,
        }


ROOM_TYPES: tuple[RoomType, ...] = (
    RoomType(
        "DLXTRP", "Deluxe Triple", 3, Decimal("169"), 3, 3, "Three single beds or a double and a single, garden view."
    ),
    RoomType("DLXDBL", "Deluxe Double", 1, Decimal("159"), 2, 2, "Queen bed, zellige bathroom, patio side."),
    RoomType("DBLSUP", "Double Room Superior", 2, Decimal("149"), 2, 2, "Double bed, tadelakt shower, courtyard view."),
    RoomType("EXESTE", "Executive Suite", 1, Decimal("169"), 3, 2, "King bed and lounge with a sofa bed."),
    RoomType("DLXKNG", "Deluxe King Suite", 1, Decimal("329"), 3, 2, "King bed, private terrace, fireplace."),
    RoomType("FAMSTE", "Family Suite", 2, Decimal("189"), 5, 4, "Two bedrooms sharing a bathroom, for families."),
    RoomType("SUITE", "Suite", 1, Decimal("179"), 3, 2, "Double bed and sitting room around the pool."),
    RoomType(
        "PRESTE",
        "Presidential Suite",
        1,
        Decimal("449"),
        4,
        4,
        "Top-floor suite, two bedrooms, rooftop view of the Atlas.",
    ),
)
"""The real room types (the Default Room is not one: see DEFAULT_ROOM)."""

DEFAULT_ROOM = RoomType(DEFAULT_ROOM_CODE, "Default Room", 0, Decimal("0"), 2, 2, DEFAULT_ROOM_DESCRIPTION)
HALF_BOARD_ROOMS = ("DLXTRP", "FAMSTE", "PRESTE")

ROOMS_BY_CODE: dict[str, RoomType] = {room.inv_code: room for room in (*ROOM_TYPES, DEFAULT_ROOM)}


def _rates_of_room(room: RoomType) -> tuple[Rate, ...]:
    rates = [Rate(room.inv_code, room, "master"), Rate(f"NR:{room.inv_code}", room, "nr")]
    if room.inv_code in HALF_BOARD_ROOMS:
        rates.append(Rate(f"HB:{room.inv_code}", room, "hb"))
    return tuple(rates)


RATES: tuple[Rate, ...] = (
    *(rate for room in ROOM_TYPES for rate in _rates_of_room(room)),
    Rate(DEFAULT_ROOM_CODE, DEFAULT_ROOM, "default"),
)
RATES_BY_CODE: dict[str, Rate] = {rate.rate_code: rate for rate in RATES}


def master_rate(inv_code: str) -> Rate:
    """The rate a room-type update (inv_code) changes: the one whose rate_code is the inv_code."""
    return RATES_BY_CODE[inv_code]


def rates_of(inv_code: str) -> list[Rate]:
    return [rate for rate in RATES if rate.room.inv_code == inv_code]


# channel side -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelSide:
    """How a channel knows Villa Thaifa: its hotel id, and per room type its room id and name
    (in the channel's language); per rate kind its rate plan id and name."""

    hotel_id: str
    rooms: dict[str, tuple[str, str]]  # inv_code -> (channel room id, room name)
    rate_plans: dict[str, tuple[str, str]]  # rate kind -> (rate plan id, rate plan name)
    person: tuple[str, str]  # singular, plural

    def job_name(self, rate: Rate) -> str:
        """Like "Люкс (68366) - Стандартный тариф - 1 Person" in transaction_details.slate_v2."""
        _, room_name = self.rooms[rate.room.inv_code]
        plan_id, plan_name = self.rate_plans[rate.kind]
        guests = rate.room.adult_capacity
        return f"{room_name} ({plan_id}) - {plan_name} - {guests} {self.person[0] if guests == 1 else self.person[1]}"


CHANNEL_SIDES: dict[str, ChannelSide] = {
    "bookingcom": ChannelSide(
        "2318406",
        {
            "DLXTRP": ("231840601", "Chambre Triple Deluxe"),
            "DLXDBL": ("231840602", "Chambre Double Deluxe"),
            "DBLSUP": ("231840603", "Chambre Double Supérieure"),
            "EXESTE": ("231840604", "Suite Exécutive"),
            "DLXKNG": ("231840605", "Suite Deluxe avec Lit King Size"),
            "FAMSTE": ("231840606", "Suite Familiale"),
            "SUITE": ("231840607", "Suite"),
            "PRESTE": ("231840608", "Suite Présidentielle"),
        },
        {
            "master": ("68366", "Tarif standard"),
            "nr": ("68367", "Tarif non remboursable"),
            "hb": ("68371", "Demi-pension"),
        },
        ("Personne", "Personnes"),
    ),
    "expedia": ChannelSide(
        "48213957",
        {
            "DLXTRP": ("219934101", "Deluxe Triple Room"),
            "DLXDBL": ("219934102", "Deluxe Double Room"),
            "DBLSUP": ("219934103", "Superior Double Room"),
            "EXESTE": ("219934104", "Executive Suite"),
            "DLXKNG": ("219934105", "Deluxe King Suite"),
            "FAMSTE": ("219934106", "Family Suite"),
            "SUITE": ("219934107", "Suite"),
            "PRESTE": ("219934108", "Presidential Suite"),
        },
        {
            "master": ("262015407", "Standard Rate"),
            "nr": ("262015408", "Non-refundable Rate"),
            "hb": ("262015413", "Half Board"),
        },
        ("Person", "Persons"),
    ),
}
