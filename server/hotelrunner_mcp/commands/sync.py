"""`hotelrunner-mcp sync`: run the reservation backfill (and the catch-up listing after it) to the end,
one page per request through the gate, at the pace the quota allows, so that no question has to pay
for it later.

Each step is one `ReservationSync.sync(max_pages=1)`: the same resumable sync the server runs, under the
same cross-process lease, so a server running on the same data folder meanwhile is safe (whichever
holds the lease reads the next page; neither reads a page twice). Before each step the run stops if it
would go past `--max-requests` or into the reserve left for the server (`--reserve`, a fifth of the
daily quota by default, as acknowledging deliveries keeps); it waits for the per-minute window itself,
so Ctrl-C during a wait stops at once, and during a request lets that request finish first. A listing in
no booking order is never resumed mid-way: it is read in one pass (the gate waiting for each slot), if the
cap and the reserve leave room for all of it, and a Ctrl-C then waits for the pass to end.

Exit status: 0 the mirror is complete and current; 1 failed (credentials, HotelRunner, the data
folder); 3 stopped by --max-requests, the reserve or the daily quota; 130 interrupted by Ctrl-C (or
SIGTERM). After 1, 3 or 130 the progress is kept and the next run continues where this one stopped.
`--max-requests` counts what the gate sent: a page the client retried once (timeout, 502-504) counts
twice, so that page may take the run one past it.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

import anyio

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.errors import HotelRunnerError, QuotaExhausted, QuotaWaitTooLong, RateLimited
from hotelrunner_mcp.gate.audit import ToolCallContext
from hotelrunner_mcp.gate.gate import quota_wait_notifier
from hotelrunner_mcp.reservations.acknowledge import DAY_RESERVE_SHARE
from hotelrunner_mcp.reservations.sync import SyncBusy, SyncReport, describe_progress
from hotelrunner_mcp.services import Services

EXIT_COMPLETE = 0
EXIT_FAILED = 1
EXIT_STOPPED = 3  # by --max-requests, the reserve or the daily quota: run again later to continue
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it

LEASE_POLL_SECONDS = 1.0  # how often a run waiting for another process's sync looks again
MAX_RATE_LIMITED = 3  # 429s in a row before giving up (each one pauses as HotelRunner asked first)
BAR_WIDTH = 20
AUDIT_NAME = "sync_command"  # what the audit log's tool_call lines of this command are called

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOptions:
    """`max_requests`: at most this many requests in this run (None: no cap but the reserve).
    `reserve`: requests of today's quota left for the server and its users (None: a fifth of the day)."""

    max_requests: int | None = None
    reserve: int | None = None


def default_reserve(per_day: int) -> int:
    """What the command leaves of the day by default: the same share acknowledging deliveries leaves."""
    return per_day // DAY_RESERVE_SHARE


@dataclass(frozen=True)
class Standing:
    """How far the current listing is, for the progress line."""

    mode: str  # backfill | incremental
    fetched: int
    count: int
    requests_left: int

    @property
    def text(self) -> str:
        noun = "bookings" if self.mode == "backfill" else "changed bookings"
        total = max(self.count, self.fetched)
        done = 1.0 if total == 0 else self.fetched / total
        filled = min(BAR_WIDTH, math.floor(done * BAR_WIDTH))
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        return f"{noun} {self.fetched:,} of ~{total:,} [{bar}] ~{self.requests_left:,} request(s) to go"


