"""undo_calendar_change: put back what the ledger knew before some of this server's calendar changes."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from hotelrunner_mcp.calendar.undo import UndoOutcome, UndoService
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.surface.budget import ITEMS_BUDGET_BYTES, fit
from hotelrunner_mcp.surface.tools.inputs import Moment
from hotelrunner_mcp.surface.tools.previews import budgeted
from hotelrunner_mcp.surface.tools.runtime import WRITES_UPSTREAM, Answer, ToolRuntime, tool_arguments

MAX_TRANSACTIONS = 50
TransactionId = Annotated[str, Field(min_length=1, max_length=64)]


class UndoAnswer(UndoOutcome, Answer):
    """An undo previewed (with a plan id) or applied, with the fields every answer carries."""


def register_writes(server: MCPServer, runtime: ToolRuntime) -> None:
    """Add undo_calendar_change (absent in read-only mode)."""

    @server.tool(title="Undo a calendar change", annotations=WRITES_UPSTREAM)
    async def undo_calendar_change(
        ctx: Context,
        transaction_ids: Annotated[
            list[TransactionId] | None,
            Field(
                min_length=1,
                max_length=MAX_TRANSACTIONS,
                description="Transaction ids of this server's changes to undo (update_calendar's results and "
                "get_calendar show them). Or give set_from/set_to instead.",
            ),
        ] = None,
        set_from: Annotated[
            Moment | None,
            Field(
                description="Undo this server's changes accepted at or after this time (ISO 8601; UTC if no offset)."
            ),
        ] = None,
        set_to: Annotated[
            Moment | None,
            Field(description="…and at or before this time. Omit for 'until now'."),
        ] = None,
        plan_id: Annotated[
            str | None,
            Field(
                max_length=64,
                description="Omit to preview (nothing is sent). To apply, the plan_id the preview returned, with the "
                "same transaction_ids or time range.",
            ),
        ] = None,
    ) -> UndoAnswer:
        """Put back the prices, availability and restrictions the calendar had before some of THIS server's
        changes (their transaction ids, or set_from/set_to), as far as this server's ledger knows them.

        Cells are left alone and listed when the earlier value is unknown (set in the HotelRunner panel, by
        another tool, or never), when this server changed them again later, or when the date is past: check
        the lists with the user. Two steps, like update_calendar: WITHOUT plan_id to preview (nothing is
        sent), then the same arguments with that plan_id to apply. If another change reached the ledger in
        between, nothing is sent: preview again.

        Cost: the preview 0 requests (1 if the room list must be refreshed); applying what the preview
        says, compiled into the fewest requests (often 1).
        """
        async with runtime.call(ctx, "undo_calendar_change", tool_arguments(locals())) as services:
            outcome = await UndoService(services).run(
                transaction_ids=transaction_ids, since=set_from, until=set_to, plan_id=plan_id
            )
            narrower = "a narrower undo (fewer transaction_ids, a shorter set_from..set_to) lists each change"
            fields = await off_loop(budgeted, outcome, "auto", 0, every_change=narrower)
            for name in ("unknown", "superseded"):  # grouped cell lists: a few lines each, unless a year is undone
                every = fields[name]
                kept = fit(every, total=len(every), budget=ITEMS_BUDGET_BYTES // 8)
                fields[name] = kept.items
                if kept.next_offset is not None:
                    more = f"{len(every) - len(kept.items)} more `{name}` groups (answer size budget): {narrower}"
                    fields["left_out"] = "; ".join(filter(None, [fields["left_out"], more]))
            return UndoAnswer(**fields, **await runtime.answer_fields(services))
