"""update_calendar (preview, then apply), get_calendar (the ledger) and check_channel_results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from hotelrunner_mcp.calendar.changes import MAX_CHANGES, CalendarChange
from hotelrunner_mcp.calendar.ledger import FIELDS, LedgerValue
from hotelrunner_mcp.calendar.service import CalendarOutcome, CalendarService
from hotelrunner_mcp.errors import InvalidRequest, check_range
from hotelrunner_mcp.hotelrunner.models import CalendarField, Transaction
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.surface.budget import fit
from hotelrunner_mcp.surface.tools.inputs import Day
from hotelrunner_mcp.surface.tools.previews import CalendarDetail, budgeted
from hotelrunner_mcp.surface.tools.runtime import (
    READS_LOCAL,
    READS_UPSTREAM,
    WRITES_UPSTREAM,
    Answer,
    PagedAnswer,
    ToolRuntime,
    tool_arguments,
)

MAX_CALENDAR_DAYS = 366
MAX_CHECKS = 10


class CalendarAnswer(CalendarOutcome, PagedAnswer):
    """A preview or an applied plan, with the fields every answer carries."""


class CalendarValue(BaseModel):
    """One value over a run of dates: consecutive dates set together to the same value share a row."""

    room: str
    rate_code: str | None = Field(description="None: a room-level value (availability)")
    field: str
    start_date: date
    end_date: date = Field(description="The same value on every date start_date..end_date")
    value: str | int | bool
    channels: list[str] = Field(description="Empty: every channel")
    set_at: datetime
    transaction_id: str | None
    channel_results: dict[str, str] = Field(
        description="channel → succeeded / failed: reason / in_progress, once checked"
    )


class CalendarLedgerAnswer(PagedAnswer):
    values: list[CalendarValue]
    note: str


class TransactionInfo(BaseModel):
    transaction_id: str
    succeeded: int
    failed: int
    in_progress: int
    failures: list[str] = Field(description="channel: room: HotelRunner's error message, for each failure")


class ChannelResultsAnswer(Answer):
    transactions: list[TransactionInfo]
    unchecked_left: int = Field(description="Transactions still waiting to be checked")


def _value_runs(values: Sequence[LedgerValue]) -> list[CalendarValue]:
    """The ledger's per-date values as runs: per room, rate, field and channels, consecutive dates with the
    same value from the same write (same transaction, same channel results) become one row."""
    rows: list[CalendarValue] = []
    last_key: tuple[object, ...] | None = None
    for v in sorted(values, key=lambda v: (v.inv_code, v.rate_code or "", FIELDS.index(v.field), v.channels, v.day)):
        results = {
            r.channel_code: r.state + (f": {r.error_message}" if r.error_message else "") for r in v.channel_results
        }
        shown = v.value if isinstance(v.value, bool | int) else f"{v.value:.2f}"
        key = (v.inv_code, v.rate_code, v.field, v.channels, shown, v.set_at, v.transaction_id, sorted(results.items()))
        if key == last_key and rows[-1].end_date + timedelta(days=1) == v.day:
            rows[-1].end_date = v.day
            continue
        last_key = key
        rows.append(
            CalendarValue(
                room=v.inv_code,
                rate_code=v.rate_code,
                field=v.field,
                start_date=v.day,
                end_date=v.day,
                value=shown,
                channels=list(v.channels),
                set_at=v.set_at,
                transaction_id=v.transaction_id,
                channel_results=results,
            )
        )
    return rows


def _transaction_info(transaction_id: str, t: Transaction) -> TransactionInfo:
    failures = [
        f"{d.channel_code}: {d.name or d.code or '?'}: {d.error_message or 'failed'}"
        for d in t.details
        if d.state == "failed"
    ]
    return TransactionInfo(
        transaction_id=transaction_id,
        succeeded=t.counts.succeeded,
        failed=t.counts.failed,
        in_progress=t.counts.in_progress,
        failures=failures,
    )


def register_reads(server: MCPServer, runtime: ToolRuntime) -> None:
    """Tools that exist in read-only mode too."""

    @server.tool(title="What this server set in the calendar", annotations=READS_LOCAL)
    async def get_calendar(
        ctx: Context,
        start_date: Annotated[Day, Field(description="First date (YYYY-MM-DD)")],
        end_date: Annotated[Day, Field(description="Last date, inclusive (YYYY-MM-DD)")],
        room: Annotated[str | None, Field(description="Only this room type (inv_code)")] = None,
        rate_code: Annotated[str | None, Field(description="Only this rate (rate_code)")] = None,
        fields: Annotated[
            list[CalendarField] | None, Field(description='Only these fields, e.g. ["price", "min_stay"]')
        ] = None,
        offset: Annotated[
            int, Field(ge=0, description="Skip this many values: the next_offset of the previous page")
        ] = 0,
    ) -> CalendarLedgerAnswer:
        """Prices, availability and restrictions THIS server has set for these dates (latest value per
        room, rate, date, field and channels, as runs of dates), with the transaction and what each channel said.

        HotelRunner has no calendar read: values set in the HotelRunner panel or by other tools are
        unknown here, so a date missing from the answer means "unknown", not "empty". A long answer pages:
        call again with offset=next_offset.

        Cost: 0 requests.
        """
        async with runtime.call(ctx, "get_calendar", tool_arguments(locals())) as services:
            check_range("start_date", start_date, "end_date", end_date)
            if (end_date - start_date).days >= MAX_CALENDAR_DAYS:
                raise InvalidRequest(f"ask for at most {MAX_CALENDAR_DAYS} days at a time.")
            values = await off_loop(
                services.ledger.query, start=start_date, end=end_date, inv_code=room, rate_code=rate_code, fields=fields
            )
            runs = await off_loop(_value_runs, values)  # a year of eight rooms is ~26k values: CPU
            page = fit(runs[offset:], total=len(runs), offset=offset)
            return CalendarLedgerAnswer(
                values=page.items,
                next_offset=page.next_offset,
                left_out=page.left_out("values", how=" (or ask for fewer dates, one room or fields=)"),
                note="Only values set through this server are known; anything set elsewhere is unknown.",
                **await runtime.answer_fields(services),
            )

    @server.tool(title="Did the channels take my changes?", annotations=READS_UPSTREAM)
    async def check_channel_results(
        ctx: Context,
        transaction_ids: Annotated[
            list[str] | None,
            Field(
                max_length=MAX_CHECKS,
                description="Transaction ids from update_calendar results; omit for the latest unchecked ones",
            ),
        ] = None,
    ) -> ChannelResultsAnswer:
        """Ask HotelRunner whether Booking.com, Expedia and the other channels accepted calendar
        updates, and record the answer in the ledger (get_calendar then shows it).

        Without transaction_ids, checks the most recent updates not yet confirmed by every channel.

        Cost: 1 request per transaction checked (at most 10 per call).
        """
        async with runtime.call(ctx, "check_channel_results", tool_arguments(locals())) as services:
            checked = await CalendarService(services).check_channel_results(transaction_ids or [], limit=MAX_CHECKS)
            return ChannelResultsAnswer(
                transactions=[_transaction_info(tid, transaction) for tid, transaction in checked],
                unchecked_left=len(await off_loop(services.ledger.pending_transactions, limit=100)),
                **await runtime.answer_fields(services),
            )


def register_writes(server: MCPServer, runtime: ToolRuntime) -> None:
    """Tools that change HotelRunner; not registered in read-only mode."""

    @server.tool(title="Change prices, availability, restrictions", annotations=WRITES_UPSTREAM)
    async def update_calendar(
        ctx: Context,
        changes: Annotated[
            list[CalendarChange],
            Field(
                min_length=1,
                max_length=MAX_CHANGES,
                description="Every change of this call (rooms, dates, values); later ones win where they overlap",
            ),
        ],
        plan_id: Annotated[
            str | None, Field(description="The plan_id a preview of exactly these changes returned; omit it to preview")
        ] = None,
        detail: Annotated[
            CalendarDetail,
            Field(description="auto: every change if they fit, else a summary per room and field; changes; summary"),
        ] = "auto",
        offset: Annotated[int, Field(ge=0, description="With detail='changes': list changes from this index")] = 0,
    ) -> CalendarAnswer:
        """Change prices, availability, stop-sell, CTA/CTD, min/max stay for room types over date ranges,
        on all channels (Booking.com, Expedia, the website) or chosen ones.

        Two steps: call WITHOUT plan_id to preview — nothing is sent; the answer lists each change in plain
        words with the values this server set before (a large plan is summed up per room and field), the
        requests it will cost and a plan_id. Show that to the user; then call again with the SAME changes
        and that plan_id to apply. A plan id works once, only for those exact changes, for a few minutes.
        Later changes in the list override earlier ones on the same dates.

        Cost: the preview 0 requests (1 if the room list must be refreshed); applying what the preview
        says — the changes are packed into the fewest requests (a season for several rooms usually costs
        1–2). The apply answer gives each request's status and transaction id; if HotelRunner accepted none,
        the call fails, saying whether the changes were NOT applied or their outcome is unknown.
        """
        arguments = {
            "changes": [c.model_dump(mode="json", exclude_none=True) for c in changes],
            "plan_id": plan_id,
            "detail": detail,
            "offset": offset,
        }
        async with runtime.call(ctx, "update_calendar", arguments) as services:
            outcome = await CalendarService(services).run(changes, plan_id)
            every_change = "detail='changes' (with offset=) lists every change with its previous values"
            fields = await off_loop(budgeted, outcome, detail, offset, every_change=every_change)  # CPU: off too
            return CalendarAnswer(**fields, **await runtime.answer_fields(services))