class ProgressLine:
    """Progress on stderr: on a terminal one line redrawn in place, otherwise plain lines (one per page,
    one per wait). `note` prints a line of its own either way."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.tty = stream.isatty()
        self._standing: Standing | None = None
        self._drawn = False
        self._waiting = False

    def note(self, text: str) -> None:
        self.clear()
        self._waiting = False
        print(f"sync: {text}", file=self._stream, flush=True)

    def page(self, standing: Standing) -> None:
        self._standing = standing
        self._waiting = False
        if self.tty:
            self._draw(standing.text)
        else:
            print(f"sync: {standing.text}", file=self._stream, flush=True)

    def waiting(self, seconds: float, why: str) -> None:
        """A wait before the next request: on a terminal a countdown, otherwise one line per wait."""
        text = f"waiting {math.ceil(seconds):,} s for {why}"
        if self.tty:
            self._draw(f"{self._standing.text}, {text}" if self._standing else text)
        elif not self._waiting:
            print(f"sync: {text}", file=self._stream, flush=True)
        self._waiting = True

    def clear(self) -> None:
        """Wipe the bar (before a log line or a note); the next update draws it again."""
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False

    def _draw(self, text: str) -> None:
        columns = shutil.get_terminal_size((100, 24)).columns
        self._stream.write("\r\x1b[K" + text[: max(columns - 1, 10)])
        self._stream.flush()
        self._drawn = True


class _ClearsBar(logging.Filter):
    """On a terminal, a log line must not be written over the progress bar."""

    def __init__(self, line: ProgressLine) -> None:
        super().__init__()
        self._line = line

    def filter(self, record: logging.LogRecord) -> bool:
        self._line.clear()
        return True


@contextmanager
def _quiet_logs(line: ProgressLine) -> Iterator[None]:
    """The sync's own per-page log line says what the progress line says: keep only its warnings."""
    sync_log = logging.getLogger("hotelrunner_mcp.reservations.sync")
    level = sync_log.level
    sync_log.setLevel(max(level, logging.WARNING))
    handlers = logging.getLogger().handlers
    guard = _ClearsBar(line)
    for handler in handlers:
        handler.addFilter(guard)
    try:
        yield
    finally:
        sync_log.setLevel(level)
        for handler in handlers:
            handler.removeFilter(guard)


@dataclass
class _Interrupts:
    """Ctrl-C once: stop after the request in flight (at once during a wait). Twice: stop now."""

    requested: bool = False
    wait_scope: anyio.CancelScope | None = None
    hard: bool = False


@dataclass(frozen=True)
class Outcome:
    code: int
    summary: str


