"""get_rooms: room types and their rates, with what each rate lets the API change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from hotelrunner_mcp.hotelrunner.catalog import RoomSnapshot
from hotelrunner_mcp.hotelrunner.models import Room, is_master_rate
from hotelrunner_mcp.surface.tools.runtime import READS_UPSTREAM, Answer, ToolRuntime, tool_arguments


class RateInfo(BaseModel):
    rate_code: str | None
    name: str | None
    master: bool = Field(
        description="The room type's master rate (its code is the inv_code): a change without rate_code targets it, "
        "and restrictions can only be set on it; another rate takes only a price"
    )
    non_refundable: bool
    currency: str | None
    channels: list[str]
    can_update: list[str] = Field(description="Which of price, availability, restrictions the API may change")
    max_guests: int | None
    max_adults: int | None


class RoomTypeInfo(BaseModel):
    inv_code: str = Field(description="Use this as `room` in update_calendar")
    name: str | None
    default_room: bool = Field(
        description="HotelRunner's Default Room (is_master): unmatched bookings land here; fix the channel mapping "
        "in HotelRunner. It has no calendar to change"
    )
    rates: list[RateInfo]


class RoomsAnswer(Answer):
    room_types: list[RoomTypeInfo]
    fetched_at: datetime
    from_cache: bool = Field(description="True: remembered from an earlier call, no request spent")


def rate_info(room: Room) -> RateInfo:
    """One rate as the agent needs it: codes, channels, and which fields it may update."""
    flags = {
        "price": room.price_update,
        "availability": room.availability_update,
        "restrictions": room.restrictions_update,
    }
    return RateInfo(
        rate_code=room.rate_code,
        name=room.name,
        master=is_master_rate(room.inv_code, room.rate_code),
        non_refundable=room.non_refundable,
        currency=room.sales_currency,
        channels=list(room.channel_codes),
        can_update=[name for name, allowed in flags.items() if allowed is not False],
        max_guests=room.room_capacity,
        max_adults=room.adult_capacity,
    )


def room_types(snapshot: RoomSnapshot) -> list[RoomTypeInfo]:
    """The rates grouped by room type, in HotelRunner's order."""
    return [
        RoomTypeInfo(
            inv_code=inv_code,
            name=_type_name(rates),
            default_room=all(r.is_master for r in rates),
            rates=[rate_info(r) for r in rates],
        )
        for inv_code, rates in snapshot.room_types().items()
    ]


def _type_name(rates: list[Room]) -> str | None:
    master = next((r for r in rates if is_master_rate(r.inv_code, r.rate_code)), rates[0])
    return master.name


def register(server: MCPServer, runtime: ToolRuntime) -> None:
    """Add get_rooms."""

    @server.tool(
        title="Room types and rates",
        annotations=READS_UPSTREAM,
    )
    async def get_rooms(
        ctx: Context,
        refresh: Annotated[
            bool,
            Field(description="true: fetch the list again (1 request) instead of the copy remembered for 15 minutes"),
        ] = False,
    ) -> RoomsAnswer:
        """List the property's room types and rates: inv_code and rate_code (what update_calendar takes),
        channels, currency, capacity, and which fields the API may change on each rate.

        Cost: 1 request of the daily quota, or 0 when the list is remembered from the last
        few minutes (refresh=true forces a new fetch). Prices and availability are not part of it:
        HotelRunner has no calendar read; use get_calendar for what this server has set.
        """
        async with runtime.call(ctx, "get_rooms", tool_arguments(locals())) as services:
            snapshot = await services.catalog.get(refresh=refresh)
            return RoomsAnswer(
                room_types=room_types(snapshot),
                fetched_at=snapshot.fetched_at,
                from_cache=snapshot.cached,
                **await runtime.answer_fields(services),
            )
