"""get_occupancy: rooms sold, revenue and ADR per night and room type, from the mirror."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from hotelrunner_mcp.errors import InvalidRequest
from hotelrunner_mcp.reservations.queries import NightOccupancy, to_cents, validate_occupancy_range
from hotelrunner_mcp.reservations.service import freshen
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.surface.budget import Page, fit
from hotelrunner_mcp.surface.tools.inputs import Day, SearchText
from hotelrunner_mcp.surface.tools.runtime import READS_UPSTREAM, Answer, ToolRuntime, tool_arguments


class NightRow(BaseModel):
    night: date
    room: str
    sold: int
    rooms: int | None = Field(description="Physical rooms of this type (None: unknown, see note)")
    occupancy_pct: float | None
    revenue: Decimal | None
    adr: Decimal | None = Field(description="Average daily rate: revenue / rooms sold")


class Totals(BaseModel):
    room_nights_sold: int
    room_nights_available: int | None
    occupancy_pct: float | None
    revenue: Decimal | None
    adr: Decimal | None
    currency: str | None


class WeekRow(BaseModel):
    start: date
    end: date
    sold: int = Field(description="Room nights sold (every room type of the answer together)")
    available: int | None
    occupancy_pct: float | None
    revenue: Decimal | None
    adr: Decimal | None


class OccupancyAnswer(Answer):
    freshness: str
    start: date
    end: date
    totals: Totals
    by_room: dict[str, Totals]
    weeks: list[WeekRow] = Field(description="Per 7 nights from start, room types together (long ranges)")
    nights: list[NightRow]
    next_start: date | None = Field(None, description="Night rows were cut: ask again with start= this for the rest")
    note: str | None


# Per-night rows by default only while they stay small (~4k tokens of text): night x room type rows.
DEFAULT_NIGHT_ROWS = 64


def _weeks(cells: list[NightOccupancy], start: date, end: date) -> list[WeekRow]:
    grouped: dict[date, list[NightOccupancy]] = defaultdict(list)
    for cell in cells:
        grouped[start + timedelta(days=7 * ((cell.night - start).days // 7))].append(cell)
    rows = []
    for week_start in sorted(grouped):
        totals = _totals(grouped[week_start])
        rows.append(
            WeekRow(
                start=week_start,
                end=min(week_start + timedelta(days=6), end),
                sold=totals.room_nights_sold,
                available=totals.room_nights_available,
                occupancy_pct=totals.occupancy_pct,
                revenue=totals.revenue,
                adr=totals.adr,
            )
        )
    return rows


def _night_rows(cells: list[NightOccupancy]) -> list[NightRow]:
    return [
        NightRow(
            night=c.night,
            room=c.inv_code,
            sold=c.rooms_sold,
            rooms=c.rooms_total,
            occupancy_pct=_pct(c.rooms_sold, c.rooms_total),
            revenue=c.revenue,
            adr=c.adr,
        )
        for c in cells
    ]


def _pct(sold: int, total: int | None) -> float | None:
    return round(100 * sold / total, 1) if total else None


def _totals(cells: list[NightOccupancy]) -> Totals:
    sold = sum(c.rooms_sold for c in cells)
    known = all(c.rooms_total is not None for c in cells)
    available = sum(c.rooms_total or 0 for c in cells) if known else None
    currencies = {c.currency for c in cells if c.currency}
    revenue = sum((c.revenue or Decimal(0) for c in cells), Decimal(0)) if len(currencies) <= 1 else None
    return Totals(
        room_nights_sold=sold,
        room_nights_available=available,
        occupancy_pct=_pct(sold, available),
        revenue=to_cents(revenue) if revenue is not None else None,
        adr=to_cents(revenue / sold) if revenue is not None and sold else None,
        currency=next(iter(currencies)) if len(currencies) == 1 else None,
    )


def _room_code(room: str, counts: dict[str, int]) -> str:
    """The room type as the property names it (case slips forgiven); InvalidRequest, before any
    request, when the property's room types are known and this is not one of them."""
    known = {code.upper(): code for code in counts}
    if not known:
        return room.strip()
    if room.strip().upper() not in known:
        raise InvalidRequest(
            f"no room type {room!r} here; use one of {', '.join(sorted(counts))} (as get_rooms shows them)."
        )
    return known[room.strip().upper()]