class SyncRun:
    """One run of the command over open services."""

    def __init__(self, services: Services, options: SyncOptions, line: ProgressLine) -> None:
        self.services = services
        self.options = options
        self.line = line
        self.interrupts = _Interrupts()
        self.began = datetime.now(UTC)
        per_day = services.limiter.status().per_day
        self.reserve = default_reserve(per_day) if options.reserve is None else options.reserve
        self.call: ToolCallContext | None = None
        self.rechecked = False  # a listing in no order: its remembered length looked at again this run
        self.announced = False  # ... and its one-pass read said

    @property
    def spent(self) -> int:
        return self.call.upstream_requests if self.call else 0

    async def run(self) -> Outcome:
        sync = self.services.sync
        if sync.caught_up:
            return Outcome(
                EXIT_COMPLETE,
                f"sync: nothing to do, no request sent: {sync.freshness.describe()}, and no listing is unfinished "
                f"({self._mirror_and_quota()}).",
            )
        arguments = {"max_requests": self.options.max_requests, "reserve": self.reserve}
        with self.services.audit.tool_call(AUDIT_NAME, "hotelrunner-mcp sync", arguments) as self.call:
            return await self._loop()

    async def _loop(self) -> Outcome:
        sync, limiter, store = self.services.sync, self.services.limiter, self.services.store
        if store.sync_progress() is None:
            first = "first sync (backfill)" if store.sync_state().cursor is None else "catch-up sync"
            self.line.note(f"starting the {first}, keeping {self.reserve} of today's requests for the server")
        else:
            self.line.note("continuing the listing an earlier sync stopped in")
            self._show(None)
        busy = False
        rate_limited = 0
        # pages per sync: one, so that a Ctrl-C or the cap stops between requests (a one-pass read aside)
        step, paced = 1, False
        while True:
            if self.interrupts.requested:
                return self.stopped(EXIT_INTERRUPTED, "interrupted (Ctrl-C) between requests")
            if sync.caught_up:  # (another process may have finished it)
                return self._complete()
            cap = self.options.max_requests
            if cap is not None and self.spent >= cap:
                return self.stopped(EXIT_STOPPED, f"--max-requests {cap} reached")
            quota = limiter.status()
            if quota.left_today == 0:
                return self.stopped(EXIT_STOPPED, f"the daily quota is spent ({quota.used_today} of {quota.per_day})")
            if quota.left_today <= self.reserve:
                return self.stopped(
                    EXIT_STOPPED,
                    f"{quota.left_today} of today's {quota.per_day} requests are left, kept for the server "
                    f"(--reserve {self.reserve})",
                )
            await self._wait_for_slot()
            if self.interrupts.requested:
                continue
            (pages, patient), step, paced = (step, paced), 1, False  # each attempt is sized afresh
            try:
                with quota_wait_notifier(self._gate_wait, every_seconds=1.0):
                    report = await sync.sync(pages, wait=False, paced=patient)
            except SyncBusy:
                if not busy:
                    self.line.note(
                        "another process (a server on this data folder) holds the sync lease; waiting for it, "
                        "then continuing from wherever it got to"
                    )
                busy = True
                await self._pause(LEASE_POLL_SECONDS)
                continue
            except QuotaWaitTooLong:
                continue  # another process took the slot: wait for the next one
            except QuotaExhausted as exc:
                return self.stopped(EXIT_STOPPED, f"the daily quota is spent ({exc.used} of {exc.limit})")
            except RateLimited as exc:
                rate_limited += 1
                if rate_limited >= MAX_RATE_LIMITED:
                    return self.stopped(EXIT_FAILED, f"HotelRunner kept answering 429 ({exc.message})")
                self.line.note(f"HotelRunner answered 429; pausing as it asked ({exc.message})")
                continue
            except HotelRunnerError as exc:
                return self.stopped(EXIT_FAILED, f"{exc.message} (error: {exc.code})")
            busy, rate_limited = False, 0
            if report.unordered and not report.complete:
                planned = self._one_pass(report)
                if isinstance(planned, Outcome):
                    return planned
                step, paced = planned
                continue
            self._show(report)
            if report.complete and report.started_at >= self.began:
                return self._complete()

    def _one_pass(self, report: SyncReport) -> Outcome | tuple[int, bool]:
        """A listing in no booking order is never resumed mid-way, only read in one pass, the gate waiting
        for each slot (a Ctrl-C then waits for the pass to end; twice: at once, the pass lost). The next
        attempt's (pages, paced), or why the run stops: the cap and the reserve must hold the whole pass."""
        room, pages = self._room(), report.listed_pages
        if room < pages and not self.rechecked:
            note = self.services.store.sync_progress()
            if note is not None and note.saved_at is not None and note.saved_at < self.began:
                self.rechecked = True
                return 1, True  # a length remembered from an earlier run: look at page 1 again
        if room < pages:
            return self.stopped(
                EXIT_STOPPED,
                f"HotelRunner lists bookings in no order, so its listing can only be read in one pass of {pages} "
                f"request(s), and {max(room, 0)} are allowed now (--max-requests, --reserve, today's quota)",
            )
        if not self.announced:
            self.announced = True
            self.line.note(
                f"HotelRunner lists bookings in no order: reading all {pages} pages in one pass at the "
                f"{self.services.settings.per_minute}/min pace"
            )
        return room, True  # (room for the listing to grow while it is read)

    def _room(self) -> int:
        """Requests this run may still send: what the cap and the reserve leave of today's quota."""
        cap, quota = self.options.max_requests, self.services.limiter.status()
        return min(quota.left_today - self.reserve, cap - self.spent if cap is not None else quota.left_today)

    async def _pause(self, seconds: float) -> None:
        """Sleep; a Ctrl-C ends it at once (nothing is in flight)."""
        with anyio.CancelScope() as scope:
            self.interrupts.wait_scope = scope
            await anyio.sleep(seconds)
        self.interrupts.wait_scope = None

    async def _wait_for_slot(self) -> None:
        """Wait here, not in the gate, while the quota says the next request may not go yet: a Ctrl-C
        then cancels the wait and nothing is sent."""
        while not self.interrupts.requested:
            status = self.services.limiter.status()
            if status.next_free_at is None:
                return
            seconds = (datetime.fromisoformat(status.next_free_at) - datetime.now(UTC)).total_seconds()
            if seconds <= 0:
                return  # (the time is to the second: the gate waits for the rest)
            why = (
                f"HotelRunner's pause after a 429 (until {status.blocked_until})"
                if status.blocked_until
                else (f"the {status.per_minute}/min window")
            )
            self.line.waiting(seconds, why)
            await self._pause(min(seconds, 1.0))

    async def _gate_wait(self, seconds: float) -> None:
        self.line.waiting(seconds, f"the {self.services.settings.per_minute}/min window")

    def _show(self, report: SyncReport | None) -> None:
        """The progress line: the unfinished listing's progress, else the listing `report` completed."""
        progress = self.services.store.sync_progress()
        if progress is not None:
            self.line.page(Standing(progress.mode, progress.fetched, progress.count, progress.requests_left))
        elif report is not None:
            self.line.page(Standing(report.mode, report.total_fetched, report.listed, 0))

    def _mirror_and_quota(self) -> str:
        quota = self.services.limiter.status()
        return f"{self.services.store.count():,} reservations in the mirror; {quota.left_today} of {quota.per_day} requests left today"

    def _complete(self) -> Outcome:
        self.line.clear()
        summary = (
            f"sync complete: the mirror is current, {self._mirror_and_quota()}; this run sent {self.spent} request(s)."
        )
        return Outcome(EXIT_COMPLETE, summary)

    def stopped(self, code: int, why: str) -> Outcome:
        self.line.clear()
        progress = self.services.store.sync_progress()
        where = describe_progress(progress) if progress else "no listing was left unfinished"
        again = "Run `hotelrunner-mcp sync` again to continue where it stopped"
        if code == EXIT_STOPPED and self.options.max_requests is None:
            again += " (the daily quota is a rolling 24 h window: later today or tomorrow)"
        return Outcome(code, f"sync stopped: {why}, after {self.spent} request(s) in this run. {where}. {again}.")


