"""Calendar changes: validation refuses bad input with clear messages; compilation is minimal and exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from hotelrunner_mcp.calendar.compiler import (
    CalendarChange,
    CalendarPlan,
    CalendarValidationError,
    compile_plan,
    fingerprint,
    property_today,
    validate_changes,
)
from hotelrunner_mcp.errors import InvalidRequest
from hotelrunner_mcp.hotelrunner.models import CALENDAR_FIELDS, MAX_DAILY_DATES, CalendarValues, Room

TODAY = date(2026, 12, 1)  # a Tuesday
CHANNELS = ["bookingcom", "expedia", "online"]
ROOM_TYPES = {
    "DTRIPLE": "Deluxe Triple",
    "DDOUBLE": "Deluxe Double",
    "DSUP": "Double Room Superior",
    "EXEC": "Executive Suite",
    "DKING": "Deluxe King Suite",
    "FAMILY": "Family Suite",
    "SUITE": "Suite",
    "PRES": "Presidential Suite",
}


def _rooms() -> list[Room]:
    """Villa Thaifa as GET /rooms shows it (the documented code scheme): per room type a master rate whose
    code is the inv_code, a derived NR rate, and on two rooms a half-board rate that takes only a price;
    plus HotelRunner's Default Room, the only rate marked is_master."""
    rooms = []
    for inv, name in ROOM_TYPES.items():
        common = {"inv_code": inv, "channel_codes": CHANNELS, "sales_currency": "EUR"}
        rooms.append(
            Room(
                **common,
                rate_code=inv,
                name=name,
                is_master=False,
                availability_update=True,
                restrictions_update=True,
                price_update=True,
            )
        )
        rooms.append(
            Room(
                **common,
                rate_code=f"NR:{inv}",
                name=f"{name} non-refundable",
                is_master=False,
                availability_update=False,
                restrictions_update=False,
                price_update=False,
            )
        )
        if inv in ("SUITE", "FAMILY"):
            rooms.append(
                Room(
                    **common,
                    rate_code=f"HB:{inv}",
                    name=f"{name} half board",
                    is_master=False,
                    availability_update=False,
                    restrictions_update=False,
                    price_update=True,
                )
            )
    rooms.append(
        Room(
            inv_code="HR:99",
            rate_code="HR:99",
            name="Default Room",
            is_master=True,
            availability_update=False,
            restrictions_update=False,
            price_update=False,
            channel_codes=["online"],
        )
    )
    return rooms


ROOMS = _rooms()


def change(**kwargs: Any) -> CalendarChange:
    kwargs.setdefault("room", "SUITE")
    kwargs.setdefault("start_date", TODAY)
    kwargs.setdefault("end_date", kwargs["start_date"])
    return CalendarChange(**kwargs)


def plan_for(*changes: CalendarChange, rooms: list[Room] = ROOMS) -> CalendarPlan:
    return compile_plan(validate_changes(changes, rooms, today=TODAY))


def applied(plan: CalendarPlan) -> dict[tuple[str, str | None, str, date], dict[str, Any]]:
    """What HotelRunner would hold after the plan's requests, in order, per channel and date."""
    calendar: dict[tuple[str, str | None, str, date], dict[str, Any]] = {}

    def put(inv: str, rate: str | None, channels: list[str] | None, day: date, model: CalendarValues) -> None:
        values = {k: v for k, v in model.set_fields().items() if k in CALENDAR_FIELDS}
        for channel in channels or CHANNELS:
            calendar.setdefault((inv, rate, channel, day), {}).update(values)

    for request in plan.requests:
        if request.kind == "daily":
            for entry in request.payload:
                assert len(entry.dates) <= MAX_DAILY_DATES
                for d in entry.dates:
                    put(entry.inv_code, entry.rate_code, entry.channel_codes, d.date, d)
        else:
            r = request.payload
            day = r.start_date
            while day <= r.end_date:
                if r.days is None or (day.weekday() + 1) % 7 in r.days:
                    put(r.inv_code, r.rate_code, r.channel_codes, day, r)
                day += timedelta(days=1)
    return calendar


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def problems_of(*changes: CalendarChange, rooms: list[Room] = ROOMS) -> list[str]:
    with pytest.raises(CalendarValidationError) as caught:
        validate_changes(changes, rooms, today=TODAY)
    assert isinstance(caught.value, InvalidRequest)
    assert "nothing was sent" in str(caught.value)
    return caught.value.problems


