"""Everything the sandbox remembers, behind one lock: the calendar, reservations and the
transactions updates create. HTTP handlers and the control API both call in here.

Reservations: `reserved` (awaiting the property's answer: requires_response) → `confirmed` or
`canceled` via fire; confirmed and canceled accept no event (fire answers HTTP 200
`{"status": "error", "message": "state_change_is_not_available"}`).
Every new booking, modification or cancellation gets a fresh message_uid and is undelivered
until that message_uid is acknowledged. Listings sort by completed_at ascending; their dates
(from_date, from_last_update_date, the 10- and 30-day windows) are on HotelRunner's clock (+03:00).

After seeding, `listener` hears every change with the push reason HotelRunner would give:
`confirm` for a new booking (the doc names only modify/cancel/confirm) and a confirm event,
`modify` for a modification, `cancel` for a cancellation by the guest or by the property.

Size: the sandbox's whole memory behind one lock, so every handler sees one consistent HotelRunner.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from hotelrunner_mcp.sandbox.catalog import (
    ALL_CHANNELS,
    CHANNEL_SIDES,
    CONNECTED_CHANNELS,
    CURRENCY,
    RATES,
    RATES_BY_CODE,
    Rate,
)
from hotelrunner_mcp.sandbox.config import Switches
from hotelrunner_mcp.sandbox.errors import answered_error, invalid, not_found
from hotelrunner_mcp.sandbox.guests import Guest
from hotelrunner_mcp.sandbox.inventory import Calendar
from hotelrunner_mcp.sandbox.reservation import CANCEL_REASONS, Extra, Reservation, RoomLine, hr_date, iso_z, nights_of
from hotelrunner_mcp.sandbox.updates import RoomChange

LOOKBACK_DAYS = 30
DEFAULT_FROM_DAYS = 10
MAX_PER_PAGE = 50


@dataclass
class Transaction:
    """An update's distribution jobs, one per (room change, channel). A job whose channel has a
    processing delay reads `in_progress` until `settles_at` (monotonic seconds) has passed."""

    id: str
    created_at: datetime
    details: list[dict[str, object]] = field(default_factory=list)
    settles_at: dict[int, float] = field(default_factory=dict)  # index in details -> monotonic deadline

    def current_details(self) -> list[dict[str, object]]:
        now = time.monotonic()
        shown = [dict(detail) for detail in self.details]
        for index, deadline in self.settles_at.items():
            if deadline > now:
                shown[index].update(state="in_progress", error_message=None)
        return shown

    def to_json(self) -> dict[str, object]:
        details = self.current_details()
        counts = {"failed": 0, "succeeded": 0, "in_progress": 0}
        for detail in details:
            counts[str(detail["state"])] += 1
        return {"transaction": {"id": self.id, "counts": counts, "details": details}}


@dataclass
class LineRequest:
    """One room of a booking to make: which rate, how many guests, which extras."""

    rate_code: str
    adults: int = 2
    child_ages: list[int] = field(default_factory=list)
    extras: list[Extra] = field(default_factory=list)
    extra_info: str = ""


def job_detail(job_id: int, rate: Rate, channel: str, created_at: datetime, refusal: str | None) -> dict[str, object]:
    """One transaction_details entry as transaction_details.slate_v2 shows it: the room is named
    only by channel-side ids (no inv_code, no rate_code); the online channel has no ids at all."""
    state = "failed" if refusal else "succeeded"
    if channel == "online":
        return {
            "id": None,
            "channel_code": channel,
            "state": state,
            "name": "Online",
            "code": "Online",
            "allocation_group": "Online",
            "created_at": iso_z(created_at),
            "pid": None,
            "error_message": refusal,
        }
    side = CHANNEL_SIDES[channel]
    room_id, _ = side.rooms[rate.room.inv_code]
    return {
        "id": job_id,
        "channel_code": channel,
        "state": state,
        "name": side.job_name(rate),
        "code": f"{side.hotel_id}:{room_id}",
        "allocation_group": room_id,
        "created_at": iso_z(created_at),
        "pid": 9_000 + job_id,
        "error_message": refusal,
    }


class SandboxState:
    def __init__(self, seed: int, clock: Callable[[], datetime], switches: Switches | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.switches = switches or Switches(ack_enabled=True, verbatim_bodies=False, requires_response_field=False)
        self.rng = random.Random(seed)
        self.calendar = Calendar()
        self.reservations: dict[str, Reservation] = {}
        self.transactions: dict[str, Transaction] = {}
        self.price_floors: dict[str, Decimal] = {}
        self.channel_failures: dict[str, str] = {}
        self.channel_delays: dict[str, float] = {}  # seconds a channel's jobs stay in_progress
        self.listener: Callable[[Reservation, str], None] | None = None  # told (reservation, push reason)
        self._next_transaction = 400_000_000 + self.rng.randint(0, 9_999_999)
        self._next_job = 1
        self._next_line = 32_924_000 + self.rng.randint(0, 99_999)
        self._next_reservation = 37_500_000 + self.rng.randint(0, 99_999)

    def _notify(self, reservation: Reservation, reason: str) -> None:
        if self.listener is not None:
            self.listener(reservation, reason)

    def now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def today(self) -> date:
        """Today on HotelRunner's clock (+03:00)."""
        return hr_date(self.now())

    def render(self, reservation: Reservation) -> dict[str, object]:
        """A reservation's JSON as this sandbox prints it (requires_response only if switched on)."""
        return reservation.to_json(requires_response_field=self.switches.requires_response_field)

    # ids ----------------------------------------------------------------------------------
    def new_message_uid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def new_hr_number(self) -> str:
        while True:
            number = f"R{self.rng.randint(100_000_000, 999_999_999)}"
            if number not in self.reservations:
                return number

    def provider_number(self, channel: str) -> str | None:
        """The channel's own number; a direct (online) booking has none (push.am_2026: null)."""
        if channel == "bookingcom":
            return str(self.rng.randint(2_000_000_000, 4_999_999_999))
        if channel == "expedia":
            return str(self.rng.randint(10_000_000, 99_999_999))
        return None

    # rooms, channels ----------------------------------------------------------------------
    def rooms_json(self) -> dict[str, object]:
        return {"rooms": [rate.to_json() for rate in RATES]}

    def all_channels_json(self) -> dict[str, object]:
        return {"channels": [{"name": name, "code": code} for code, name in ALL_CHANNELS.items()]}

    def connected_channels_json(self) -> dict[str, object]:
        with self.lock:
            counts = {code: {"in_progress": 0, "succeeded": 0, "failed": 0} for code in CONNECTED_CHANNELS}
            for transaction in self.transactions.values():
                for detail in transaction.current_details():
                    counts[str(detail["channel_code"])][str(detail["state"])] += 1
            return {"channels": [{"name": CONNECTED_CHANNELS[c], "code": c, **counts[c]} for c in CONNECTED_CHANNELS]}

    # calendar updates ---------------------------------------------------------------------
    def _channel_refusal(self, change: RoomChange, channel: str) -> str | None:
        if channel in self.channel_failures:
            return self.channel_failures[channel]
        floor = self.price_floors.get(channel)
        prices: list[Decimal] = [p for v in change.days.values() if isinstance(p := v.get("price"), Decimal)]
        if floor is not None and prices and min(prices) < floor:
            return f"Price {min(prices)} {CURRENCY} is below the minimum price {floor} {CURRENCY} accepted by {CONNECTED_CHANNELS[channel]}."
        return None

    def apply_changes(self, changes: list[RoomChange]) -> str:
        """Apply validated changes; one transaction with a job per (room change, channel).
        A channel that refuses keeps its old prices and restrictions; availability is
        HotelRunner's own and always applies. A change with nothing to apply (every field it
        sent was ignored, or every date refused) makes no job."""
        with self.lock:
            transaction = Transaction(str(self._next_transaction), self.now())
            self._next_transaction += 1
            for change in changes:
                if not change.days:
                    continue
                for day, values in change.days.items():
                    if "availability" in values:
                        self.calendar.set_availability(change.inv_code, day, int(str(values["availability"])))
                for channel in change.channels:
                    refusal = self._channel_refusal(change, channel)
                    transaction.details.append(
                        job_detail(self._next_job, change.rate, channel, transaction.created_at, refusal)
                    )
                    if channel in self.channel_delays:
                        transaction.settles_at[len(transaction.details) - 1] = (
                            time.monotonic() + self.channel_delays[channel]
                        )
                    self._next_job += 1
                    if refusal:
                        continue
                    for day, values in change.days.items():
                        for name, value in values.items():
                            if name == "price":
                                self.calendar.set_price(change.rate, day, channel, value)  # type: ignore[arg-type]
                            elif name != "availability":
                                self.calendar.set_restriction(change.inv_code, day, channel, name, value)  # type: ignore[arg-type]
            self.transactions[transaction.id] = transaction
            return transaction.id

    def transaction_json(self, transaction_id: str) -> dict[str, object]:
        with self.lock:
            transaction = self.transactions.get(transaction_id)
            if transaction is None:
                raise not_found(f"Unknown transaction_id {transaction_id[:40]!r}.")
            return transaction.to_json()

    def calendar_snapshot(self, inv_code: str, day: date, rate_code: str | None = None) -> dict[str, object]:
        with self.lock:
            if rate_code is not None and (
                rate_code not in RATES_BY_CODE or RATES_BY_CODE[rate_code].room.inv_code != inv_code
            ):
                raise invalid(f"Unknown rate_code {rate_code!r} for room type {inv_code}.")
            return self.calendar.snapshot(inv_code, day, rate_code)

    # reservations: reading ----------------------------------------------------------------
    def get(self, hr_number: str) -> Reservation:
        reservation = self.reservations.get(hr_number)
        if reservation is None:
            raise not_found(f"Unknown reservation {hr_number[:40]!r}.")
        return reservation

    def list_reservations(
        self,
        *,
        from_date: date | None,
        from_last_update_date: date | None,
        number: str | None,
        undelivered: bool,
        modified: bool,
        per_page: int,
        page: int,
    ) -> dict[str, object]:
        """`reservation_number` finds that reservation whatever the other filters. Otherwise
        from_date (creation date, default 10 days ago) is clamped to 30 days back; per_page is
        clamped to 50; a page past the last is empty."""
        with self.lock:
            if number:
                found = [r for r in self.reservations.values() if number in (r.hr_number, r.provider_number)]
            else:
                oldest = self.today() - timedelta(days=LOOKBACK_DAYS)
                start = max(from_date or self.today() - timedelta(days=DEFAULT_FROM_DAYS), oldest)
                found = [
                    r
                    for r in self.reservations.values()
                    if hr_date(r.completed_at) >= start
                    and (from_last_update_date is None or hr_date(r.updated_at) >= from_last_update_date)
                    and (not undelivered or not r.delivered)
                    and (not modified or r.modified_pending)
                ]
            found.sort(key=lambda r: (r.completed_at, r.hr_number))
            per_page = min(per_page, MAX_PER_PAGE)
            chunk = found[(page - 1) * per_page : page * per_page]
            return {
                "reservations": [self.render(r) for r in chunk],
                "count": len(found),
                "current_page": page,
                "pages": math.ceil(len(found) / per_page),
            }

    # reservations: property actions ------------------------------------------------------
    def acknowledge(self, message_uid: str, pms_number: str | None) -> None:
        with self.lock:
            for reservation in self.reservations.values():
                if reservation.message_uid == message_uid:
                    reservation.delivered = True
                    reservation.modified_pending = False
                    if pms_number:
                        reservation.pms_number = pms_number
                    return
            raise not_found(f"Unknown message_uid {message_uid[:40]!r}.")

    def fire(self, hr_number: str, event: str, cancel_reason: str | None) -> Reservation:
        """Unknown event: 422; unknown reservation: 404. A cancel without a valid cancel_reason and
        a state change the reservation does not allow answer HTTP 200 with the documented
        `{"status": "error", "message": ...}` (raised as a plain SandboxError with status 200)."""
        with self.lock:
            if event not in ("confirm", "cancel"):
                raise invalid(f"Unknown event {event[:40]!r}; use confirm or cancel.")
            reservation = self.get(hr_number)
            if event == "cancel" and not cancel_reason:
                raise answered_error("cancel_reason_is_required")
            if event == "cancel" and cancel_reason not in CANCEL_REASONS:
                raise answered_error("invalid_cancel_reason")
            if not reservation.requires_response:
                raise answered_error("state_change_is_not_available")
            if event == "cancel":
                self._cancel(reservation, str(cancel_reason), new_message=False)
            else:
                reservation.state = "confirmed"
                reservation.updated_at = self.now()
            self._notify(reservation, event)
            return reservation

    # reservations: guests' side (seed and control) ---------------------------------------
    def _hold(self, reservation: Reservation, sign: int) -> None:
        for line in reservation.rooms:
            for night in nights_of(line.checkin, line.checkout):
                self.calendar.book(line.inv_code, night, sign)

    def _check_free(self, lines: list[tuple[str, date, date]], ignore: Reservation | None = None) -> None:
        if ignore is not None:
            self._hold(ignore, -1)
        try:
            need: dict[tuple[str, date], int] = {}
            for inv_code, checkin, checkout in lines:
                for night in nights_of(checkin, checkout):
                    need[(inv_code, night)] = need.get((inv_code, night), 0) + 1
            for (inv_code, night), rooms in sorted(need.items()):
                if self.calendar.availability(inv_code, night) < rooms:
                    raise invalid(f"No {inv_code} room left on {night}.", code="no_availability")
        finally:
            if ignore is not None:
                self._hold(ignore, +1)

    def _line(self, request: LineRequest, channel: str, checkin: date, checkout: date) -> RoomLine:
        rate = RATES_BY_CODE.get(request.rate_code)
        if rate is None:
            raise invalid(f"Unknown rate_code {request.rate_code!r}.")
        self._next_line += 1
        prices = [(night, self.calendar.price(rate, night, channel)) for night in nights_of(checkin, checkout)]
        return RoomLine(
            self._next_line,
            rate.room.inv_code,
            rate.rate_code,
            rate.name,
            rate.non_refundable,
            checkin,
            checkout,
            prices,
            request.adults,
            list(request.child_ages),
            list(request.extras),
            request.extra_info,
            rate.meal_plan,
        )

    def book(
        self,
        *,
        lines: list[LineRequest],
        checkin: date,
        checkout: date,
        channel: str,
        guest: Guest,
        state: str,
        completed_at: datetime | None = None,
        payment: str = "credit_card",
        prepaid: bool = False,
        note: str = "",
        adjustments: Decimal = Decimal(0),
        check_availability: bool = True,
    ) -> Reservation:
        with self.lock:
            if channel not in CONNECTED_CHANNELS:
                raise invalid(f"Unknown channel {channel!r}; connected: {', '.join(CONNECTED_CHANNELS)}.")
            if state not in ("reserved", "confirmed"):
                raise invalid("A new booking is 'reserved' or 'confirmed'.")
            if checkout <= checkin or not lines:
                raise invalid("A booking needs at least one room and one night (checkout after checkin).")
            built = [self._line(request, channel, checkin, checkout) for request in lines]
            if check_availability:
                self._check_free([(line.inv_code, checkin, checkout) for line in built])
            now = completed_at or self.now()
            hr_number = self.new_hr_number()
            self._next_reservation += 1
            reservation = Reservation(
                hr_number=hr_number,
                provider_number=self.provider_number(channel),
                channel=channel,
                state=state,
                firstname=guest.firstname,
                lastname=guest.lastname,
                email=guest.email,
                phone=guest.phone,
                country=guest.country,
                city=guest.city,
                street=guest.street,
                payment=payment,
                completed_at=now,
                updated_at=now,
                rooms=built,
                message_uid=self.new_message_uid(),
                note=note,
                adjustments_total=adjustments,
                reservation_id=self._next_reservation,
            )
            if prepaid:
                reservation.paid_amount = reservation.total
            self.reservations[hr_number] = reservation
            self._hold(reservation, +1)
            self._notify(reservation, "confirm")
            return reservation

    def _redeliver(self, reservation: Reservation, at: datetime | None = None) -> None:
        reservation.updated_at = at or self.now()
        reservation.message_uid = self.new_message_uid()
        reservation.delivered = False

    def modify(
        self,
        hr_number: str,
        *,
        checkin: date | None = None,
        checkout: date | None = None,
        note: str | None = None,
        adults: int | None = None,
        at: datetime | None = None,
    ) -> Reservation:
        """The guest changes the stay (dates, guests, note) on the channel: re-priced, modified,
        undelivered under a new message_uid."""
        with self.lock:
            reservation = self.get(hr_number)
            if reservation.state == "canceled":
                raise invalid(f"Reservation {hr_number} is canceled; it cannot be modified.")
            new_in, new_out = checkin or reservation.checkin, checkout or reservation.checkout
            if new_out <= new_in:
                raise invalid("checkout must be after checkin.")
            if (new_in, new_out) != (reservation.checkin, reservation.checkout):
                self._check_free([(line.inv_code, new_in, new_out) for line in reservation.rooms], ignore=reservation)
            self._hold(reservation, -1)
            rebuilt = []
            for line in reservation.rooms:
                request = LineRequest(
                    line.rate_code, adults or line.adults, line.child_ages, line.extras, line.extra_info
                )
                new_line = self._line(request, reservation.channel, new_in, new_out)
                new_line.line_id = line.line_id
                rebuilt.append(new_line)
            reservation.rooms = rebuilt
            self._hold(reservation, +1)
            if note is not None:
                reservation.note = note
            reservation.modified = reservation.modified_pending = True
            self._redeliver(reservation, at)
            self._notify(reservation, "modify")
            return reservation

    def _cancel(self, reservation: Reservation, reason: str, *, new_message: bool) -> None:
        if reservation.state == "canceled":
            raise invalid(
                f"Reservation {reservation.hr_number} is already canceled.", code="state_change_is_not_available"
            )
        self._hold(reservation, -1)
        reservation.state = "canceled"
        reservation.cancel_reason = reason
        if new_message:
            self._redeliver(reservation)
        else:
            reservation.updated_at = self.now()

    def cancel(self, hr_number: str, reason: str = "customer") -> Reservation:
        """The guest (or the channel) cancels: undelivered under a new message_uid."""
        with self.lock:
            self._cancel(self.get(hr_number), reason, new_message=True)
            self._notify(self.reservations[hr_number], "cancel")
            return self.reservations[hr_number]
