"""A calendar plan's outcome (update_calendar, undo_calendar_change) cut to the answer budget."""

from __future__ import annotations

from typing import Any, Literal

from hotelrunner_mcp.calendar.service import CalendarOutcome
from hotelrunner_mcp.surface.budget import ITEMS_BUDGET_BYTES, fit, json_size

CalendarDetail = Literal["auto", "changes", "summary"]


def budgeted(outcome: CalendarOutcome, detail: CalendarDetail, offset: int, *, every_change: str) -> dict[str, Any]:
    """The outcome's fields cut to the answer budget: every change when they fit (or detail="changes", paged),
    else the summary per room and field plus the changes that carry a warning. `every_change` tells the
    agent how this tool lists every change when they do not fit."""
    fields = outcome.model_dump(exclude={"changes", "summary", "requests"})
    requests = fit(outcome.requests, total=len(outcome.requests), budget=ITEMS_BUDGET_BYTES // 4)
    fields["requests"] = requests.items
    left_out = (
        [f"{requests.total - len(requests.items)} more request descriptions (the plan sends them all)"]
        if requests.next_offset
        else []
    )
    every = outcome.changes
    if detail == "changes" or (detail == "auto" and json_size(every) <= ITEMS_BUDGET_BYTES // 2):
        page = fit(every[offset:], total=len(every), offset=offset, budget=ITEMS_BUDGET_BYTES * 3 // 4)
        fields |= {"changes": page.items, "summary": []}
        if page.next_offset is not None:  # (only with detail="changes": "auto" lists changes when all fit)
            fields["next_offset"] = page.next_offset
            left_out.append(
                f"changes {page.next_offset}–{len(every) - 1} (answer size budget): send the same changes with "
                f"detail='changes' and offset={page.next_offset} (a new preview, 0 requests)"
            )
    else:
        warned = [c for c in every if c.warnings]
        summary = fit(outcome.summary, total=len(outcome.summary), budget=ITEMS_BUDGET_BYTES // 4)
        shown = fit(warned, total=len(warned), budget=ITEMS_BUDGET_BYTES // 4)
        fields |= {"changes": shown.items, "summary": summary.items}
        left_out.append(
            f"the {len(every):,} changes one by one, summed up in `summary` per room, rate and field"
            + (f" ({summary.total - len(summary.items)} groups not shown)" if summary.next_offset else "")
            + (f"; `changes` holds {len(shown.items)} of the {len(warned)} with a warning" if warned else "")
            + f". {every_change}"
        )
    fields["left_out"] = "; ".join(left_out) or None
    return fields