# --------------------------------------------------------------------------- compilation


MONTHS = [
    (date(2026, 12, 1), date(2026, 12, 31)),
    (date(2027, 1, 1), date(2027, 1, 31)),
    (date(2027, 2, 1), date(2027, 2, 28)),
    (date(2027, 3, 1), date(2027, 3, 30)),
]  # 120 days


def test_three_rooms_120_days_monthly_prices_cost_two_daily_calls() -> None:
    changes = [
        change(room=room, start_date=start, end_date=end, price=Decimal(150 + 10 * m + r))
        for r, room in enumerate(["DTRIPLE", "DDOUBLE", "SUITE"])
        for m, (start, end) in enumerate(MONTHS)
    ]
    plan = plan_for(*changes)

    assert plan.request_count == 2
    assert [r.kind for r in plan.requests] == ["daily", "daily"]
    assert all(len(r.payload) == 3 for r in plan.requests)  # several rooms per call
    assert plan.date_count == 360 and plan.naive_request_count == 360
    calendar = applied(plan)
    assert len(calendar) == 3 * 120 * len(CHANNELS)
    assert calendar[("DDOUBLE", "DDOUBLE", "expedia", date(2027, 2, 14))] == {"price": Decimal(171)}
    assert calendar[("SUITE", "SUITE", "online", date(2027, 3, 30))] == {"price": Decimal(182)}


def test_a_uniform_long_range_is_one_range_request() -> None:
    plan = plan_for(change(start_date=TODAY, end_date=TODAY + timedelta(days=199), price=Decimal("179.50"), min_stay=2))

    assert plan.request_count == 1
    (request,) = plan.requests
    assert request.kind == "range"
    r = request.payload
    assert (r.inv_code, r.rate_code, r.start_date, r.end_date) == ("SUITE", "SUITE", TODAY, TODAY + timedelta(days=199))
    assert r.days is None and r.channel_codes is None
    assert (r.price, r.min_stay, r.availability, r.stop_sale) == (Decimal("179.50"), 2, None, None)


def test_a_short_uniform_range_is_one_request() -> None:
    plan = plan_for(change(start_date=TODAY, end_date=TODAY + timedelta(days=29), stop_sale=True))
    assert plan.request_count == 1
    assert len(applied(plan)) == 30 * len(CHANNELS)


def test_91_varying_dates_split_into_two_daily_calls_of_at_most_90() -> None:
    changes = [
        change(start_date=d, price=Decimal(150 + i % 2)) for i, d in enumerate(days(TODAY, TODAY + timedelta(days=90)))
    ]
    plan = plan_for(*changes)

    assert plan.request_count == 2
    assert sorted(r.date_count for r in plan.requests) == [1, 90]
    assert len(applied(plan)) == 91 * len(CHANNELS)


def test_weekend_pricing_over_a_year_uses_two_weekday_ranges() -> None:
    start, end = TODAY, TODAY + timedelta(days=364)
    plan = plan_for(
        change(start_date=start, end_date=end, weekdays=["sun", "mon", "tue", "wed", "thu"], price=Decimal(169)),
        change(start_date=start, end_date=end, weekdays=["fri", "sat"], price=Decimal(199)),
    )

    assert plan.request_count == 2  # instead of ceil(365 / 90) = 5 daily calls
    assert sorted(r.payload.days for r in plan.requests) == [[0, 1, 2, 3, 4], [5, 6]]  # Sunday = 0
    calendar = applied(plan)
    assert calendar[("SUITE", "SUITE", "online", date(2026, 12, 4))] == {"price": Decimal(199)}  # a Friday
    assert calendar[("SUITE", "SUITE", "online", date(2026, 12, 6))] == {"price": Decimal(169)}  # a Sunday
    assert len(calendar) == 365 * len(CHANNELS)


def test_all_rooms_a_year_of_weekend_pricing_costs_five_calls() -> None:
    end = TODAY + timedelta(days=364)
    changes = []
    for inv in ROOM_TYPES:
        changes.append(change(room=inv, end_date=end, price=Decimal(160)))
        changes.append(change(room=inv, end_date=end, weekdays=["fri", "sat"], price=Decimal(190)))
    plan = plan_for(*changes)

    assert plan.request_count == 5  # 8 x 2 ranges would be 16
    assert plan.naive_request_count == 8 * 365
    assert len(applied(plan)) == 8 * 365 * len(CHANNELS)