def _view(
    cells: list[NightOccupancy], start: date, end: date, room: str | None, include_nights: bool | None, has_counts: bool
) -> dict[str, Any]:
    """The answer's fields from the grid: totals per room type and overall, weeks or nights within budget."""
    if room is not None:
        cells = [c for c in cells if c.inv_code.upper() == room.upper()]
    by_room: dict[str, list[NightOccupancy]] = defaultdict(list)
    for cell in cells:
        by_room[cell.inv_code].append(cell)
    note = (
        None
        if has_counts
        else (
            "Rooms per type are unknown, so occupancy % is missing: set HOTELRUNNER_ROOM_COUNTS, "
            "e.g. DLXTRP:3,DLXDBL:1 (HotelRunner's API does not say how many rooms each type has)."
        )
    )
    nights_asked = include_nights is True or (include_nights is None and len(cells) <= DEFAULT_NIGHT_ROWS)
    weeks = _weeks(cells, start, end) if include_nights is None and not nights_asked else []
    left_out = None
    if weeks:
        left_out = (
            f"the {len(cells)} per-night rows (night x room type), summed per week here; ask with "
            "include_nights=true for them (a shorter range or one room= keeps the answer small)"
        )
    elif include_nights is False:
        left_out = "per-night and per-week rows (include_nights=false); include_nights=true gives every night"
    nights = fit(_night_rows(cells), total=len(cells)) if nights_asked else Page([], 0, 0)
    resume = None
    if nights.next_offset is not None:  # end on a whole night, so start= picks up exactly the rest
        whole = [row for row in nights.items if row.night != nights.items[-1].night] or nights.items
        nights = Page(whole, 0, nights.total)
        resume = whole[-1].night + timedelta(days=1)
        left_out = (
            f"{nights.total - len(nights.items):,} of the {nights.total:,} night rows (answer size budget): "
            f"ask again with start={resume.isoformat()} for the rest, or with room= for one room type"
        )
    return {
        "start": start,
        "end": end,
        "totals": _totals(cells),
        "by_room": {code: _totals(group) for code, group in sorted(by_room.items())},
        "weeks": weeks,
        "nights": nights.items,
        "next_start": resume,
        "left_out": left_out,
        "note": note,
    }


def register(server: MCPServer, runtime: ToolRuntime) -> None:
    """Add get_occupancy."""

    @server.tool(
        title="Occupancy, revenue and ADR",
        annotations=READS_UPSTREAM,
    )
    async def get_occupancy(
        ctx: Context,
        start: Annotated[Day, Field(description="First night (YYYY-MM-DD)")],
        end: Annotated[Day, Field(description="Last night, inclusive (YYYY-MM-DD)")],
        room: Annotated[SearchText | None, Field(description="Only this room type (inv_code)")] = None,
        include_nights: Annotated[
            bool | None,
            Field(description="true: a row per night and room type; false: totals only; unset: nights if short"),
        ] = None,
        max_sync_requests: Annotated[
            int, Field(ge=1, le=50, description="Most requests a sync before answering may spend")
        ] = 10,
    ) -> OccupancyAnswer:
        """How full the property is: per night and room type, rooms sold against rooms available,
        revenue and average daily rate (ADR), plus totals per room type and overall. Canceled
        bookings are excluded. Nights are start..end inclusive (at most 366).

        By default a short range (at most 64 night x room type rows) has a row per night and room
        type; a longer one has a row per week instead (left_out says so): include_nights=true asks
        for every night, room= narrows to one type, include_nights=false keeps only the totals.

        Cost: 0 requests when the reservation mirror is fresh; otherwise one sync first (about 1
        request per 50 changed reservations, at most max_sync_requests; a sync stopped there
        continues at the next question).
        """
        async with runtime.call(ctx, "get_occupancy", tool_arguments(locals())) as services:
            validate_occupancy_range(start, end)
            counts = dict(services.settings.room_counts)
            if room is not None:
                room = _room_code(room, counts)
            _, freshness = await freshen(services, max_requests=max_sync_requests)
            # a year of a busy property is seconds of SQLite and parsing: off the event loop
            cells = await off_loop(services.store.occupancy, start, end, counts)
            view = await off_loop(_view, cells, start, end, room, include_nights, bool(counts))  # CPU: off too
            return OccupancyAnswer(freshness=freshness, **view, **await runtime.answer_fields(services))
