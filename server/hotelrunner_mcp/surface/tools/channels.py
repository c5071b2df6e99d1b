"""get_channels: the connected channels, HotelRunner's distribution counts, and the ledger's refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from hotelrunner_mcp.calendar.ledger import ChannelRefusals
from hotelrunner_mcp.hotelrunner.catalog import CHANNELS_TTL_SECONDS
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.surface.tools.runtime import READS_UPSTREAM, Answer, ToolRuntime, tool_arguments


class ChannelHealth(BaseModel):
    code: str = Field(description="HotelRunner's channel code, as update_calendar's `channels` takes it")
    name: str | None
    connected: bool = Field(description="False: only the ledger mentions it; HotelRunner no longer lists it")
    in_progress: int | None = Field(description="HotelRunner's count of distribution jobs still running")
    succeeded: int | None = Field(description="HotelRunner's count of distribution jobs the channel took")
    failed: int | None = Field(description="HotelRunner's count of distribution jobs the channel refused")
    checked_transactions: int = Field(
        description="This server's calendar updates checked on this channel in the period (check_channel_results)"
    )
    refused_transactions: int = Field(description="Of those, the ones the channel refused, at least in part")
    still_in_progress: int = Field(description="Of those, the ones the channel had not finished when checked")
    last_refusal_at: datetime | None
    last_refusals: list[str] = Field(description="Newest first: transaction and the channel's reason")
    verdict: str = Field(description="One line for the user")


class ChannelsAnswer(Answer):
    channels: list[ChannelHealth]
    fetched_at: datetime = Field(description="When HotelRunner's list was fetched (remembered a few minutes)")
    cached: bool = Field(description="True: answered from the remembered list, no request")
    refusals_since: datetime
    unchecked_transactions: int = Field(
        description="This server's updates not yet confirmed by every channel; check_channel_results checks them"
    )
    note: str


def _verdict(connected: bool, failed: int | None, refusals: ChannelRefusals | None) -> str:
    if not connected:
        return "not connected any more (HotelRunner does not list it); its refusals below are history"
    if refusals and refusals.failed:
        return (
            f"refused {refusals.failed} of {refusals.succeeded + refusals.failed + refusals.in_progress} checked "
            "updates from this server recently: read last_refusals before changing prices there again"
        )
    if failed:
        return f"connected; HotelRunner counts {failed} failed distribution job(s) on it"
    return "connected; no refusal known"


def register(server: MCPServer, runtime: ToolRuntime) -> None:
    """Add get_channels (a read: present in read-only mode too)."""

    @server.tool(title="Channel health", annotations=READS_UPSTREAM)
    async def get_channels(
        ctx: Context,
        refusals_days: Annotated[
            int, Field(ge=1, le=90, description="How many days back to count refusals in this server's ledger.")
        ] = 7,
        refresh: Annotated[
            bool, Field(description="Fetch HotelRunner's list again even if remembered (1 request).")
        ] = False,
    ) -> ChannelsAnswer:
        """The property's connected channels (Booking.com, Expedia, the website…) with HotelRunner's counts
        of distribution jobs in progress, succeeded and failed, plus what this server's ledger knows of
        each channel's recent refusals of its calendar updates (from check_channel_results).

        Use it to answer "is Booking.com connected and taking our updates?". HotelRunner does not say over
        which period its counts run; the ledger part covers the last refusals_days days and only updates
        this server made and checked.

        Cost: 1 request, or 0 when the list was fetched in the last few minutes.
        """
        async with runtime.call(ctx, "get_channels", tool_arguments(locals())) as services:
            snapshot = await services.channels.get(refresh=refresh)
            since = datetime.now(UTC) - timedelta(days=refusals_days)
            refusals = {r.channel_code: r for r in await off_loop(services.ledger.channel_refusals, since)}
            listed = []
            for channel in snapshot.value:
                mine = refusals.get(channel.code)
                listed.append(
                    ChannelHealth(
                        code=channel.code,
                        name=channel.name,
                        connected=True,
                        in_progress=channel.in_progress,
                        succeeded=channel.succeeded,
                        failed=channel.failed,
                        checked_transactions=(mine.succeeded + mine.failed + mine.in_progress) if mine else 0,
                        refused_transactions=mine.failed if mine else 0,
                        still_in_progress=mine.in_progress if mine else 0,
                        last_refusal_at=mine.last_failed_at if mine else None,
                        last_refusals=list(mine.last_failures) if mine else [],
                        verdict=_verdict(True, channel.failed, mine),
                    )
                )
            known = {c.code for c in snapshot.value}
            for code, mine in sorted(refusals.items()):
                if code in known:
                    continue
                listed.append(
                    ChannelHealth(
                        code=code,
                        name=None,
                        connected=False,
                        in_progress=None,
                        succeeded=None,
                        failed=None,
                        checked_transactions=mine.succeeded + mine.failed + mine.in_progress,
                        refused_transactions=mine.failed,
                        still_in_progress=mine.in_progress,
                        last_refusal_at=mine.last_failed_at,
                        last_refusals=list(mine.last_failures),
                        verdict=_verdict(False, None, mine),
                    )
                )
            return ChannelsAnswer(
                channels=listed,
                fetched_at=snapshot.fetched_at,
                cached=snapshot.cached,
                refusals_since=since,
                unchecked_transactions=len(await off_loop(services.ledger.pending_transactions, limit=100)),
                note=f"HotelRunner's counts are remembered for {CHANNELS_TTL_SECONDS / 60:.0f} minutes. The ledger "
                "knows only updates this server made and checked with check_channel_results.",
                **await runtime.answer_fields(services),
            )
