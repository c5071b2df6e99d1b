"""Undo calendar changes this server made: put back the values the ledger knew before them.

The ledger holds every value this server set, batch by batch (one batch per accepted request). To undo
some batches (by transaction id, or a time range) each (room, rate, date, field, channels) they wrote
gets back the latest value written before the first of them, when the ledger has one. Cells are left
alone, and listed, when

- no earlier value is known (set in the HotelRunner panel, by another tool, or never): `unknown`;
- a later change this server made, outside what is undone, wrote the same cell: `superseded`;
- the date is already past: `past`;
- the cell already holds its earlier value: `unchanged` (nothing to send).

What is put back becomes ordinary `CalendarChange`s, so it is validated, compiled into the fewest
requests, previewed with a plan id and applied exactly like any `update_calendar` call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import Field

from hotelrunner_mcp.calendar.changes import MAX_CHANGES, CalendarChange, fingerprint, property_today
from hotelrunner_mcp.calendar.ledger import LedgerBatch, LedgerKey, StoredWrite, Value, covers
from hotelrunner_mcp.calendar.service import CalendarOutcome, CalendarService
from hotelrunner_mcp.errors import InvalidRequest
from hotelrunner_mcp.services import Services
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.times import iso_z

MAX_BATCHES = 200
MAX_SPAN_DAYS = 366  # one CalendarChange spans at most this many days
SHOWN_GROUPS = 40  # cell groups listed per kind; the counts say the rest

Cell = tuple[str, str | None, date, str]


@dataclass
class UndoSelection:
    """What undoing some batches would put back, and the cells it leaves alone (by kind)."""

    batches: list[LedgerBatch]
    restore: dict[LedgerKey, Value] = field(default_factory=dict)
    unknown: list[LedgerKey] = field(default_factory=list)
    superseded: list[LedgerKey] = field(default_factory=list)
    past: list[LedgerKey] = field(default_factory=list)
    unchanged: list[LedgerKey] = field(default_factory=list)


def select_undo(
    batches: Sequence[LedgerBatch],
    target: Sequence[StoredWrite],
    history: Sequence[StoredWrite],
    today: date,
    rate_channels: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
) -> UndoSelection:
    """Decide, cell by cell, what undoing `target` (the rows of `batches`) puts back. `history` holds every
    row ever written to the cells `target` touched; `rate_channels` the channels of each (inv_code,
    rate_code) from the room list (a room-level cell uses the master rate's). Pure: no I/O.

    A cell's state before the undone changes is read channel by channel, as of the first undone write to
    it. Only every-channel and single-channel values are put back, every-channel first, so the result is
    exact whatever channel sets were written before.
    """
    selection = UndoSelection(list(batches))
    undone = {b.id for b in batches}
    targets: dict[Cell, list[StoredWrite]] = {}
    for write in target:
        targets.setdefault(write.cell, []).append(write)
    by_cell: dict[Cell, list[StoredWrite]] = {}
    for write in history:
        by_cell.setdefault(write.cell, []).append(write)
    for cell, writes in targets.items():
        inv, rate = cell[0], cell[1]
        channels = (rate_channels or {}).get((inv, rate or inv), ())
        _select_cell(selection, cell, writes, by_cell.get(cell, []), undone, today, channels)
    return selection


def _select_cell(
    selection: UndoSelection,
    cell: Cell,
    writes: list[StoredWrite],
    history: list[StoredWrite],
    undone: set[int],
    today: date,
    rate_channels: tuple[str, ...],
) -> None:
    inv, rate, day, name = cell
    pivot = min(w.id for w in writes)
    every = any(not w.channels for w in writes)
    affected = set() if every else {c for w in writes for c in w.channels}
    whole: LedgerKey = (inv, rate, day, name, ())

    def single(channel: str) -> LedgerKey:
        return (inv, rate, day, name, (channel,))

    if day < today:
        selection.past += [whole] if every else [single(c) for c in sorted(affected)]
        return
    if any(w.id > pivot and w.batch_id not in undone and _overlap(w.channels, tuple(affected)) for w in history):
        selection.superseded += [whole] if every else [single(c) for c in sorted(affected)]
        return
    earlier = [w for w in history if w.id < pivot]
    mentioned = {c for w in history for c in w.channels}
    channels = sorted(affected) if not every else sorted(mentioned | set(rate_channels))
    before = {c: _latest(earlier, (c,)) for c in channels}
    now = {c: _latest(history, (c,)) for c in channels}
    if not every:
        for channel in channels:
            _put_back(selection, single(channel), before[channel], now[channel])
        return
    known = {c: v for c, v in before.items() if v is not None}
    if rate_channels and mentioned <= set(rate_channels) and len(known) == len(channels):
        # every channel of the rate is known one by one (they may have been set apart)
        values = set(known.values())
        if len(values) == 1:
            value = values.pop()
            if all(now[c] == value for c in channels):
                selection.unchanged.append(whole)
            else:
                selection.restore[whole] = value
            return
        for channel, value in known.items():
            if value != now[channel]:
                selection.restore[single(channel)] = value
        return
    every_before, every_now = _latest(earlier, ()), _latest(history, ())
    if every_before is None:
        selection.unknown.append(whole)  # the channels not known one by one stay as they are
        for channel, value in known.items():
            if value != now[channel]:
                selection.restore[single(channel)] = value
        return
    restored = every_before != every_now
    if restored:
        selection.restore[whole] = every_before
    for channel, value in known.items():
        if value != (every_before if restored else now[channel]):
            selection.restore[single(channel)] = value
    if not restored and not any(key[:4] == cell for key in selection.restore):
        selection.unchanged.append(whole)


def _put_back(selection: UndoSelection, key: LedgerKey, before: Value | None, now: Value | None) -> None:
    if before is None:
        selection.unknown.append(key)
    elif before == now:
        selection.unchanged.append(key)
    else:
        selection.restore[key] = before


def _latest(writes: list[StoredWrite], channels: tuple[str, ...]) -> Value | None:
    """The value of the newest of `writes` that determines `channels` (() = only an every-channel write)."""
    for write in reversed(writes):
        if covers(write.channels, channels):
            return write.value
    return None


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two channel sets (() = every channel) that share a channel."""
    return not a or not b or bool(set(a) & set(b))


def undo_changes(restore: dict[LedgerKey, Value]) -> list[CalendarChange]:
    """The values to put back as CalendarChanges: one per room, rate, channels, field and value over each
    run of consecutive dates; broader channel sets first, so a channel-specific value put back wins."""
    groups: dict[tuple[str, str | None, tuple[str, ...], str, str], list[date]] = {}
    values: dict[tuple[str, str | None, tuple[str, ...], str, str], Value] = {}
    for (inv, rate, day, name, channels), value in restore.items():
        group = (inv, rate, channels, name, _text(value))
        groups.setdefault(group, []).append(day)
        values[group] = value
    changes: list[CalendarChange] = []
    ordered = sorted(groups, key=lambda g: (len(g[2]) > 0, len(g[2]), g[0], g[1] or "", g[3], g[2], g[4]))
    for group in ordered:
        inv, rate, channels, name, _ = group
        for start, end in _runs(sorted(groups[group])):
            changes.append(
                CalendarChange.model_validate(
                    {
                        "room": inv,
                        "rate_code": rate if rate is not None and rate != inv else None,
                        "start_date": start,
                        "end_date": end,
                        "channels": list(channels) or None,
                        name: values[group],
                    }
                )
            )
    return changes


def _runs(days: list[date]) -> Iterable[tuple[date, date]]:
    """Consecutive dates as (first, last), none longer than MAX_SPAN_DAYS."""
    start = prev = days[0]
    for day in days[1:]:
        if day != prev + timedelta(days=1) or (day - start).days >= MAX_SPAN_DAYS:
            yield start, prev
            start = day
        prev = day
    yield start, prev


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def describe_cells(keys: Sequence[LedgerKey], why: str, shown: int = SHOWN_GROUPS) -> list[str]:
    """Cells in plain words, grouped by room, rate, field and channels with date ranges."""
    groups: dict[tuple[str, str | None, str, tuple[str, ...]], list[date]] = {}
    for inv, rate, day, name, channels in keys:
        groups.setdefault((inv, rate, name, channels), []).append(day)
    lines = []
    for (inv, rate, name, channels), days in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2], kv[0][3])
    ):
        runs = list(_runs(sorted(set(days))))
        spans = ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in runs[:4])
        if len(runs) > 4:
            spans += f" and {len(runs) - 4} more ranges"
        where = f"on {', '.join(channels)}" if channels else "on every channel"
        rate_text = f" rate {rate}" if rate and rate != inv else ""
        lines.append(f"{inv}{rate_text} {name} {where}: {spans} ({len(set(days))} dates) — {why}")
    if len(lines) > shown:
        lines = [*lines[:shown], f"… and {len(lines) - shown} more groups"]
    return lines