def test_a_range_is_used_only_where_it_saves_a_call() -> None:
    long_uniform = change(room="PRES", end_date=TODAY + timedelta(days=299), price=Decimal(449))
    varied = [
        change(room="DKING", start_date=d, price=Decimal(300 + i))
        for i, d in enumerate(days(TODAY, TODAY + timedelta(days=59)))
    ]
    plan = plan_for(long_uniform, *varied)

    assert sorted(r.kind for r in plan.requests) == ["daily", "range"]
    assert len(applied(plan)) == 360 * len(CHANNELS)


def test_later_changes_override_earlier_ones() -> None:
    plan = plan_for(
        change(start_date=date(2026, 12, 1), end_date=date(2026, 12, 31), price=Decimal(150), min_stay=2),
        change(start_date=date(2026, 12, 24), end_date=date(2026, 12, 26), price=Decimal(220)),
    )

    assert plan.request_count == 1
    calendar = applied(plan)
    assert calendar[("SUITE", "SUITE", "bookingcom", date(2026, 12, 25))] == {"price": Decimal(220), "min_stay": 2}
    assert calendar[("SUITE", "SUITE", "bookingcom", date(2026, 12, 27))] == {"price": Decimal(150), "min_stay": 2}
    assert "Later changes override it on 3 of its 31 dates" in plan.descriptions[0]


def test_a_fully_overridden_change_is_called_out() -> None:
    plan = plan_for(change(price=Decimal(150)), change(price=Decimal(160)))
    assert "it has no effect" in plan.descriptions[0]
    assert applied(plan)[("SUITE", "SUITE", "expedia", TODAY)] == {"price": Decimal(160)}


def test_channel_specific_prices_never_overlap_the_all_channel_price() -> None:
    plan = plan_for(
        change(end_date=TODAY + timedelta(days=9), price=Decimal(150)),
        change(end_date=TODAY + timedelta(days=9), price=Decimal(165), channels=["bookingcom"]),
    )

    entries = [e for r in plan.requests for e in (r.payload if r.kind == "daily" else [r.payload])]
    assert sorted(tuple(e.channel_codes or ()) for e in entries) == [("bookingcom",), ("expedia", "online")]
    calendar = applied(plan)
    assert calendar[("SUITE", "SUITE", "bookingcom", TODAY)] == {"price": Decimal(165)}
    assert calendar[("SUITE", "SUITE", "expedia", TODAY)] == {"price": Decimal(150)}


def test_weekdays_limit_the_dates() -> None:
    plan = plan_for(
        change(start_date=date(2026, 12, 1), end_date=date(2026, 12, 14), weekdays=["sat", "sun"], cta=True)
    )
    touched = sorted({key[3] for key in applied(plan)})
    assert touched == [date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 12), date(2026, 12, 13)]


def test_listing_every_channel_is_the_same_as_omitting_channels() -> None:
    plan = plan_for(change(price=Decimal(150), channels=["online", "bookingcom", "expedia"]))
    assert plan.requests[0].payload[0].channel_codes is None


