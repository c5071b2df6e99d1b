"""Seed bookings that look like Villa Thaifa's month: about 90 reservations (100 tries; a stay with no room left is dropped) made over the last
30 days for stays over the next 120 days, deterministic for a seed and a date. Lines use the
master rates (rate_code == inv_code), the NR:<inv> rates and the HB:<inv> rates; never the
Default Room (HR:99)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from hotelrunner_mcp.sandbox.catalog import HALF_BOARD_ROOMS, ROOM_TYPES, RoomType
from hotelrunner_mcp.sandbox.errors import SandboxError
from hotelrunner_mcp.sandbox.guests import random_guest
from hotelrunner_mcp.sandbox.reservation import Extra
from hotelrunner_mcp.sandbox.state import LineRequest, SandboxState

SEED_BOOKINGS = 100
EXTRAS = (
    ("Airport transfer (RAK)", Decimal("35")),
    ("Hammam and massage", Decimal("60")),
    ("Dinner on the terrace", Decimal("45")),
    ("Cooking class", Decimal("55")),
    ("Day trip to the Atlas mountains", Decimal("80")),
)
NOTES = (
    "Arriving late, around 23:00.",
    "Honeymoon: flowers in the room if possible.",
    "Vegetarian breakfast please.",
    "Travelling with a baby, a cot is needed.",
    "Ground floor room if possible, my mother uses a cane.",
    "Please arrange a pickup at Marrakech airport, flight AT 805.",
    "We would like to book the hammam on the first evening.",
    "Allergic to nuts.",
)
CHANNEL_WEIGHTS = {"bookingcom": 55, "expedia": 25, "online": 20}


def _room_choices(rng: random.Random, count: int) -> list[RoomType]:
    weights = [room.rooms for room in ROOM_TYPES]
    first = rng.choices(ROOM_TYPES, weights=weights)[0]
    return [first] if count == 1 else [first, rng.choices(ROOM_TYPES, weights=weights)[0]]


def _line(rng: random.Random, room: RoomType, non_refundable: bool, nights: int) -> LineRequest:
    adults = rng.randint(1, min(room.adult_capacity, 3))
    children = [rng.randint(2, 12) for _ in range(rng.choice((0, 0, 0, 1, 2)))][: room.room_capacity - adults]
    extras = [Extra(*rng.choice(EXTRAS)) for _ in range(rng.choice((0, 0, 0, 1, 2)))]
    if rng.random() < 0.25:
        extras.append(Extra("Breakfast", Decimal("12") * (adults + len(children)) * nights))
    info = rng.choice(("", "", "Twin beds requested.", "Late check-out asked."))
    if non_refundable:
        rate_code = f"NR:{room.inv_code}"
    elif room.inv_code in HALF_BOARD_ROOMS and rng.random() < 0.3:
        rate_code = f"HB:{room.inv_code}"
    else:
        rate_code = room.inv_code  # the master rate
    return LineRequest(rate_code, adults, children, extras, info)


def populate(state: SandboxState, count: int = SEED_BOOKINGS, *, check_availability: bool = True) -> None:
    """Fill `state` with bookings; uses its rng so the same seed gives the same month. Without
    `check_availability` every try becomes a booking (rooms may be overbooked): exactly `count` of them."""
    rng = state.rng
    now = state.now()
    today = now.date()
    made = sorted(now - timedelta(seconds=rng.randint(600, 30 * 86400 - 600)) for _ in range(count))
    for completed_at in made:
        channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        lead = rng.choice((0, 1, 2, 4, 7, 10, 14, 21, 30, 45, 60, 90, 110))
        checkin = min(completed_at.date() + timedelta(days=lead + rng.randint(0, 6)), today + timedelta(days=115))
        nights = rng.choices((1, 2, 3, 4, 5, 7), weights=(10, 30, 25, 15, 12, 8))[0]
        non_refundable = channel != "online" and rng.random() < 0.25
        lines = [
            _line(rng, room, non_refundable, nights) for room in _room_choices(rng, 2 if rng.random() < 0.15 else 1)
        ]
        fresh = now - completed_at < timedelta(days=4)
        state_name = "reserved" if fresh and (channel == "online" or rng.random() < 0.4) else "confirmed"
        payment = "credit_card" if channel != "online" else rng.choice(("bank_transfer", "paypal", "cash"))
        try:
            reservation = state.book(
                lines=lines,
                checkin=checkin,
                checkout=checkin + timedelta(days=nights),
                channel=channel,
                guest=random_guest(rng),
                state=state_name,
                completed_at=completed_at,
                payment=payment,
                prepaid=channel == "expedia" or non_refundable or payment == "paypal",
                note=rng.choice(NOTES) if rng.random() < 0.4 else "",
                check_availability=check_availability,
            )
        except SandboxError:  # no room left for that stay: the guest booked elsewhere
            continue
        if channel == "online" and rng.random() < 0.3:
            reservation.adjustments_total = -(reservation.sub_total * Decimal("0.05")).quantize(Decimal("0.01"))
            if reservation.paid_amount:  # prepaid: the guest paid the discounted total
                reservation.paid_amount = reservation.total
        last_event = completed_at
        roll = rng.random()
        if roll < 0.12:
            last_event = completed_at + (now - completed_at) * rng.random()
            state.cancel(reservation.hr_number, rng.choice(("customer", "customer", "no_show", "invalid_price")))
        elif roll < 0.26 and reservation.checkin > today:
            last_event = completed_at + (now - completed_at) * rng.random()
            shift = timedelta(days=rng.choice((-1, 1, 2)))
            try:
                state.modify(
                    reservation.hr_number, checkin=reservation.checkin + shift, checkout=reservation.checkout + shift
                )
            except SandboxError:
                last_event = completed_at
        reservation.updated_at = max(last_event.replace(microsecond=0), reservation.completed_at)
        old = now - last_event > timedelta(days=2)
        reservation.delivered = old and rng.random() < 0.92
        reservation.modified_pending = reservation.modified and not reservation.delivered