class UndoOutcome(CalendarOutcome):
    """The preview (or the applied result) of an undo, with what it leaves alone."""

    undoing: str = Field(description="Which changes are undone: transactions, when they were set, how many values")
    restoring_cells: int = Field(description="(room, rate, date, field, channels) cells put back")
    unknown_cells: int = Field(description="Cells whose earlier value this server never knew: left alone")
    unknown: list[str] = Field(description="Those cells, grouped; set them by hand if they need an earlier value")
    superseded_cells: int = Field(description="Cells changed again later by this server: left alone")
    superseded: list[str]
    past_cells: int = Field(description="Cells on past dates: left alone")
    unchanged_cells: int = Field(description="Cells already holding their earlier value: nothing to send")


class UndoService:
    """Preview and apply undos through CalendarService (same plan store, compiler and ledger)."""

    def __init__(self, services: Services, *, today: date | None = None) -> None:
        self._s = services
        self._calendar = CalendarService(services, today=today)
        self._today = today

    def select(
        self,
        *,
        transaction_ids: Sequence[str] | None,
        since: datetime | None,
        until: datetime | None,
        today: date,
        rate_channels: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
    ) -> UndoSelection:
        """The batches named, and what undoing them puts back (local only, costs nothing)."""
        if not transaction_ids and since is None and until is None:
            raise InvalidRequest(
                "say what to undo: transaction_ids (from update_calendar's results or get_calendar), or a time range "
                "set_from/set_to of this server's changes. Nothing was sent."
            )
        if transaction_ids and (since is not None or until is not None):
            raise InvalidRequest("give transaction_ids OR set_from/set_to, not both. Nothing was sent.")
        if since is not None and until is not None and until < since:
            raise InvalidRequest(f"set_to ({until.isoformat()}) is before set_from ({since.isoformat()}); swap them.")
        ledger = self._s.ledger
        batches = ledger.batches(
            transaction_ids=list(dict.fromkeys(transaction_ids)) if transaction_ids else None,
            since=since,
            until=until,
            limit=MAX_BATCHES + 1,
        )
        if transaction_ids:
            missing = sorted(set(transaction_ids) - {b.transaction_id for b in batches})
            if missing:
                raise InvalidRequest(
                    f"this server's ledger has no change with transaction id {', '.join(missing)}: only changes made "
                    "through this server (update_calendar, undo_calendar_change) can be undone. get_calendar shows "
                    "each value's transaction id. Nothing was sent."
                )
        if not batches:
            raise InvalidRequest(
                "this server made no calendar change in that time range (times are when HotelRunner accepted them, "
                "UTC); get_calendar shows each value's set_at. Nothing was sent."
            )
        if len(batches) > MAX_BATCHES:
            raise InvalidRequest(
                f"that covers more than {MAX_BATCHES} recorded requests; undo a shorter time range. Nothing was sent."
            )
        target = ledger.writes_of(b.id for b in batches)
        history = ledger.history({w.cell for w in target})
        return select_undo(batches, target, history, today, rate_channels)

    async def run(
        self,
        *,
        transaction_ids: Sequence[str] | None,
        since: datetime | None,
        until: datetime | None,
        plan_id: str | None,
    ) -> UndoOutcome:
        """Preview without plan_id (sends nothing), apply with it. The undo is recomputed from the ledger
        both times; if the ledger moved in between, the plan no longer matches and nothing is sent."""
        today = self._today or property_today()
        await off_loop(
            self.select, transaction_ids=transaction_ids, since=since, until=until, today=today
        )  # refuses at no cost
        rooms = (await self._s.catalog.get()).rooms  # each rate's channels (remembered; 1 request if not)
        rate_channels = {(r.inv_code, r.rate_code or r.inv_code): tuple(r.channel_codes) for r in rooms}
        selection = await off_loop(
            self.select,
            transaction_ids=transaction_ids,
            since=since,
            until=until,
            today=today,
            rate_channels=rate_channels,
        )
        changes = undo_changes(selection.restore)
        if len(changes) > MAX_CHANGES:
            raise InvalidRequest(
                f"putting these values back takes {len(changes)} separate changes, more than {MAX_CHANGES}; undo fewer "
                "transactions or a shorter time range at a time. Nothing was sent."
            )
        if not changes and plan_id is not None:
            stored = await off_loop(self._s.plans.get, plan_id)
            await off_loop(
                self._s.plans.check, plan_id, stored.fingerprint if stored else ""
            )  # used, expired, unknown: says so
            raise InvalidRequest(
                f"plan {plan_id} has nothing left to put back: {self._nothing_to_do(selection).next_step}"
            )
        if not changes:
            return self._nothing_to_do(selection)
        if plan_id is not None:
            await off_loop(self._check_plan, plan_id, changes)
        outcome = await self._calendar.run(changes, plan_id)
        return self._outcome(outcome, selection, plan_id)

    def _check_plan(self, plan_id: str, changes: Sequence[CalendarChange]) -> None:
        """A plan from another undo (or one the ledger has moved past) gets words of its own."""
        stored = self._s.plans.get(plan_id)
        if stored is not None and stored.used_at is None and stored.fingerprint != fingerprint(changes):
            raise InvalidRequest(
                f"plan {plan_id} does not match this undo any more: either it was previewed for other changes, or "
                "this server's calendar changed since the preview (another change was applied). Nothing was sent. "
                "Preview the undo again (without plan_id) and apply with the new plan id."
            )

    def _nothing_to_do(self, selection: UndoSelection) -> UndoOutcome:
        kinds = []
        if selection.unknown:
            kinds.append(f"{len(selection.unknown)} have no earlier value this server knew")
        if selection.superseded:
            kinds.append(f"{len(selection.superseded)} were changed again later")
        if selection.past:
            kinds.append(f"{len(selection.past)} are in the past")
        if selection.unchanged:
            kinds.append(f"{len(selection.unchanged)} already hold their earlier value")
        return UndoOutcome(
            applied=False,
            changes=[],
            upstream_requests=0,
            naive_requests=0,
            dates_touched=0,
            requests=[],
            next_step="Nothing can be put back, so nothing was sent and no plan id was issued: of the cells these "
            f"changes set, {'; '.join(kinds) or 'none remain'}.",
            **_leftovers(selection),
        )

    @staticmethod
    def _outcome(outcome: CalendarOutcome, selection: UndoSelection, plan_id: str | None) -> UndoOutcome:
        data = outcome.model_dump()
        if plan_id is None and outcome.plan_id is not None:
            data["next_step"] = (
                f"Nothing was sent. Show the user what is put back and what is left alone; to apply it, call "
                f"undo_calendar_change again with the same transaction_ids or time range and "
                f"plan_id={outcome.plan_id!r} before {outcome.plan_expires_at} UTC."
            )
        return UndoOutcome(**data, **_leftovers(selection))


def _leftovers(selection: UndoSelection) -> dict[str, object]:
    batches = selection.batches
    ids = [b.transaction_id for b in batches if b.transaction_id]
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    span = [iso_z(b.set_at) for b in (batches[0], batches[-1])]
    when = f"set at {span[0]}" if span[0] == span[1] else f"set between {span[0]} and {span[1]}"
    values = sum(b.writes for b in batches)
    return {
        "undoing": f"{len(batches)} recorded request(s), transaction(s) {shown or '(none recorded)'}, {when}, "
        f"{values} value(s)",
        "restoring_cells": len(selection.restore),
        "unknown_cells": len(selection.unknown),
        "unknown": describe_cells(selection.unknown, "no earlier value known (set outside this server, or never)"),
        "superseded_cells": len(selection.superseded),
        "superseded": describe_cells(selection.superseded, "changed again later by this server"),
        "past_cells": len(selection.past),
        "unchanged_cells": len(selection.unchanged),
    }