def test_descriptions_say_everything_in_plain_words() -> None:
    plan = plan_for(
        change(
            room="DKING",
            start_date=date(2026, 12, 1),
            end_date=date(2026, 12, 31),
            weekdays=["fri", "sat"],
            channels=["bookingcom"],
            price=Decimal(329),
            stop_sale=False,
        )
    )
    text = plan.descriptions[0]
    for part in (
        "Deluxe King Suite (DKING)",
        "DKING",
        "price 329.00 EUR",
        "open for sale",
        "2026-12-01 to 2026-12-31",
        "Fri, Sat (8 dates)",
        "bookingcom only",
    ):
        assert part in text
    assert plan.requests[0].summary.startswith("PUT /rooms/")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"room": "PENTHOUSE", "price": 100},
            "changes[0].room: unknown room 'PENTHOUSE'; known inv_codes: DDOUBLE, DKING",
        ),
        ({"room": "suite", "price": 100}, "unknown room 'suite'; did you mean 'SUITE'? known inv_codes"),
        (
            {"rate_code": "SUITE-XX", "price": 100},
            "changes[0].rate_code: room SUITE has no rate 'SUITE-XX'; its rates: SUITE, NR:SUITE",
        ),
        ({"rate_code": "PRES", "price": 100}, "(that rate belongs to PRES)"),
        ({"price": -5}, "changes[0].price: must be greater than 0, got -5"),
        ({"price": 0}, "changes[0].price: must be greater than 0, got 0"),
        ({"price": "12.345"}, "changes[0].price: at most 2 decimals, got 12.345"),
        ({"price": 5_000_000}, "not a plausible nightly price"),
        ({"availability": -1}, "changes[0].availability: must be 0 or more, got -1"),
        ({"min_stay": 0}, "changes[0].min_stay: must be 1 to 365 nights, got 0"),
        ({"max_stay": 0}, "changes[0].max_stay: must be 1 to 365 nights, got 0"),
        ({"min_stay": 5, "max_stay": 3}, "changes[0].min_stay: 5 is above max_stay 3"),
        ({}, "changes[0]: sets nothing; give at least one of availability, price"),
        (
            {"start_date": TODAY - timedelta(days=1), "price": 100},
            "changes[0].start_date: 2026-11-30 is in the past (today is 2026-12-01",
        ),
        (
            {"end_date": TODAY - timedelta(days=1), "price": 100},
            "changes[0].end_date: end_date (2026-11-30) is before start_date (2026-12-01); swap the two",
        ),
        ({"end_date": TODAY + timedelta(days=400), "price": 100}, "covers 401 days, more than 366; split it"),
        (
            {"start_date": TODAY + timedelta(days=731), "price": 100},
            "too far ahead; the last date that can be changed is 2028-11-30",
        ),
        (
            {"weekdays": ["sat"], "price": 100},
            "changes[0].weekdays: sat never occurs between 2026-12-01 and 2026-12-01",
        ),
        (
            {"end_date": TODAY + timedelta(days=9), "weekdays": ["fri", "fri"], "price": 100},
            "changes[0].weekdays: fri given more than once",
        ),
        ({"weekdays": [], "price": 100}, "changes[0].weekdays: empty list"),
        (
            {"channels": ["airbnb"], "price": 100},
            "changes[0].channels: airbnb not connected to rate SUITE; its channels: bookingcom, expedia, online",
        ),
        ({"channels": [], "price": 100}, "changes[0].channels: empty list"),
        ({"channels": ["online", "online"], "price": 100}, "changes[0].channels: online given more than once"),
        (
            {"rate_code": "NR:SUITE", "price": 100},
            "changes[0].price: rate NR:SUITE of room SUITE does not accept price updates (price_update is off); "
            "it is a derived rate (non-refundable) that follows its parent rate SUITE, so change rate_code 'SUITE' instead",
        ),
        (
            {"rate_code": "NR:SUITE", "stop_sale": True},
            "changes[0].stop_sale: rate NR:SUITE of room SUITE does not accept stop_sale updates",
        ),
    ],
)
def test_each_invalid_input_is_refused_with_a_clear_message(kwargs: dict[str, Any], expected: str) -> None:
    problems = problems_of(change(**kwargs))
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        change(price=100),
        change(room="NOPE", price=100),
        change(price=-1, min_stay=0),
        change(start_date=TODAY - timedelta(days=2), availability=-3),
    )
    assert len(problems) == 5
    assert [p.split(".")[0].split(":")[0] for p in problems] == [
        "changes[1]",
        "changes[2]",
        "changes[2]",
        "changes[3]",
        "changes[3]",
    ]


def test_no_changes_or_too_many_are_refused() -> None:
    assert problems_of() == ["changes: give at least one change"]
    (problem,) = problems_of(*[change(price=100)] * 5001)
    assert problem.startswith("changes: 5001 changes, at most 5000 per call")


def test_a_field_no_rate_allows_says_to_use_the_panel() -> None:
    rooms = [Room(inv_code="SUITE", rate_code="SUITE", price_update=False, channel_codes=CHANNELS)]
    (problem,) = problems_of(change(price=100), rooms=rooms)
    assert "no rate of room SUITE accepts price updates through the API" in problem


def test_a_field_another_rate_allows_names_that_rate() -> None:
    rooms = [
        Room(inv_code="SUITE", rate_code="SUITE", price_update=False, availability_update=True, channel_codes=CHANNELS),
        Room(
            inv_code="SUITE",
            rate_code="WEB",
            is_master=False,
            price_update=True,
            availability_update=True,
            channel_codes=CHANNELS,
        ),
    ]
    (problem,) = problems_of(change(price=100), rooms=rooms)
    assert problem.endswith("rate WEB can: set rate_code to 'WEB'")


