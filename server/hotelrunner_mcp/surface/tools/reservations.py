"""get_reservations and get_reservation_changes: answered from the local mirror, kept fresh cheaply."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from hotelrunner_mcp.errors import InvalidRequest, check_range
from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.reservations.mirror import ChangeEvent
from hotelrunner_mcp.reservations.queries import DateRange, PageKey, ReservationQuery, page_cursor, parse_cursor
from hotelrunner_mcp.reservations.responses import waited
from hotelrunner_mcp.reservations.service import checked_number, freshen, known_or_lookup, lookup
from hotelrunner_mcp.reservations.sync import SyncReport
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.surface.budget import Page, fit
from hotelrunner_mcp.surface.tools.inputs import ChangeId, Day, Moment, ReservationNumber, SearchText
from hotelrunner_mcp.surface.tools.runtime import (
    READS_LOCAL,
    READS_UPSTREAM,
    Answer,
    ToolRuntime,
    tool_arguments,
)
from hotelrunner_mcp.surface.untrusted import GUEST_TEXT_NOTICE, fence, fence_record

MAX_LIMIT = 200


class ReservationSummary(BaseModel):
    hr_number: str
    channel_number: str | None
    channel: str | None
    state: str | None = Field(description="reserved (awaits confirmation), confirmed or canceled")
    awaiting_response: bool
    waiting: str | None = Field(
        default=None, description="How long it has awaited the property's answer (respond_to_reservation answers it)"
    )
    guest: str | None
    checkin: date | None
    checkout: date | None
    nights: int | None
    rooms: list[str]
    guests: int | None
    total: Decimal | None
    currency: str | None
    paid: Decimal | None
    booked_at: datetime | None
    updated_at: datetime | None
    note: str | None


class SyncInfo(BaseModel):
    mode: str
    requests: int
    new: int
    updated: int
    shared: bool = Field(description="True: another caller's sync was reused")
    complete: bool = Field(description="False: stopped at max_sync_requests; more changes are waiting")


class ReservationsAnswer(Answer):
    guest_text: str = Field(default=GUEST_TEXT_NOTICE, description="How to treat text guests and channels wrote")
    freshness: str = Field(description="How current the local mirror is")
    sync: SyncInfo | None = Field(description="The sync this call ran (None: the mirror was fresh, no request)")
    matching: int = Field(description="How many reservations match (on every page together)")
    reservations: list[ReservationSummary] | list[dict[str, Any]]
    next_cursor: str | None = Field(None, description="Pass as cursor for the next page; None: nothing left")


class ChangeInfo(BaseModel):
    change_id: int
    hr_number: str
    kind: str
    source: str = Field(description="push (HotelRunner told us), sync or lookup")
    seen_at: datetime = Field(description="When this server saw the change")
    updated_at: datetime | None = Field(description="When HotelRunner says the reservation last changed")
    state: str | None
    guest: str | None
    checkin: date | None
    checkout: date | None
    changes: list[str]


class ChangesAnswer(Answer):
    guest_text: str = Field(default=GUEST_TEXT_NOTICE, description="How to treat text guests and channels wrote")
    freshness: str
    changes: list[ChangeInfo]
    latest_change_id: int = Field(
        description="The newest change id: pass it as since_change_id next time (unless left_out says to continue)"
    )


def _change_info(e: ChangeEvent) -> ChangeInfo:
    return ChangeInfo(
        change_id=e.id,
        hr_number=e.hr_number,
        kind=e.kind,
        source=e.source,
        seen_at=e.seen_at,
        updated_at=e.updated_at,
        state=e.state,
        guest=e.guest,
        checkin=e.checkin_date,
        checkout=e.checkout_date,
        changes=e.changes,
    )


def _within_budget(matches: list[Reservation], detail: str) -> Page[ReservationSummary] | Page[dict[str, Any]]:
    """The leading reservations, in the view asked for, that fit the answer budget."""
    if detail == "full":
        return fit([fence_record(r.model_dump(mode="json", exclude_none=True)) for r in matches], total=len(matches))
    return fit([summarize(r) for r in matches], total=len(matches))


def summarize(r: Reservation) -> ReservationSummary:
    """The compact view of a reservation an agent reads by default."""
    nights = (r.checkout_date - r.checkin_date).days if r.checkin_date and r.checkout_date else None
    guests = sum(line.total_guest or 0 for line in r.rooms) or None
    return ReservationSummary(
        hr_number=r.hr_number,
        channel_number=r.provider_number,
        channel=r.channel,
        state=r.state,
        awaiting_response=r.awaits_response,
        waiting=waited(r.completed_at) if r.awaits_response else None,
        guest=r.guest,
        checkin=r.checkin_date,
        checkout=r.checkout_date,
        nights=nights,
        rooms=[f"{line.name or line.inv_code} ({line.inv_code})" for line in r.rooms],
        guests=guests,
        total=r.total,
        currency=r.currency,
        paid=r.paid_amount,
        booked_at=r.completed_at,
        updated_at=r.updated_at,
        note=fence((r.note[:200] + "…") if r.note and len(r.note) > 200 else r.note),
    )


def _range(name: str, start: date | None, end: date | None) -> DateRange | None:
    if start is None and end is None:
        return None
    check_range(f"{name}_from", start, f"{name}_to", end)
    return DateRange(start, end)


def _sync_info(report: SyncReport | None) -> SyncInfo | None:
    if report is None:
        return None
    return SyncInfo(
        mode=report.mode,
        requests=report.requests,
        new=report.new,
        updated=report.updated,
        shared=report.shared,
        complete=report.complete,
    )


def register(server: MCPServer, runtime: ToolRuntime) -> None:
    """Add get_reservations and get_reservation_changes."""

    @server.tool(title="Find reservations", annotations=READS_UPSTREAM)
    async def get_reservations(
        ctx: Context,
        number: Annotated[
            ReservationNumber | None,
            Field(
                description="HotelRunner number (R754208185) or the channel's own number; the other filters are then ignored"
            ),
        ] = None,
        arriving_from: Annotated[Day | None, Field(description="Check-in on or after this date (YYYY-MM-DD)")] = None,
        arriving_to: Annotated[Day | None, Field(description="Check-in on or before this date (YYYY-MM-DD)")] = None,
        departing_from: Annotated[Day | None, Field(description="Check-out on or after this date (YYYY-MM-DD)")] = None,
        departing_to: Annotated[Day | None, Field(description="Check-out on or before this date (YYYY-MM-DD)")] = None,
        in_house_on: Annotated[
            Day | None, Field(description="Guests sleeping at the property that night (YYYY-MM-DD)")
        ] = None,
        stay_from: Annotated[
            Day | None, Field(description="Stays with a night on or after this date (YYYY-MM-DD)")
        ] = None,
        stay_to: Annotated[
            Day | None, Field(description="Stays with a night on or before this date (YYYY-MM-DD)")
        ] = None,
        booked_from: Annotated[Day | None, Field(description="Booked on or after this date (UTC, YYYY-MM-DD)")] = None,
        booked_to: Annotated[Day | None, Field(description="Booked on or before this date (UTC, YYYY-MM-DD)")] = None,
        updated_since: Annotated[
            Moment | None,
            Field(description="Changed at HotelRunner at or after this time (ISO 8601; UTC without an offset)"),
        ] = None,
        guest: Annotated[
            SearchText | None, Field(description="Part of the guest's name or e-mail; accents and case ignored")
        ] = None,
        channel: Annotated[
            SearchText | None,
            Field(description="Channel code (bookingcom, expedia, online); a name like Booking.com works too"),
        ] = None,
        state: Annotated[
            Literal["reserved", "confirmed", "canceled"] | None,
            Field(description="reserved (awaits the property's answer), confirmed or canceled"),
        ] = None,
        room: Annotated[
            SearchText | None, Field(description="Room type inv_code as get_rooms shows it (case ignored)")
        ] = None,
        awaiting_response: Annotated[
            bool | None,
            Field(description="true: only bookings awaiting the property's confirm or cancel, oldest first"),
        ] = None,
        sort: Annotated[
            Literal["checkin", "checkout", "created", "updated"],
            Field(description="Order by check-in, check-out, booking time or last update"),
        ] = "checkin",
        descending: Annotated[bool, Field(description="true: latest first")] = False,
        limit: Annotated[
            int, Field(ge=1, le=MAX_LIMIT, description="At most this many reservations; `matching` says how many match")
        ] = 20,
        cursor: Annotated[
            str | None,
            Field(max_length=500, description="The next_cursor of the previous page (same filters and sort)"),
        ] = None,
        detail: Annotated[
            Literal["summary", "full"], Field(description="summary (compact) or full (address, nightly prices, extras)")
        ] = "summary",
        refresh: Annotated[
            bool,
            Field(
                description="true: sync with HotelRunner first (costs quota); with number, fetch that one booking (1 request)"
            ),
        ] = False,
        max_sync_requests: Annotated[
            int, Field(ge=1, le=50, description="Most requests a sync before answering may spend")
        ] = 10,
    ) -> ReservationsAnswer:
        """Find reservations of every state and channel (not only undelivered ones), from the local mirror.

        Filters combine (AND); each parameter says what it matches. detail="full" returns the whole record
        (address, nightly prices, extras). awaiting_response=true lists the bookings awaiting the property's
        confirm or cancel, oldest first, with how long each has waited (respond_to_reservation answers them).
        A long list pages: call again with cursor=next_cursor.

        Cost: 0 requests when the mirror is fresh (pushes and recent syncs keep it so); otherwise one sync
        first, about 1 request per 50 changed reservations, at most max_sync_requests (the answer says when it
        stopped short; the next question continues, so a first sync of N bookings costs ceil(N / 50) in all).
        A number the mirror does not know costs 1 lookup; refresh=true with a number fetches that booking
        (1 request), the way to be sure about one made over 30 days ago: HotelRunner lists only the last
        ~30 days of bookings, older ones are known only if this server saw them.
        """
        async with runtime.call(ctx, "get_reservations", tool_arguments(locals())) as services:
            query = ReservationQuery(  # built first: bad filters are refused before any request
                arriving=_range("arriving", arriving_from, arriving_to),
                departing=_range("departing", departing_from, departing_to),
                in_house_on=in_house_on,
                overlapping=_range("stay", stay_from, stay_to),
                created=_range("booked", booked_from, booked_to),
                updated_since=updated_since,
                guest=guest,
                channel=channel,
                state=state,
                inv_code=room,
                awaiting_response=awaiting_response,
                # awaiting answers: the longest-waiting first, unless another order is asked for
                sort="created" if awaiting_response and sort == "checkin" else sort,
                descending=descending,
            )
            # refused before any request (number= ignores the other filters, the cursor too)
            after = parse_cursor(cursor, query) if cursor is not None and number is None else None
            if number is not None:
                number = checked_number(number)
            if number is not None and refresh:
                # the exact record from HotelRunner: syncs only see bookings made in the last 30 days
                report, freshness = None, f"{number} looked up at HotelRunner just now"
                found = await lookup(services, number)
            else:
                report, freshness = await freshen(services, force=refresh, max_requests=max_sync_requests)
                found = None if number is None else await known_or_lookup(services, number)
            if number is not None:
                matches = [found] if found else []
                keys: list[PageKey] = []  # one booking: no page after it
                total, more = len(matches), False
            else:
                # a wide query over a big mirror is SQLite work and parsing: off the event loop
                total = await off_loop(services.store.count, query)
                keyed = await off_loop(services.store.find_keyed, replace(query, limit=limit + 1, after=after))
                more = len(keyed) > limit  # one more than asked: is there a next page?
                matches, keys = [r for r, _ in keyed[:limit]], [k for _, k in keyed[:limit]]
            page = await off_loop(_within_budget, matches, detail)  # full records of 200 bookings: CPU
            shown = len(page.items)
            next_cursor = page_cursor(keys[shown - 1], query) if keys and (more or shown < len(keys)) else None
            return ReservationsAnswer(
                freshness=freshness,
                sync=_sync_info(report),
                matching=total,
                reservations=page.items,
                next_cursor=next_cursor,
                left_out=(
                    f"more reservations match than shown (limit or answer size budget): call again with "
                    f"cursor={next_cursor} and the same filters"
                    if next_cursor
                    else None
                ),
                **await runtime.answer_fields(services),
            )

    @server.tool(title="What changed in reservations", annotations=READS_LOCAL)
    async def get_reservation_changes(
        ctx: Context,
        since: Annotated[Moment | None, Field(description="Changes this server saw after this time (ISO 8601)")] = None,
        since_change_id: Annotated[
            ChangeId | None, Field(description="Changes after this id (latest_change_id of an earlier answer)")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=500, description="At most this many changes, oldest first")] = 100,
    ) -> ChangesAnswer:
        """New, modified, confirmed and canceled reservations the mirror saw since a time or a change id
        (from a previous answer), oldest first, with what changed (e.g. "state: reserved → canceled").

        `since` compares with when this server saw each change (seen_at). The first sync reports every
        booking it finds as new (source "sync"); updated_at says when HotelRunner really changed it.

        Cost: 0 requests. Pushes from HotelRunner arrive here for free; call get_reservations with
        refresh=true first if the webhook is not set up and you need the very latest.
        """
        async with runtime.call(ctx, "get_reservation_changes", tool_arguments(locals())) as services:
            if since is None and since_change_id is None:
                raise InvalidRequest("give `since` (a time, e.g. 2026-11-29T08:00:00Z) or `since_change_id`.")
            after: int | datetime = since_change_id if since_change_id is not None else since  # type: ignore[assignment]
            events = await off_loop(services.store.changes_since, after, limit=limit + 1)  # one more: are there others?
            shown = fit([_change_info(e) for e in events[:limit]], total=len(events))
            cut = shown.next_offset is not None
            return ChangesAnswer(
                freshness=(await services.sync.current_freshness()).describe(),
                changes=shown.items,
                latest_change_id=await off_loop(services.store.latest_change_id),
                left_out=(
                    f"later changes (limit or answer size budget): call again with "
                    f"since_change_id={shown.items[-1].change_id}"
                    if cut
                    else None
                ),
                **await runtime.answer_fields(services),
            )