async def _watch_interrupts(run: SyncRun, scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            if run.interrupts.requested:
                run.interrupts.hard = True
                scope.cancel()
                return
            run.interrupts.requested = True
            run.line.note("stopping after the request in flight (Ctrl-C again to stop at once)")
            if run.interrupts.wait_scope is not None:
                run.interrupts.wait_scope.cancel()


async def _sync(settings: Settings, options: SyncOptions, line: ProgressLine) -> Outcome:
    # a request may wait a whole minute for its slot: a one-pass read of more pages than the minute holds
    # must not give up (it would start again from page 1); a Ctrl-C still stops the waits of the loop below
    patient = max(settings.max_quota_wait_seconds, settings.minute_seconds + 10)
    services = Services.open(settings.with_overrides(max_quota_wait_seconds=patient))
    try:
        services.require_client()
        run = SyncRun(services, options, line)
        outcome: Outcome | None = None
        async with anyio.create_task_group() as group:
            if os.name == "posix":
                group.start_soon(_watch_interrupts, run, group.cancel_scope)
            outcome = await run.run()
            group.cancel_scope.cancel()
        if outcome is None or run.interrupts.hard:
            return run.stopped(EXIT_INTERRUPTED, "interrupted (Ctrl-C twice; a request in flight was abandoned)")
        return outcome
    finally:
        await services.aclose()


def run_sync(settings: Settings, options: SyncOptions, *, stream: TextIO | None = None) -> int:
    """Run the backfill to the end (or until stopped); the summary on stdout, progress on stderr."""
    line = ProgressLine(stream or sys.stderr)
    with _quiet_logs(line):
        try:
            outcome = anyio.run(_sync, settings, options, line)
        except HotelRunnerError as exc:
            line.clear()
            print(f"sync failed ({exc.code}): {exc.message}", file=sys.stderr)
            return EXIT_FAILED
    print(outcome.summary)
    return outcome.code