def test_without_rate_code_the_master_rate_is_used() -> None:
    (resolved,) = validate_changes([change(price=100)], ROOMS, today=TODAY)
    assert resolved.rate_code == "SUITE"


def test_without_rate_code_the_only_updatable_rate_is_used() -> None:
    rooms = [
        Room(inv_code="SUITE", rate_code="BAR", price_update=True, channel_codes=CHANNELS),
        Room(
            inv_code="SUITE",
            rate_code="NR",
            price_update=False,
            availability_update=False,
            restrictions_update=False,
            channel_codes=CHANNELS,
        ),
    ]
    (resolved,) = validate_changes([change(price=100)], rooms, today=TODAY)
    assert resolved.rate_code == "BAR"


def test_without_rate_code_several_equal_rates_ask_for_one() -> None:
    rooms = [Room(inv_code="SUITE", rate_code=code, channel_codes=CHANNELS) for code in ("A", "B")]
    (problem,) = problems_of(change(price=100), rooms=rooms)
    assert (
        problem == "changes[0].rate_code: room SUITE has several rates (A, B) and no single master rate; set rate_code"
    )


def test_min_stay_above_max_stay_from_another_change_is_refused() -> None:
    (problem,) = problems_of(
        change(end_date=TODAY + timedelta(days=5), max_stay=3),
        change(start_date=TODAY + timedelta(days=2), end_date=TODAY + timedelta(days=7), min_stay=5),
    )
    assert problem.startswith(
        "changes[1].min_stay: above the max_stay set by changes[0] on 2026-12-03, 2026-12-04, 2026-12-05 and 1 more dates"
    )


def test_two_rates_of_a_room_cannot_set_different_availability() -> None:
    """Without a master rate, availability may go through any rate; two rates may not disagree."""
    rooms = [Room(inv_code="SUITE", rate_code=code, channel_codes=CHANNELS) for code in ("A", "B")]
    (problem,) = problems_of(change(rate_code="A", availability=1), change(rate_code="B", availability=2), rooms=rooms)
    assert problem.startswith("changes[1].availability: differs from changes[0] for the same room on 2026-12-01")


def test_availability_goes_through_the_room_types_master_rate_only() -> None:
    """Review finding: availability set through a second rate was sent by inv_code with that rate's
    channel list (and could be overtaken by request order): it is refused with how to set it."""
    rooms = [
        Room(inv_code="SUITE", rate_code="SUITE", channel_codes=CHANNELS),
        Room(inv_code="SUITE", rate_code="BB:SUITE", availability_update=True, channel_codes=["online"]),
    ]
    (problem,) = problems_of(change(rate_code="BB:SUITE", availability=0, channels=["online"]), rooms=rooms)
    assert "availability belongs to room SUITE" in problem and "omit rate_code" in problem


def test_impossible_dates_and_unknown_fields_are_refused_by_the_model() -> None:
    with pytest.raises(ValidationError, match="start_date"):
        CalendarChange(room="SUITE", start_date="2027-02-30", end_date="2027-03-01", price=100)
    with pytest.raises(ValidationError, match="colour"):
        CalendarChange(room="SUITE", start_date=TODAY, end_date=TODAY, price=100, colour="red")
    with pytest.raises(ValidationError, match="weekdays"):
        CalendarChange(room="SUITE", start_date=TODAY, end_date=TODAY, price=100, weekdays=["monday"])


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_ignores_spelling_but_not_meaning() -> None:
    base = change(
        end_date=TODAY + timedelta(days=9),
        price=Decimal(150),
        weekdays=["fri", "sat"],
        channels=["online", "bookingcom"],
    )
    same = change(
        end_date=TODAY + timedelta(days=9),
        price=Decimal("150.00"),
        weekdays=["sat", "fri"],
        channels=["bookingcom", "online"],
    )
    other_price = change(
        end_date=TODAY + timedelta(days=9),
        price=Decimal("150.01"),
        weekdays=["fri", "sat"],
        channels=["online", "bookingcom"],
    )
    first = change(price=Decimal(100))

    assert fingerprint([base]) == fingerprint([same])
    assert fingerprint([base]) != fingerprint([other_price])
    assert fingerprint([first, base]) != fingerprint([base, first])  # order decides which change wins
    assert len(fingerprint([base])) == 64


def test_today_is_the_property_date_in_morocco() -> None:
    late_evening_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 1 January in Marrakech (UTC+1)
    assert property_today(late_evening_utc) == date(2027, 1, 1)


