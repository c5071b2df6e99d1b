"""A preview summed up per room, rate, field and channels: what a person checks at a glance when a plan has
too many changes to list one by one (8 rooms x 365 single nights is 2,920 of them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from hotelrunner_mcp.calendar.changes import ResolvedChange, plain_value
from hotelrunner_mcp.calendar.ledger import LedgerKey, LedgerValue, Value

MAX_PREVIOUS_LABELS = 5


class ChangeGroup(BaseModel):
    """Every change of a plan to one field of one room and rate (on the same channels)."""

    room: str
    rate_code: str | None = Field(description="None: a room-level value (availability)")
    field: str
    channels: list[str] = Field(description="Empty: every channel")
    changes: int = Field(description="How many of the changes set it")
    dates: int
    first: date
    last: date
    ranges: int = Field(description="Runs of consecutive dates")
    values: str = Field(description="The new value, or min–max when they differ")
    previous: dict[str, int] = Field(description="Values this server set before, on how many dates (most common)")
    unknown_dates: int = Field(description="Dates where no earlier value is known")
    warnings: int = Field(description="Changes with a warning (listed in changes)")


def previous_label(found: LedgerValue) -> str:
    """The value we set, and which channels refused it when that is known (e.g. "95.00 (refused by expedia)")."""
    refused = sorted({r.channel_code for r in found.channel_results if r.state == "failed"})
    return plain_value(found.value) + (f" (refused by {', '.join(refused)})" if refused else "")


@dataclass
class _Group:
    changes: set[int] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    values: set[Value] = field(default_factory=set)
    previous: Counter[str] = field(default_factory=Counter)
    unknown: int = 0
    warned: set[int] = field(default_factory=set)


def group_changes(
    resolved: Sequence[ResolvedChange],
    keys: Mapping[int, Sequence[LedgerKey]],
    known: Mapping[LedgerKey, LedgerValue],
    warned: Collection[int],
) -> list[ChangeGroup]:
    """One group per (room, rate, field, channels), in the order the changes first name them."""
    groups: dict[tuple[str, str | None, str, tuple[str, ...]], _Group] = {}
    for rc in resolved:
        for key in keys[rc.index]:
            inv_code, rate_code, day, field_name, channels = key
            group = groups.setdefault((inv_code, rate_code, field_name, channels), _Group())
            group.changes.add(rc.index)
            group.dates.add(day)
            group.values.add(rc.values[field_name])
            found = known.get(key)
            if found is None:
                group.unknown += 1
            else:
                group.previous[previous_label(found)] += 1
            if rc.index in warned:
                group.warned.add(rc.index)
    return [
        ChangeGroup(
            room=inv_code,
            rate_code=rate_code,
            field=field_name,
            channels=list(channels),
            changes=len(g.changes),
            dates=len(g.dates),
            first=min(g.dates),
            last=max(g.dates),
            ranges=_runs(g.dates),
            values=_span(g.values),
            previous=dict(g.previous.most_common(MAX_PREVIOUS_LABELS)),
            unknown_dates=g.unknown,
            warnings=len(g.warned),
        )
        for (inv_code, rate_code, field_name, channels), g in groups.items()
    ]


def _runs(days: set[date]) -> int:
    return sum(1 for d in days if d - timedelta(days=1) not in days)


def _span(values: set[Value]) -> str:
    """ "150.00" or "150.00–189.00" for numbers; every distinct value otherwise ("true / false")."""
    numbers = [v for v in values if isinstance(v, int | Decimal) and not isinstance(v, bool)]
    if numbers and len(numbers) == len(values):
        low, high = min(numbers), max(numbers)
        return plain_value(low) if low == high else f"{plain_value(low)}–{plain_value(high)}"
    return " / ".join(sorted(plain_value(v) for v in values))
