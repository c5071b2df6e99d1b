"""Incremental sync of the reservation mirror from GET /reservations.

The first sync backfills as far back as HotelRunner looks (`from_date` = today − backfill_days); every
later one also asks only for what changed since the previous sync began (`from_last_update_date`, a
date in HR-v1), `per_page` at its maximum. A sync after N changes costs ceil(N / page size) requests
(plus whatever else HotelRunner reports as updated on the cursor's day) and an idle one exactly 1.

The cursor is the start of the last complete sync minus `overlap_seconds` (a margin for clock skew
between us and HotelRunner): everything updated before it is in the mirror. It is not the largest
`updated_at` seen, which can jump past a change that landed on an earlier page while we paged.
`from_date` is sent on every sync: HotelRunner applies its creation-date window (default 10 days)
to incremental listings too.

A sync stopped at its page limit (max_sync_requests) keeps its progress in mirror.db (`sync_progress`:
the listing's from_date / from_last_update_date, when it began, the next page, HotelRunner's count), and
the next sync resumes at that page: a backfill of N bookings costs ceil(N / 50) requests in total over as
many questions as it takes. HotelRunner lists by completed_at ascending, so bookings made meanwhile join
at the end (read when the listing gets there) and changes to pages already read are caught by the first
incremental sync, whose cursor is the start of the whole listing, not of its last part.

Never two syncs at once: callers in one process share the running sync; across processes a lease row
in mirror.db makes the second process wait for the first and reuse its report instead of syncing again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

import anyio

from hotelrunner_mcp.errors import HotelRunnerError
from hotelrunner_mcp.hotelrunner.client import MAX_PER_PAGE
from hotelrunner_mcp.hotelrunner.models import Reservation, ReservationPage
from hotelrunner_mcp.reservations.mirror import ReservationStore, SyncProgress, SyncState, UpsertCounts
from hotelrunner_mcp.reservations.queries import utc_text
from hotelrunner_mcp.storage.offloop import off_loop, off_loop_shielded
from hotelrunner_mcp.storage.sqlite import lease_owner

logger = logging.getLogger(__name__)

LEASE_NAME = "reservation_sync"


def utc_now() -> datetime:
    return datetime.now(UTC)


class ReservationSource(Protocol):
    """The part of HotelRunnerClient the sync uses (one call = one upstream request through the Gate)."""

    async def get_reservations(
        self,
        *,
        from_date: date | None = None,
        from_last_update_date: date | None = None,
        per_page: int | None = None,
        page: int | None = None,
        undelivered: bool | None = None,
    ) -> ReservationPage: ...


class SyncBusy(HotelRunnerError):
    """A routine sync found another process syncing and did not wait for it."""

    code = "sync_busy"


@dataclass(frozen=True)
class SyncReport:
    """What one sync did and what it cost. `shared` is True for callers that reused another's sync.

    `requests` counts the GET /reservations pages asked for; a page the client had to retry (timeout,
    502-504) cost one more upstream request, which the quota ledger shows.
    """

    mode: Literal["backfill", "incremental"]
    since: str  # from_date (backfill) or from_last_update_date (incremental) sent, YYYY-MM-DD
    requests: int
    pages: int
    fetched: int
    new: int
    updated: int
    unchanged: int
    stale: int
    started_at: datetime
    took_seconds: float
    shared: bool = False
    complete: bool = True  # False: stopped at the caller's page limit; the next sync resumes at the next page
    first_page: int = 1  # > 1: this sync resumed one that had stopped at its page limit
    listed: int = 0  # how many bookings HotelRunner's listing held (its `count`)
    listed_pages: int = 0
    total_fetched: int = 0  # across every part of a resumed sync, this one included
    total_requests: int = 0
    # The listing is in no booking order: it cannot be resumed page by page, only read in one pass of
    # `listed_pages` requests (a sync stopped short starts again at page 1; `hotelrunner-mcp sync` does it).
    unordered: bool = False

    @property
    def requests_left(self) -> int:
        """About how many more requests the listing needs (0 when complete)."""
        if self.complete:
            return 0
        return self.listed_pages if self.unordered else max(self.listed_pages - self.pages + 1, 1)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncReport:
        return cls(**{**data, "started_at": datetime.fromisoformat(data["started_at"])})


@dataclass(frozen=True)
class Freshness:
    """How current the mirror is. `age_seconds` is None before the first sync."""

    last_sync_at: datetime | None
    age_seconds: float | None
    max_age_seconds: float
    last_change_at: datetime | None
    last_change_source: str | None
    last_push_at: datetime | None
    unfinished: SyncProgress | None = None  # a sync stopped at its page limit, resumed by the next one

    @property
    def stale(self) -> bool:
        return self.age_seconds is None or self.age_seconds > self.max_age_seconds or self.unfinished is not None

    def describe(self) -> str:
        """One sentence for an agent, e.g. "mirror synced 4 min ago; last push received 10:02 UTC"."""
        if self.age_seconds is None:
            text = "the mirror has never been synced with HotelRunner"
        else:
            text = f"mirror synced {_ago(self.age_seconds)} ago"
        if self.unfinished is not None:
            text += "; " + describe_progress(self.unfinished)
        if self.last_push_at:
            text += f"; last push received {self.last_push_at:%Y-%m-%d %H:%M} UTC"
        return text


def describe_progress(progress: SyncProgress) -> str:
    """How far an unfinished sync is, e.g. "INCOMPLETE: first sync (backfill) 1,250 of ~2,100 bookings, ..."."""
    left = progress.requests_left
    what = "first sync (backfill)" if progress.mode == "backfill" else "catch-up sync"
    nouns = "bookings" if progress.mode == "backfill" else "changed bookings"
    if progress.unordered:
        return (
            f"INCOMPLETE: HotelRunner lists bookings in no order, so its listing (~{progress.count:,} {nouns}) can "
            f"only be read in one pass of {progress.pages:,} request(s), never resumed mid-way; answers may miss "
            "bookings until `hotelrunner-mcp sync` reads it (a question does it only when it fits its "
            "max_sync_requests and one minute of the quota)"
        )
    return (
        f"INCOMPLETE: {what} has read {progress.fetched:,} of ~{max(progress.count, progress.fetched):,} {nouns} "
        f"in {progress.requests:,} request(s), about {left:,} more request(s) to go; answers may miss the rest "
        "until it finishes (every question that syncs continues it where it stopped)"
    )


def _ascending(page: Sequence[Reservation], after: str | None) -> bool:
    """A page in completed_at order that does not start before the page read just before it."""
    stamps = [_completed(r) for r in page if r.completed_at is not None]
    return stamps == sorted(stamps) and (after is None or not stamps or stamps[0] >= after)


def _descending(page: Sequence[Reservation]) -> bool:
    """A page newest first. Such a listing only grows at its front (new bookings) and shrinks at its end
    (bookings leaving the 30-day window), so a page read later holds the same bookings or older ones: a
    sync resumed at page N may read a booking twice, never skip one."""
    stamps = [_completed(r) for r in page if r.completed_at is not None]
    return stamps == sorted(stamps, reverse=True)


def _completed(reservation: Reservation) -> str:
    """Where a booking sits in HotelRunner's listing (completed_at ascending), in storage format."""
    return utc_text(reservation.completed_at) if reservation.completed_at else ""