def test_a_json_number_price_keeps_its_decimals() -> None:
    parsed = CalendarChange.model_validate_json(
        '{"room": "SUITE", "start_date": "2026-12-01", "end_date": "2026-12-01", "price": 169.1}'
    )
    plan = plan_for(parsed)
    assert applied(plan)[("SUITE", "SUITE", "online", TODAY)] == {"price": Decimal("169.10")}
    assert "price 169.10 EUR" in plan.descriptions[0]


# --------------------------------------------------------------------------- which calendar a request names


def test_a_second_rate_price_is_sent_by_its_rate_code_alone() -> None:
    """The docs: beside inv_code, rate_code is ignored and the master rate changes. So a half-board
    price must travel by rate_code only, and the master's by inv_code only."""
    resolved = validate_changes(
        [
            change(rate_code="HB:SUITE", price=210, end_date=TODAY + timedelta(days=2)),
            change(price=180, availability=1, end_date=TODAY + timedelta(days=2)),
        ],
        ROOMS,
        today=TODAY,
    )
    plan = compile_plan(resolved)
    targets = {
        (entry.inv_code, entry.rate_code, entry.by_rate)
        for r in plan.requests
        for entry in (r.payload if isinstance(r.payload, list) else [r.payload])
    }
    assert targets == {("SUITE", "SUITE", False), ("SUITE", "HB:SUITE", True)}
    assert plan.request_count == 1 or all(r.kind == "range" for r in plan.requests)


def test_restrictions_on_a_rate_that_is_not_the_master_are_refused() -> None:
    rooms = [
        *ROOMS[:-1],
        Room(
            inv_code="SUITE",
            rate_code="WEB:SUITE",
            restrictions_update=True,
            price_update=True,
            availability_update=False,
            channel_codes=CHANNELS,
        ),
    ]
    (problem,) = problems_of(change(rate_code="WEB:SUITE", min_stay=2), rooms=rooms)
    assert "WEB:SUITE is not the master rate of room SUITE" in problem
    assert "set it on the master rate 'SUITE' (omit rate_code)" in problem


def test_the_default_room_has_no_calendar() -> None:
    (problem,) = problems_of(change(room="HR:99", price=100))
    assert "Default Room" in problem and "Map the channel room in HotelRunner" in problem


def test_is_master_does_not_pick_the_target_rate() -> None:
    """is_master marks HotelRunner's Default Room only; the master rate is the one coded like its room."""
    rooms = [
        Room(
            inv_code="SUITE", rate_code=code, is_master=(code == "HB:SUITE"), price_update=True, channel_codes=CHANNELS
        )
        for code in ("HB:SUITE", "SUITE")
    ]
    (resolved,) = validate_changes([change(price=100)], rooms, today=TODAY)
    assert resolved.rate_code == "SUITE"


def test_splitting_by_field_when_it_is_cheaper() -> None:
    """Issue 8: a year of one price plus min_stay on 10 dates took 5 requests; by field it is 2 (one
    range for the price, one daily call for the min_stay dates)."""
    year = change(price=180, end_date=TODAY + timedelta(days=364))
    stays = [
        change(min_stay=2, start_date=TODAY + timedelta(days=d * 30), end_date=TODAY + timedelta(days=d * 30))
        for d in range(10)
    ]
    plan = compile_plan(validate_changes([year, *stays], ROOMS, today=TODAY))
    assert plan.request_count == 2
    kinds = sorted(r.kind for r in plan.requests)
    assert kinds == ["daily", "range"]
    [daily] = [r for r in plan.requests if r.kind == "daily"]
    assert all(set(d.set_fields()) == {"min_stay"} for entry in daily.payload for d in entry.dates)  # type: ignore[union-attr]


def test_one_room_never_appears_twice_in_one_daily_call() -> None:
    prices = [
        change(price=150 + d, start_date=TODAY + timedelta(days=d), end_date=TODAY + timedelta(days=d))
        for d in range(80)
    ]
    stays = [
        change(min_stay=1 + d % 3, start_date=TODAY + timedelta(days=d), end_date=TODAY + timedelta(days=d))
        for d in range(0, 80, 2)
    ]
    plan = compile_plan(validate_changes([*prices, *stays], ROOMS, today=TODAY))
    for request in plan.requests:
        if request.kind == "daily":
            keys = [(e.inv_code, e.rate_code, tuple(e.channel_codes or ())) for e in request.payload]  # type: ignore[union-attr]
            assert len(keys) == len(set(keys))
