"""Calendar writes end to end: validate, compile, preview with a plan id, apply, record in the ledger.

Size: the preview → plan id → apply contract and what is recorded after each request stay together, so
an outcome (ok, partial, refused, unknown) is decided and ledgered in one place."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median
from typing import Literal, TypedDict

from pydantic import BaseModel, Field

from hotelrunner_mcp.calendar.changes import (
    CalendarChange,
    ResolvedChange,
    fingerprint,
    property_today,
    target_rate,
    validate_changes,
)
from hotelrunner_mcp.calendar.compiler import CalendarPlan, PlannedRequest, compile_plan
from hotelrunner_mcp.calendar.ledger import CHANNEL_STATES, ChannelResult, LedgerKey, LedgerWrite, Value
from hotelrunner_mcp.calendar.summary import ChangeGroup, group_changes, previous_label
from hotelrunner_mcp.errors import HotelRunnerError, QuotaExhausted, ReadOnlyMode
from hotelrunner_mcp.gate.audit import current_call
from hotelrunner_mcp.hotelrunner.models import (
    DailyRoomUpdate,
    RangeUpdate,
    Transaction,
    TransactionDetail,
    UpdateResult,
)
from hotelrunner_mcp.reservations.mirror import ReservationStore
from hotelrunner_mcp.reservations.queries import CANCELED_STATES, DateRange, ReservationQuery
from hotelrunner_mcp.services import Services
from hotelrunner_mcp.storage.offloop import off_loop, off_loop_shielded

log = logging.getLogger(__name__)


class NothingApplied(HotelRunnerError):
    """HotelRunner accepted none of a plan's requests: every request's fate, worst first in the code."""

    def __init__(self, results: Sequence[RequestOutcome], *, sent: int, plan_kept: bool) -> None:
        lines = "\n".join(f"- {r.status}: {r.request}" + (f" — {r.message}" if r.message else "") for r in results)
        unknown = any(r.status == "outcome_unknown" for r in results)
        if unknown:
            verdict = "Some changes MAY have been applied (outcome unknown): check before resending anything."
        else:
            verdict = "Nothing was applied."
        if plan_kept:
            plan = "Nothing was sent, so the plan id is still valid: apply it again later."
        else:
            plan = "This plan id is used up: preview the changes again and apply with the new plan id."
        super().__init__(
            f"HotelRunner accepted none of the {len(results)} request(s) ({sent} sent). {verdict} {plan}\n{lines}"
        )
        self.code = "outcome_unknown" if unknown else next((r.error_code for r in results if r.error_code), "failed")
        self.sent = sent


class PreviousValues(BaseModel):
    """What the ledger says this server last set for one field of a change, over its dates."""

    field: str
    values: dict[str, int] = Field(
        description="Each previous value we set (with the channels that refused it, if checked), and on how many dates"
    )
    unknown_dates: int = Field(description="Dates where the ledger knows no value (set elsewhere or never)")


class ChangePreview(BaseModel):
    index: int
    description: str
    previous: list[PreviousValues]
    warnings: list[str] = Field(
        default_factory=list, description="Things to double-check with the user before applying (e.g. a price jump)"
    )


class RequestOutcome(BaseModel):
    """One upstream request of an applied plan."""

    request: str
    status: Literal["ok", "partial", "not_applied", "outcome_unknown", "failed", "skipped"]
    transaction_id: str | None = None
    message: str | None = None
    error_code: str | None = None
    errors: list[str] = Field(default_factory=list)


class CalendarOutcome(BaseModel):
    """A preview (applied=False, with a plan id) or the result of applying it."""

    applied: bool
    plan_id: str | None = None
    plan_expires_at: str | None = None
    changes: list[ChangePreview]
    summary: list[ChangeGroup] = Field(
        default_factory=list, description="The changes summed up per room, rate and field (when too many to list)"
    )
    upstream_requests: int = Field(description="Requests this plan costs (or cost) against the daily quota")
    naive_requests: int = Field(description="What one request per room and date would have cost")
    dates_touched: int
    requests: list[str] = Field(description="Each upstream request in plain words")
    results: list[RequestOutcome] = Field(default_factory=list)
    next_step: str


class PreviewParts(TypedDict):
    changes: list[ChangePreview]
    summary: list[ChangeGroup]


class CalendarService:
    """`preview` spends nothing (unless the room list must be fetched); `apply` spends `request_count`."""

    def __init__(self, services: Services, *, today: date | None = None) -> None:
        self._s = services
        self._today = today

    async def plan(self, changes: Sequence[CalendarChange]) -> tuple[list[ResolvedChange], CalendarPlan]:
        """Validate the changes against the (remembered) room list and compile them; sends nothing else."""
        rooms = (await self._s.catalog.get()).rooms
        today, counts = self._today or property_today(), self._s.settings.room_counts

        def work() -> tuple[list[ResolvedChange], CalendarPlan]:
            resolved = validate_changes(changes, rooms, today=today, room_counts=counts)
            return resolved, compile_plan(resolved)

        return await off_loop(work)  # a year for every room is CPU work: keep the loop serving

    async def run(self, changes: Sequence[CalendarChange], plan_id: str | None) -> CalendarOutcome:
        """Preview when no plan id is given (unless direct apply is allowed), else apply that plan."""
        if self._s.settings.read_only:
            raise ReadOnlyMode(
                "this server runs read-only (HOTELRUNNER_READ_ONLY=true): calendar changes are refused. "
                "Ask the owner to turn read-only off to change prices or availability."
            )
        digest = fingerprint(changes)
        if plan_id is not None:
            await off_loop(self._s.plans.check, plan_id, digest)  # a bad plan id costs nothing, not even the room list
        resolved, plan = await self.plan(changes)
        if plan_id is None and not self._s.settings.apply_without_preview:
            return await self._preview(resolved, plan, digest)
        await off_loop(self._check_quota, plan)
        if plan_id is not None:
            await off_loop(self._s.plans.redeem, plan_id, digest)
        try:
            outcome = await self._apply(resolved, plan)
        except NothingApplied as failure:
            if plan_id is not None and failure.sent == 0:
                await off_loop_shielded(self._s.plans.release, plan_id)
            elif plan_id is not None:
                await off_loop_shielded(
                    self._s.plans.finish, plan_id, "outcome_unknown" if failure.code == "outcome_unknown" else "failed"
                )
            raise
        except BaseException:
            if plan_id is not None:
                # cancelled or crashed while sending
                await off_loop_shielded(self._s.plans.finish, plan_id, "outcome_unknown")
            raise
        if plan_id is not None:
            statuses = {r.status for r in outcome.results}
            await off_loop_shielded(self._s.plans.finish, plan_id, "applied" if statuses == {"ok"} else "partial")
        return outcome

    # ------------------------------------------------------------------ preview

    async def _preview(self, resolved: list[ResolvedChange], plan: CalendarPlan, digest: str) -> CalendarOutcome:
        issued = await off_loop(self._s.plans.issue, digest, {"requests": plan.request_count, "dates": plan.date_count})
        left = (await off_loop(self._s.limiter.status)).left_today
        fits = plan.request_count <= left
        step = (
            f"Nothing was sent. To apply exactly these changes, call update_calendar again with the same changes "
            f"and plan_id={issued.plan_id!r} before {issued.expires_at_iso} UTC."
            if fits
            else f"This plan needs {plan.request_count} requests but only {left} are left today; it cannot be applied now."
        )
        return CalendarOutcome(
            applied=False,
            plan_id=issued.plan_id,
            plan_expires_at=issued.expires_at_iso,
            **(await off_loop(self._change_previews, resolved, plan)),
            upstream_requests=plan.request_count,
            naive_requests=plan.naive_request_count,
            dates_touched=plan.date_count,
            requests=[r.summary for r in plan.requests],
            next_step=step,
        )

    def _change_previews(self, resolved: list[ResolvedChange], plan: CalendarPlan) -> PreviewParts:
        """Each change in plain words with what this server set before and its warnings, and the summary."""
        keys = {rc.index: list(_ledger_keys(rc)) for rc in resolved}
        priced = {rc.inv_code for rc in resolved if "price" in rc.values}
        currencies = {rc.inv_code: rc.rate.sales_currency for rc in resolved if "price" in rc.values}
        usual = usual_prices(self._s.store, priced, self._today or property_today(), currencies) if priced else {}
        known = self._s.ledger.previous_many(key for ks in keys.values() for key in ks)
        previews = []
        for rc, description in zip(resolved, plan.descriptions, strict=True):
            by_field: dict[str, Counter[str]] = {}
            unknown: Counter[str] = Counter()
            old_prices: set[Decimal] = set()
            for key in keys[rc.index]:
                field = key[3]
                found = known.get(key)
                if found is None:
                    unknown[field] += 1
                    continue
                by_field.setdefault(field, Counter())[previous_label(found)] += 1
                if field == "price" and isinstance(found.value, Decimal):
                    old_prices.add(found.value)
            fields = dict.fromkeys([*rc.values])
            previous = [
                PreviousValues(field=f, values=dict(by_field.get(f, {})), unknown_dates=unknown[f]) for f in fields
            ]
            warnings = price_jump_warnings(rc.values.get("price"), old_prices)
            if not warnings:  # no price of ours to compare with: compare with what guests pay
                warnings = usual_price_warnings(rc.values.get("price"), usual.get(rc.inv_code))
            previews.append(
                ChangePreview(index=rc.index, description=description, previous=previous, warnings=warnings)
            )
        warned = {p.index for p in previews if p.warnings}
        return {"changes": previews, "summary": group_changes(resolved, keys, known, warned)}

    def _check_quota(self, plan: CalendarPlan) -> None:
        status = self._s.limiter.status()
        if plan.request_count > status.left_today:
            raise QuotaExhausted(
                f"this plan needs {plan.request_count} upstream requests but only {status.left_today} of "
                f"{status.per_day} are left in the rolling 24 h; nothing was sent and the plan id is still valid. "
                f"Split the changes or wait{f' until {status.next_free_at}' if status.next_free_at else ''}.",
                used=status.used_today,
                limit=status.per_day,
                next_free_at=status.next_free_at,
            )

    # ------------------------------------------------------------------ channel results

    async def check_channel_results(
        self, transaction_ids: Sequence[str], *, limit: int
    ) -> list[tuple[str, Transaction]]:
        """GET /infos/transaction_details for these ids (or the latest unchecked ones), recorded in the ledger."""
        client = self._s.require_client()
        checked = []
        for transaction_id in transaction_ids or await off_loop(self._s.ledger.pending_transactions, limit=limit):
            transaction = await client.get_transaction(transaction_id)
            await off_loop_shielded(
                self._s.ledger.record_transaction_result, transaction_id, channel_results(transaction)
            )
            checked.append((transaction_id, transaction))
        return checked

    # ------------------------------------------------------------------ apply

    async def _apply(self, resolved: list[ResolvedChange], plan: CalendarPlan) -> CalendarOutcome:
        previews = await off_loop(self._change_previews, resolved, plan)
        sent_before = _requests_sent()
        results: list[RequestOutcome] = []
        for request in plan.requests:
            if results and results[-1].status in ("outcome_unknown", "failed", "skipped"):
                results.append(
                    RequestOutcome(
                        request=request.summary,
                        status="skipped",
                        message="not sent because an earlier request failed; preview again to retry what is left",
                    )
                )
                continue
            results.append(await self._send(request))
        done = sum(r.status in ("ok", "partial") for r in results)
        if done == 0:
            sent = _requests_sent() - sent_before
            raise NothingApplied(results, sent=sent, plan_kept=sent == 0)
        return CalendarOutcome(
            applied=True,
            **previews,
            upstream_requests=plan.request_count,
            naive_requests=plan.naive_request_count,
            dates_touched=plan.date_count,
            requests=[r.summary for r in plan.requests],
            results=results,
            next_step=_after_apply(done, len(results)),
        )

    async def _send(self, request: PlannedRequest) -> RequestOutcome:
        """Send one planned request and say what became of it; ledger what HotelRunner accepted."""
        client = self._s.require_client()
        try:
            if isinstance(request.payload, RangeUpdate):
                result = await client.update_range(request.payload)
            else:
                result = await client.update_daily(request.payload)
        except HotelRunnerError as exc:
            status = {"outcome_unknown": "outcome_unknown", "not_applied": "not_applied"}.get(exc.code, "failed")
            return RequestOutcome(request=request.summary, status=status, message=exc.message, error_code=exc.code)
        message = "some parts were refused and are not applied; see errors" if result.partial else None
        refusals = result.refusals() if result.errors else []
        try:
            await off_loop_shielded(self._record, request, result)
        except Exception as exc:  # HotelRunner took it: say so, even if our own bookkeeping failed
            log.exception("ledger write failed after an accepted calendar update")
            message = (
                f"applied by HotelRunner, but this server could not record it in its ledger "
                f"({type(exc).__name__}): get_calendar will not show these values"
            )
        return RequestOutcome(
            request=request.summary,
            status="partial" if result.partial else "ok",
            transaction_id=result.transaction_id,
            errors=[str(e) for e in (refusals if refusals is not None else result.errors)],
            message=message,
        )

    def _record(self, request: PlannedRequest, result: UpdateResult) -> None:
        """Ledger what HotelRunner accepted: refused (entry, date) cells are left out, and the whole request
        when its errors cannot be matched to what was sent (better unknown than wrong)."""
        refused = refused_cells(request, result)
        if refused is None:
            return
        call = current_call()
        self._s.ledger.record(
            list(ledger_writes(request, skip=refused)),
            transaction_id=result.transaction_id,
            tool_call_id=call.call_id if call else None,
            client=call.client if call else None,
        )


# --------------------------------------------------------------------------- ledger mapping


def ledger_rate(field: str, rate_code: str | None) -> str | None:
    """Availability belongs to the room type; prices and restrictions to the rate."""
    return None if field == "availability" else rate_code


Refused = set[tuple[int, date | None]]
"""(position of the room entry in the request, refused date; None = every date of the entry)."""


def refused_cells(request: PlannedRequest, result: UpdateResult) -> Refused | None:
    """The cells a partial answer refused, matched by the code each entry was sent with (HotelRunner's
    documented `[{"HR:1903": {"2025-01-01": "Invalid price"}}]`); None when an error names something
    that was not sent, so nothing of the request can be trusted as applied."""
    if not result.errors:
        return set()
    refusals = result.refusals()
    if refusals is None:
        return None
    entries = request.payload if isinstance(request.payload, list) else [request.payload]
    sent_as = [entry.rate_code if entry.by_rate else entry.inv_code for entry in entries]
    refused: Refused = set()
    for refusal in refusals:
        # A refusal naming a room code may be about any rate of that room: taint them all (unknown > wrong).
        positions = [
            i
            for i, (code, e) in enumerate(zip(sent_as, entries, strict=True))
            if code == refusal.code or e.inv_code == refusal.code
        ]
        if not positions:
            return None
        if refusal.date is not None and not any(refusal.date in _entry_days(entries[i]) for i in positions):
            return None  # names a date that was not sent: nothing of the answer can be read with confidence
        refused.update((i, refusal.date) for i in positions)
    return refused


def _entry_days(entry: RangeUpdate | DailyRoomUpdate) -> set[date]:
    if isinstance(entry, RangeUpdate):
        return set(_range_days(entry))
    return {day.date for day in entry.dates}


def ledger_writes(request: PlannedRequest, skip: Refused | None = None) -> Iterator[LedgerWrite]:
    """One LedgerWrite per (room, rate, date, field) a planned request sets, leaving out refused cells."""
    skip = skip or set()
    payload = request.payload
    if isinstance(payload, RangeUpdate):
        if (0, None) in skip:
            return
        cells = [(day, payload.set_fields()) for day in _range_days(payload)]
        yield from _writes(payload, tuple(payload.channel_codes or ()), cells, 0, skip)
        return
    for position, entry in enumerate(payload):
        if (position, None) not in skip:
            cells = [(day.date, day.set_fields()) for day in entry.dates]
            yield from _writes(entry, tuple(entry.channel_codes or ()), cells, position, skip)


def _writes(
    target: RangeUpdate | DailyRoomUpdate,
    channels: tuple[str, ...],
    cells: list[tuple[date, dict[str, Value]]],
    position: int,
    skip: Refused,
) -> Iterator[LedgerWrite]:
    for day, fields in cells:
        if (position, day) in skip:
            continue
        for field, value in fields.items():
            yield LedgerWrite(target.inv_code, ledger_rate(field, target.rate_code), day, field, value, channels)


def _range_days(update: RangeUpdate) -> Iterator[date]:
    day = update.start_date
    while day <= update.end_date:
        if update.days is None or (day.weekday() + 1) % 7 in update.days:
            yield day
        day += timedelta(days=1)


def _ledger_keys(rc: ResolvedChange) -> Iterator[LedgerKey]:
    channels = tuple(sorted(rc.channels or ()))
    for day in rc.dates:
        for field in rc.values:
            yield (rc.inv_code, ledger_rate(field, target_rate(rc.inv_code, rc.rate_code, field)), day, field, channels)


def channel_results(transaction: Transaction) -> list[ChannelResult]:
    """One result per channel for the whole transaction, the worst state winning.

    The documented details name a room only by the channel's own ids and words (`allocation_group`
    "8833301", `code` "156754:8833301", a name in the channel's language), never by inv_code, so they
    cannot be joined to our rooms: a refusal is shown on every value of the transaction for that
    channel, naming the channel's room so a person can tell which one it was.
    """
    by_channel: dict[str, list[TransactionDetail]] = {}
    for detail in transaction.details:
        by_channel.setdefault(detail.channel_code or "?", []).append(detail)
    results = []
    for channel, details in by_channel.items():
        # A state the docs do not list ("error", "refused", ...) is read as a refusal, keeping its word.
        states = {d.state if d.state in CHANNEL_STATES else "failed" for d in details}
        state = next(s for s in ("failed", "in_progress", "succeeded") if s in states)
        failed = [d for d in details if d.state not in ("succeeded", "in_progress")]
        reasons = "; ".join(
            f"{d.name or d.code or 'a room'}: {d.error_message or d.state or 'refused, no reason given'}"
            for d in failed
        )
        if failed and len(details) > 1:
            reasons = f"{len(failed)} of {len(details)} parts refused: {reasons}"
        results.append(ChannelResult(channel, state, reasons[:500] or None))
    # HotelRunner's counts may say more than its list: an unlisted job in progress keeps the transaction
    # pending (it is checked again); an unlisted failure is shown rather than lost.
    listed_failed = sum(1 for d in transaction.details if d.state not in ("succeeded", "in_progress"))
    listed_pending = sum(1 for d in transaction.details if d.state == "in_progress")
    if transaction.counts.in_progress > listed_pending:
        results.append(ChannelResult("(not listed)", "in_progress", None))
    if transaction.counts.failed > listed_failed:
        results.append(
            ChannelResult(
                "(not listed)",
                "failed",
                f"HotelRunner counts {transaction.counts.failed} failure(s) but lists {listed_failed}",
            )
        )
    return results


PRICE_JUMP = Decimal("0.4")  # a new price 40 % away from the one we set before is worth a second look


def price_jump_warnings(new: object, old_prices: set[Decimal]) -> list[str]:
    """A warning when a new price is far from a price this server set before on the same dates: the
    cheapest way to catch a typo (18 for 180) before Booking.com sells at it."""
    if not isinstance(new, Decimal) or not old_prices:
        return []
    far = sorted(old for old in old_prices if old > 0 and abs(new - old) / old > PRICE_JUMP)
    if not far:
        return []
    change = (new - far[0]) / far[0]
    direction = "below" if change < 0 else "above"
    return [
        f"price {new:.2f} is {abs(change):.0%} {direction} the {far[0]:.2f} set before on some of these dates; "
        "confirm it is not a typo before applying"
    ]


USUAL_PRICE_WINDOW_DAYS = 180
FAR_BELOW_USUAL = Decimal("0.5")  # half of what guests usually pay is worth a second look


@dataclass(frozen=True)
class UsualPrice:
    """The median nightly price guests paid for a room type, from the bookings in the mirror."""

    median: Decimal
    nights: int


def usual_prices(
    store: ReservationStore, inv_codes: Collection[str], today: date, currencies: Mapping[str, str | None] | None = None
) -> dict[str, UsualPrice]:
    """Median booked nightly price per room type, over stays within 180 days of today (canceled ones left
    out): the reference a price is checked against when this server never set one on those dates."""
    window = DateRange(today - timedelta(days=USUAL_PRICE_WINDOW_DAYS), today + timedelta(days=USUAL_PRICE_WINDOW_DAYS))
    prices: dict[str, list[Decimal]] = {code: [] for code in inv_codes}
    for booking in store.find(ReservationQuery(overlapping=window)):
        if (booking.state or "").lower() in CANCELED_STATES:
            continue
        for line in booking.rooms:
            code = line.inv_code or line.code
            expected = (currencies or {}).get(code or "")
            if currencies is not None and (expected is None or (booking.currency or "").upper() != expected.upper()):
                continue  # 80 EUR is no reference for a price in MAD: compare like with like, or not at all
            if code in prices:
                prices[code] += [d.price for d in line.daily_prices if d.price is not None and d.price > 0]
    return {code: UsualPrice(Decimal(median(found)), len(found)) for code, found in prices.items() if found}


def usual_price_warnings(new: object, usual: UsualPrice | None) -> list[str]:
    """A warning when a new price is far below what guests usually pay for the room (a typo, or an
    instruction smuggled into a guest note, reaching Booking.com at 1 EUR)."""
    if not isinstance(new, Decimal) or usual is None or new >= usual.median * FAR_BELOW_USUAL:
        return []
    return [
        f"price {new:.2f} is {1 - new / usual.median:.0%} below the {usual.median:.2f} guests usually pay for this "
        f"room (median of {usual.nights} booked nights); confirm with the user before applying"
    ]


def _requests_sent() -> int:
    """Upstream requests the gate has counted for the current tool call (0 outside one)."""
    call = current_call()
    return call.upstream_requests if call is not None else 0


def _after_apply(done: int, total: int) -> str:
    if done == total:
        return (
            "All requests were accepted by HotelRunner. Channels apply them asynchronously: call "
            "check_channel_results in a few minutes to see whether Booking.com, Expedia and the others took them."
        )
    return (
        f"{done} of {total} requests were accepted. Read each result: 'not_applied' parts were not applied and can "
        "be previewed and applied again; 'outcome_unknown' may or may not have been applied — check before resending."
    )