HOTELRUNNER_UTC_OFFSET = timedelta(hours=3)  # HotelRunner's listing dates and windows are on +03:00


def _day_changed(before: datetime, now: datetime) -> bool:
    """A date boundary (UTC or HotelRunner's +03:00) lies between two moments."""
    return (
        before.date() != now.date() or (before + HOTELRUNNER_UTC_OFFSET).date() != (now + HOTELRUNNER_UTC_OFFSET).date()
    )


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass
class _Inflight:
    """The sync this process is running; other callers wait on `done` and read its outcome."""

    done: anyio.Event = field(default_factory=anyio.Event)
    report: SyncReport | None = None
    error: BaseException | None = None


class ReservationSync:
    """Keeps a ReservationStore in step with HotelRunner at the lowest request cost."""

    def __init__(
        self,
        client: ReservationSource,
        store: ReservationStore,
        *,
        max_age_seconds: float,
        page_size: int = MAX_PER_PAGE,
        backfill_days: int = 30,
        overlap_seconds: float = 900.0,
        lease_ttl_seconds: float = 150.0,
        max_lease_wait_seconds: float = 60.0,
        lease_poll_seconds: float = 0.2,
        retry_after_seconds: float = 60.0,
        free_slots: Callable[[], int] = lambda: 5,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not 1 <= page_size <= MAX_PER_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PER_PAGE}")
        self._client = client
        self._store = store
        self.max_age_seconds = max_age_seconds
        self.page_size = page_size
        self.backfill_days = backfill_days
        self._overlap = timedelta(seconds=overlap_seconds)
        self._lease_ttl = lease_ttl_seconds
        self._lease_poll = lease_poll_seconds
        self._clock = clock
        self._free_slots = free_slots  # requests that may go now without waiting (sync: reads the quota)
        self._owner = lease_owner()
        self._max_lease_wait = max_lease_wait_seconds
        self._inflight: _Inflight | None = None
        self._retry_after = timedelta(seconds=retry_after_seconds)
        self._failure: tuple[datetime, Exception] | None = None  # the last sync's error, until one succeeds

    # ------------------------------------------------------------------ public

    @property
    def freshness(self) -> Freshness:
        """How current the mirror is: last sync, its age, the latest change and push seen.

        It reads the mirror: async code awaits `current_freshness()` instead."""
        state = self._store.sync_state()
        last = self._store.last_change()
        return Freshness(
            last_sync_at=state.last_sync_at,
            age_seconds=self._age(state),
            max_age_seconds=self.max_age_seconds,
            last_change_at=last.seen_at if last else None,
            last_change_source=last.source if last else None,
            last_push_at=self._store.last_seen("push"),
            unfinished=self._store.sync_progress(),
        )

    async def current_freshness(self) -> Freshness:
        """`freshness`, read in a worker thread."""
        return await off_loop(lambda: self.freshness)

    async def ensure_fresh(self, max_pages: int | None = None, *, wait: bool = True) -> SyncReport | None:
        """Sync only if the mirror is older than max_age_seconds (or was never synced).

        Within retry_after_seconds of a failed sync, raises that failure again without a request, so a
        burst of questions while HotelRunner is down does not spend the day's quota on failing syncs."""
        if self._inflight is None and not (await self.current_freshness()).stale:
            return None
        failure = self._failure
        if self._inflight is None and failure is not None and self._clock() - failure[0] < self._retry_after:
            raise failure[1]
        return await self._shared_sync(force=False, max_pages=max_pages, wait=wait, paced=False)

    @property
    def caught_up(self) -> bool:
        """No listing left unfinished and the cursor no older than a sync that ran max_age_seconds ago:
        what `hotelrunner-mcp sync` makes true before it stops (a fresh answer needs no sync)."""
        state = self._store.sync_state()
        if state.cursor is None or self._store.sync_progress() is not None:
            return False
        return self._clock() - state.cursor <= self._overlap + timedelta(seconds=self.max_age_seconds)

    async def sync(self, max_pages: int | None = None, *, wait: bool = True, paced: bool = False) -> SyncReport:
        """Pull what changed since the last sync. Concurrent callers share one sync and one report.

        With `max_pages`, stop after that many pages: what was fetched is stored, the sync counts as
        incomplete (`complete=False`) and its progress is kept in the mirror, so the next sync resumes at
        the next page of the same listing (same from_date, same start) and the cursor moves only when the
        listing has been read to its end: a listing of any size costs ceil(count / page size) requests in
        total, however many syncs it takes. `wait=False`: raise SyncBusy at once while another process
        holds the sync lease (the sync command says so, then waits). `paced`: the caller lets each request
        wait for its per-minute slot, so a listing in no booking order may be read in one pass of more pages
        than the minute's free slots, and the remembered length of such a listing is looked at again (page 1)
        when `max_pages` cannot hold it."""
        return await self._shared_sync(force=True, max_pages=max_pages, wait=wait, paced=paced)

    # ------------------------------------------------------------------ internals

    def _age(self, state: SyncState) -> float | None:
        if state.last_sync_at is None:
            return None
        return max((self._clock() - state.last_sync_at).total_seconds(), 0.0)

    async def _shared_sync(self, *, force: bool, max_pages: int | None, wait: bool, paced: bool) -> SyncReport:
        while (inflight := self._inflight) is not None:
            await inflight.done.wait()
            if inflight.report is not None:
                return replace(inflight.report, shared=True)
            if inflight.error is not None and not isinstance(inflight.error, anyio.get_cancelled_exc_class()):
                raise inflight.error
            # the sync we waited for was cancelled: run our own
        inflight = self._inflight = _Inflight()
        try:
            inflight.report = await self._sync_once_across_processes(
                force=force, max_pages=max_pages, wait=wait, paced=paced
            )
            self._failure = None
            return inflight.report
        except BaseException as exc:
            inflight.error = exc
            if isinstance(exc, Exception) and not isinstance(exc, SyncBusy):
                self._failure = (self._clock(), exc)
            raise
        finally:
            self._inflight = None
            inflight.done.set()

    async def _sync_once_across_processes(
        self, *, force: bool, max_pages: int | None, wait: bool, paced: bool
    ) -> SyncReport:
        """Hold the lease while syncing. Reuse instead the sync another process finished while we
        waited for the lease, or (unless forced) one that already made the mirror fresh enough."""
        before = (await off_loop(self._store.sync_state)).last_sync_at
        waited = False
        deadline = time.monotonic() + self._max_lease_wait
        while not await off_loop(self._store.acquire_lease, LEASE_NAME, self._owner, self._lease_ttl):
            if not wait:
                raise SyncBusy("another server process is syncing the reservation mirror right now")
            if time.monotonic() >= deadline:
                raise SyncBusy(
                    f"another server process has held the reservation sync for over {self._max_lease_wait:g} s; "
                    "this answer comes from the mirror as it is"
                )
            waited = True
            await anyio.sleep(self._lease_poll)
        try:
            state = await off_loop(self._store.sync_state)
            age = self._age(state)
            fresh_enough = (
                age is not None and age <= self.max_age_seconds and await off_loop(self._store.sync_progress) is None
            )
            if state.last_report and ((waited and state.last_sync_at != before) or (not force and fresh_enough)):
                logger.info("reusing the reservation sync another process just finished")
                return replace(SyncReport.from_dict(state.last_report), shared=True)
            return await self._run(max_pages, paced=paced)
        finally:
            await off_loop_shielded(self._store.release_lease, LEASE_NAME, self._owner)

    async def _pass_fits(self, more: int, budget: int | None, *, paced: bool) -> bool:
        """Whether a sync may send the `more` requests a one-pass read of a listing in no order still needs:
        within its page budget, and, unless it can wait for slots (a question cannot), within the slots the
        quota's minute has free now (this sync's own requests already count there)."""
        if budget is not None and more > budget:
            return False
        return paced or more <= await off_loop(self._free_slots)

    async def _keep_unordered(
        self, mode: str, from_date: date, last_update: date | None, page: ReservationPage
    ) -> None:
        """Remember that the listing is in no order and how long one pass of it is (never resumed mid-way)."""
        now = self._clock()
        progress = SyncProgress(
            mode=mode,
            from_date=from_date,
            from_last_update_date=last_update,
            started_at=now,
            next_page=1,
            pages=page.pages,
            count=page.count,
            fetched=0,
            requests=0,
            saved_at=now,
            unordered=True,
        )
        await off_loop(self._store.set_sync_progress, progress)

    async def _run(self, max_pages: int | None = None, *, paced: bool = False) -> SyncReport:
        state = await off_loop(self._store.sync_state)
        now = self._clock()
        started = time.monotonic()
        mode: Literal["backfill", "incremental"] = "backfill" if state.cursor is None else "incremental"
        last_update = state.cursor.date() if state.cursor is not None else None
        resumed = await off_loop(self._store.sync_progress)
        if resumed is not None and (resumed.mode != mode or resumed.from_last_update_date != last_update):
            resumed = None  # progress of another listing (e.g. a backfill another process finished)
        if resumed is not None and resumed.unordered and (paced or _day_changed(resumed.saved_at or now, now)):
            resumed = None  # the remembered length may be old: look at page 1 again (it starts any pass)
        if resumed is not None and resumed.unordered:
            if not await self._pass_fits(resumed.pages, max_pages, paced=paced):
                # a pass this sync could not finish would be spent for nothing: send nothing, say what it needs
                return SyncReport(
                    mode=mode,
                    since=(last_update or resumed.from_date).isoformat(),
                    requests=0,
                    pages=0,
                    fetched=0,
                    new=0,
                    updated=0,
                    unchanged=0,
                    stale=0,
                    started_at=now,
                    took_seconds=0.0,
                    complete=False,
                    listed=resumed.count,
                    listed_pages=resumed.pages,
                    unordered=True,
                )
            resumed = None  # a new pass, from page 1
        started_at = resumed.started_at if resumed else now
        from_date = resumed.from_date if resumed else now.date() - timedelta(days=self.backfill_days)
        params: dict[str, Any] = {"from_date": from_date}
        if last_update is not None:
            params["from_last_update_date"] = last_update
        first_page = page_number = resumed.next_page if resumed else 1
        before_fetched, before_requests = (resumed.fetched, resumed.requests) if resumed else (0, 0)
        counts = UpsertCounts()
        requests = fetched = 0
        listed = listed_pages = 0
        complete = True
        last_completed = resumed.last_completed_at if resumed else None
        unordered = False  # a listing in no booking order: read in one pass from page 1, never resumed
        # A listing resumed on a later day may have shifted: bookings leave its front when HotelRunner's 30-day
        # window moves on. Then read the last page again, and step back while a page starts after the last
        # booking read (a gap), so nothing is skipped: one page read twice per day boundary at most.
        check_shift = (
            resumed is not None
            and last_completed is not None
            and page_number > 1
            and (resumed.saved_at is None or _day_changed(resumed.saved_at, now))
        )
        if check_shift:
            page_number -= 1
        while True:
            # renew before a slow page
            if not await off_loop(self._store.acquire_lease, LEASE_NAME, self._owner, self._lease_ttl):
                logger.warning("the sync lease expired and another process took it; both syncs are harmless")
            page = await self._client.get_reservations(
                **params, per_page=self.page_size, page=page_number, undelivered=False
            )
            requests += 1
            fetched += len(page.reservations)
            listed, listed_pages = page.count, page.pages
            counts = counts.merge(await off_loop(self._store.upsert_many, page.reservations, source="sync"))
            shifted = (  # an empty page too: the listing may now end before the page we stopped at
                check_shift
                and page_number > 1
                and (not page.reservations or _completed(page.reservations[0]) > (last_completed or ""))
            )
            rereading = check_shift  # a page read again on purpose starts before what was read: expected
            check_shift = shifted  # keep stepping back until a page starts at or before what was read
            if shifted:  # (last_completed stays: it marks how far the listing was read without a gap)
                page_number -= 1
            else:
                if not unordered and not (
                    _ascending(page.reservations, None if rereading or page_number == first_page else last_completed)
                    or _descending(page.reservations)
                ):
                    # Resuming at page N needs a listing in booking order (HotelRunner's docs never show
                    # which): one in no order could shift under us. Such a listing is only read in one pass
                    # from page 1, by a sync that can afford all of it (dearer, never a skipped booking).
                    logger.warning("HotelRunner's listing is in no booking order; it can only be read in one pass")
                    unordered = True
                    earlier = resumed is not None  # pages read by earlier syncs, in an order never confirmed
                    budget = None if max_pages is None else max_pages - requests
                    more = page.pages if earlier else page.pages - requests
                    # remembered at once, so a pass cut short (a 429, a cancel) still says what it needs
                    await self._keep_unordered(mode, from_date, last_update, page)
                    if not await self._pass_fits(more, budget, paced=paced):
                        complete = False
                        break
                    if earlier:  # start the pass again, in this sync
                        resumed, page_number, first_page, last_completed = None, 1, 1, None
                        before_fetched = before_requests = fetched = 0
                        continue
                last_completed = max([last_completed or "", *map(_completed, page.reservations)]) or None
                if not page.reservations or page_number >= page.pages:
                    break
                page_number += 1
            if unordered:  # nothing to resume from (see above)
                if max_pages is not None and requests >= max_pages:  # the listing grew past this pass's budget
                    await self._keep_unordered(mode, from_date, last_update, page)  # (its new length)
                    complete = False
                    break
                continue
            # kept after every page: a sync stopped here (page limit, cancelled, crashed) resumes at the next one
            await off_loop(
                self._store.set_sync_progress,
                SyncProgress(
                    mode=mode,
                    from_date=from_date,
                    from_last_update_date=last_update,
                    started_at=started_at,
                    next_page=page_number,
                    pages=listed_pages,
                    count=listed,
                    fetched=before_fetched + fetched,
                    requests=before_requests + requests,
                    last_completed_at=last_completed,
                    saved_at=self._clock(),
                ),
            )
            if max_pages is not None and requests >= max_pages:
                complete = False
                break
        report = SyncReport(
            mode=mode,
            since=(last_update or from_date).isoformat(),
            requests=requests,
            pages=page_number,
            fetched=fetched,
            new=counts.new,
            updated=counts.updated,
            unchanged=counts.unchanged,
            stale=counts.stale,
            started_at=started_at,
            took_seconds=round(time.monotonic() - started, 3),
            complete=complete,
            first_page=first_page,
            listed=listed,
            listed_pages=listed_pages,
            total_fetched=before_fetched + fetched,
            total_requests=before_requests + requests,
            unordered=unordered,
        )
        if not complete:
            logger.info(
                "reservation sync (%s) stopped after %d request(s), the listing has %d page(s); the next one %s",
                mode,
                requests,
                listed_pages,
                "starts again at page 1 (a listing in no order is read in one pass)" if unordered else "resumes there",
            )
            return report
        # everything HotelRunner updated before this listing began is now in the mirror
        cursor = started_at - self._overlap
        await off_loop(self._store.set_sync_state, last_sync_at=now, cursor=cursor, report=report.as_dict())
        logger.info("reservation sync (%s): %d request(s), %d fetched", mode, requests, fetched)
        return report
