"""Reservation questions through a real MCP session: after one sync, every stay-date question, guest
search, filter, number lookup and occupancy figure costs zero upstream requests, and the answers match
the sandbox's own bookings (expected values are computed from the sandbox, never from our mirror)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hotelrunner_mcp.commands.sandbox_link import sandbox_room_counts
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect, upstream, utc_today

LOOKBACK_DAYS = 30  # HotelRunner lists bookings made in the last 30 days


def booked(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """Every booking HotelRunner can list (made in the look-back window), as the sandbox holds it."""
    oldest = utc_today() - timedelta(days=LOOKBACK_DAYS)
    return [r for r in sandbox.control.reservations() if date.fromisoformat(str(r["completed_at"])[:10]) >= oldest]


def day(value: object) -> date:
    return date.fromisoformat(str(value))


def numbers(answer: dict[str, Any]) -> set[str]:
    return {r["hr_number"] for r in answer["reservations"]}


async def ask(mcp: Session, **arguments: Any) -> set[str]:
    """hr_numbers of every match (the limit is above the sandbox's bookings), checking `matching`."""
    answer = await mcp.ok("get_reservations", limit=200, **arguments)
    assert answer["quota_spent"] == 0 and answer["sync"] is None
    every = await mcp.every("get_reservations", "reservations", limit=200, **arguments)
    assert answer["matching"] == len(every)
    return {r["hr_number"] for r in every}


def busiest(days: list[date]) -> date:
    """The date that occurs most often (ties: the earliest), so the question has several answers."""
    counts = Counter(days)
    return min(counts, key=lambda d: (-counts[d], d))


@pytest.fixture
def guest_number(sandbox: RunningSandbox) -> str:
    """A booking by a guest with an accented name, made before the first sync."""
    made = sandbox.control.create_booking(
        inv_code="FAMSTE", checkin=utc_today() + timedelta(days=150), nights=3, guest_name="Jürgen Müller-Lüdenscheidt"
    )
    return str(made["hr_number"])


async def test_one_sync_then_every_question_is_free_and_matches_the_sandbox(
    sandbox: RunningSandbox, roomy_settings: Settings, guest_number: str
) -> None:
    truth = booked(sandbox)
    async with connect(roomy_settings) as mcp:
        first = await mcp.ok("get_reservations", limit=1)
        assert first["sync"]["mode"] == "backfill" and first["matching"] == len(truth)
        spent = len(upstream(sandbox))
        assert spent == first["sync"]["requests"] == -(-len(truth) // 50)

        arrival = busiest([day(r["checkin_date"]) for r in truth])
        assert await ask(mcp, arriving_from=arrival, arriving_to=arrival) == {
            r["hr_number"] for r in truth if day(r["checkin_date"]) == arrival
        }
        departure = busiest([day(r["checkout_date"]) for r in truth])
        assert await ask(mcp, departing_from=departure, departing_to=departure) == {
            r["hr_number"] for r in truth if day(r["checkout_date"]) == departure
        }
        night = utc_today() + timedelta(days=10)
        in_house = {r["hr_number"] for r in truth if day(r["checkin_date"]) <= night < day(r["checkout_date"])}
        assert in_house and await ask(mcp, in_house_on=night) == in_house
        week_start, week_end = utc_today() + timedelta(days=7), utc_today() + timedelta(days=13)
        overlapping = {
            r["hr_number"] for r in truth if day(r["checkin_date"]) <= week_end and day(r["checkout_date"]) > week_start
        }
        assert await ask(mcp, stay_from=week_start, stay_to=week_end) == overlapping

        assert await ask(mcp, guest="muller-ludenscheidt") == {guest_number}
        assert await ask(mcp, guest="MÜLLER") == {r["hr_number"] for r in truth if "müller" in str(r["guest"]).lower()}
        assert await ask(mcp, channel="expedia") == {r["hr_number"] for r in truth if r["channel"] == "expedia"}
        on_booking_com = {r["hr_number"] for r in truth if r["channel"] == "bookingcom"}
        assert await ask(mcp, channel="Booking.com") == on_booking_com  # the name people write finds the code
        with_triple = {r["hr_number"] for r in truth if any(line["inv_code"] == "DLXTRP" for line in r["rooms"])}
        assert with_triple and await ask(mcp, room="dlxtrp") == with_triple
        canceled = {r["hr_number"] for r in truth if r["state"] == "canceled"}
        assert canceled and await ask(mcp, state="canceled") == canceled
        arriving_on_booking = await ask(mcp, channel="bookingcom", state="confirmed", arriving_from=utc_today())
        assert arriving_on_booking == {
            r["hr_number"]
            for r in truth
            if r["channel"] == "bookingcom" and r["state"] == "confirmed" and day(r["checkin_date"]) >= utc_today()
        }

        on_booking = next(r for r in truth if r["channel"] == "bookingcom")
        for number in (on_booking["hr_number"], on_booking["provider_number"]):
            found = await mcp.ok("get_reservations", number=number)
            assert numbers(found) == {on_booking["hr_number"]} and found["quota_spent"] == 0
            assert found["reservations"][0]["channel_number"] == on_booking["provider_number"]
            assert found["reservations"][0]["guest"] == on_booking["guest"]

        assert len(upstream(sandbox)) == spent, "questions after the sync must not reach HotelRunner"


async def test_limit_and_sort_show_the_first_arrivals_and_count_them_all(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    upcoming = sorted(
        (r for r in booked(sandbox) if day(r["checkin_date"]) >= utc_today()),
        key=lambda r: (r["checkin_date"], r["hr_number"]),
    )
    async with connect(roomy_settings) as mcp:
        answer = await mcp.ok("get_reservations", arriving_from=utc_today(), limit=5)
        assert answer["matching"] == len(upcoming)
        assert [r["hr_number"] for r in answer["reservations"]] == [r["hr_number"] for r in upcoming[:5]]
        latest = await mcp.ok("get_reservations", arriving_from=utc_today(), sort="checkin", descending=True, limit=1)
        assert latest["reservations"][0]["checkin"] == upcoming[-1]["checkin_date"]
        assert latest["quota_spent"] == 0


def expected_occupancy(
    truth: list[dict[str, Any]], start: date, end: date
) -> dict[tuple[date, str], tuple[int, Decimal]]:
    """(night, room type) -> (rooms sold, revenue) from the sandbox's nightly prices, canceled excluded."""
    cells: dict[tuple[date, str], tuple[int, Decimal]] = {}
    for reservation in truth:
        if reservation["state"] == "canceled":
            continue
        for line in reservation["rooms"]:
            for nightly in line["daily_prices"]:
                night = day(nightly["date"])
                if start <= night <= end:
                    sold, revenue = cells.get((night, line["inv_code"]), (0, Decimal(0)))
                    cells[(night, line["inv_code"])] = (sold + 1, revenue + Decimal(str(nightly["price"])))
    return cells


async def test_occupancy_matches_the_sandbox_bookings_at_zero_cost(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    start, end = utc_today() + timedelta(days=7), utc_today() + timedelta(days=36)
    expected = expected_occupancy(booked(sandbox), start, end)
    rooms = sandbox_room_counts()
    async with connect(roomy_settings) as mcp:
        await mcp.ok("get_reservations", limit=1)
        spent = len(upstream(sandbox))
        answer = await mcp.ok("get_occupancy", start=start, end=end, include_nights=True)
        first, rows, pages = answer, list(answer["nights"]), 1
        while answer["next_start"]:  # more night rows than an answer holds: ask for the rest, as left_out says
            assert f"start={answer['next_start']}" in answer["left_out"]
            answer = await mcp.ok("get_occupancy", start=answer["next_start"], end=end, include_nights=True)
            rows, pages = rows + answer["nights"], pages + 1
        assert answer["quota_spent"] == 0 and len(upstream(sandbox)) == spent

    assert pages > 1 and len(rows) == 30 * len(rooms), "30 nights of every room type, each once"
    got = {(day(n["night"]), n["room"]): (n["sold"], Decimal(n["revenue"])) for n in rows if n["sold"]}
    assert got == expected
    assert all(n["rooms"] == rooms[n["room"]] for n in rows)
    sold = sum(s for s, _ in expected.values())
    revenue = sum((r for _, r in expected.values()), Decimal(0))
    nights = (end - start).days + 1
    totals = first["totals"]  # the whole range's totals, in every page of it
    assert totals["room_nights_sold"] == sold
    assert totals["room_nights_available"] == nights * sum(rooms.values())
    assert Decimal(totals["revenue"]) == revenue
    assert Decimal(totals["adr"]) == (revenue / sold).quantize(Decimal("0.01"))
    assert totals["occupancy_pct"] == round(100 * sold / (nights * sum(rooms.values())), 1)


async def test_occupancy_of_one_room_type_forgives_case_and_refuses_an_unknown_type_for_free(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    start, end = utc_today() + timedelta(days=7), utc_today() + timedelta(days=20)
    async with connect(roomy_settings) as mcp:
        message = await mcp.error("get_occupancy", start=start, end=end, room="DLXT")
        assert "DLXTRP" in message and upstream(sandbox) == []  # refused before any request
        whole = await mcp.ok("get_occupancy", start=start, end=end)
        one = await mcp.ok("get_occupancy", start=start, end=end, room="dlxtrp")
    assert one["totals"] == whole["by_room"]["DLXTRP"] and set(one["by_room"]) == {"DLXTRP"}
    assert {n["room"] for n in one["nights"]} == {"DLXTRP"} and len(one["nights"]) == (end - start).days + 1


async def test_while_hotelrunner_is_down_questions_are_answered_from_the_mirror_and_say_so(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    next_week = utc_today() + timedelta(days=7)
    async with connect(roomy_settings.with_overrides(mirror_max_age_seconds=0)) as mcp:  # every question wants a sync
        before = await mcp.ok("get_reservations", arriving_from=utc_today(), arriving_to=next_week)
        sandbox.control.add_fault("503", paths=["/reservations"])  # HotelRunner down from now on
        sandbox.control.clear_requests()

        during = await mcp.ok("get_reservations", arriving_from=utc_today(), arriving_to=next_week)
        occupancy = await mcp.ok("get_occupancy", start=utc_today(), end=next_week)
        guests = await mcp.ok("get_reservations", guest="a")
        for answer in (during, occupancy, guests):
            assert "the sync due now failed" in answer["freshness"] and "503" in answer["freshness"]
        assert during["reservations"] == before["reservations"]
        assert occupancy["totals"]["room_nights_sold"] > 0 and guests["matching"] > 0
        # one failed sync (a read is retried once), not one per question
        assert [r.status for r in upstream(sandbox)] == [503, 503]

        assert "503" in await mcp.error("get_reservations", refresh=True)  # asked for fresh data: told it failed


async def test_a_year_of_occupancy_by_default_is_totals_and_weeks_and_says_how_to_get_the_nights(
    sandbox: RunningSandbox, roomy_settings: Settings
) -> None:
    start = utc_today()
    end = start + timedelta(days=365)
    async with connect(roomy_settings) as mcp:
        year = await mcp.call("get_occupancy", start=start, end=end)
        nights = await mcp.ok("get_occupancy", start=start, end=end, include_nights=True)
        week = await mcp.ok("get_occupancy", start=start, end=start + timedelta(days=6))
    answer = year.data
    assert not year.is_error and answer is not None
    assert answer["nights"] == [] and len(answer["weeks"]) == 53
    assert answer["weeks"][0]["start"] == str(start) and answer["weeks"][-1]["end"] == str(end)
    assert sum(w["sold"] for w in answer["weeks"]) == answer["totals"]["room_nights_sold"] > 0
    assert answer["totals"] == nights["totals"] and len(nights["nights"]) > 64
    assert "include_nights=true" in answer["left_out"]
    assert len(year.text) < 16_000  # ~4k tokens of text, whatever the range
    assert week["weeks"] == [] and week["left_out"] is None and len(week["nights"]) == 7 * len(week["by_room"])
