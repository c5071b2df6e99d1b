"""get_occupancy: rooms sold, revenue and ADR per night and room type, from the mirror."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from hotelrunner_mcp.errors import InvalidRequest
from hotelrunner_mcp.reservations.queries import NightOccupancy, to_cents, validate_occupancy_range
from hotelrunner_mcp.reservations.service import freshen
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


class OccupancyAnswer(Answer):
    freshness: str
    start: date
    end: date
    totals: Totals
    by_room: dict[str, Totals]
    nights: list[NightRow]
    note: str | None


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
        include_nights: Annotated[bool, Field(description="false: totals only, without a row per night")] = True,
        max_sync_requests: Annotated[
            int, Field(ge=1, le=50, description="Most requests a sync before answering may spend")
        ] = 10,
    ) -> OccupancyAnswer:
        """How full the property is: per night and room type, rooms sold against rooms available,
        revenue and average daily rate (ADR), plus totals per room type and overall. Canceled
        bookings are excluded. Nights are start..end inclusive (at most 366).

        Cost: 0 requests when the reservation mirror is fresh; otherwise one sync first (about 1
        request per 50 changed reservations, at most max_sync_requests).
        """
        async with runtime.call(ctx, "get_occupancy", tool_arguments(locals())) as services:
            validate_occupancy_range(start, end)
            counts = dict(services.settings.room_counts)
            if room is not None:
                room = _room_code(room, counts)
            _, freshness = await freshen(services, max_requests=max_sync_requests)
            cells = services.store.occupancy(start, end, counts)
            if room is not None:
                cells = [c for c in cells if c.inv_code.upper() == room.upper()]
            by_room: dict[str, list[NightOccupancy]] = defaultdict(list)
            for cell in cells:
                by_room[cell.inv_code].append(cell)
            note = (
                None
                if counts
                else (
                    "Rooms per type are unknown, so occupancy % is missing: set HOTELRUNNER_ROOM_COUNTS, "
                    "e.g. DLXTRP:3,DLXDBL:1 (HotelRunner's API does not say how many rooms each type has)."
                )
            )
            return OccupancyAnswer(
                freshness=freshness,
                start=start,
                end=end,
                totals=_totals(cells),
                by_room={code: _totals(group) for code, group in sorted(by_room.items())},
                nights=[
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
                if include_nights
                else [],
                note=note,
                **runtime.answer_fields(services),
            )
