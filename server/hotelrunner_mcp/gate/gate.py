"""Gate: the one door to HotelRunner. Each HTTP attempt is audited, counted against the quota, then sent.

Order for one attempt: (write) intent line on disk -> quota counted -> request sent -> limiter told the
request is over (it arrived upstream, if at all, by then) -> outcome line. For a read the audit file is
checked writable before sending. The gate maps no HTTP status to errors: that is the client's job. It
only tells the limiter about a 429 (with a bounded Retry-After).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx2

from hotelrunner_mcp.errors import HotelRunnerError, QuotaWaitTooLong
from hotelrunner_mcp.gate.audit import AuditLog, current_call
from hotelrunner_mcp.gate.quota import QuotaLimiter, QuotaTicket
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.storage.offloop import off_loop_shielded

OnWait = Callable[[float], Awaitable[None]]
log = logging.getLogger(__name__)

_wait_notifier: ContextVar[tuple[OnWait, float | None] | None] = ContextVar(
    "hotelrunner_quota_wait_notifier", default=None
)
_patience: ContextVar[float | None] = ContextVar("hotelrunner_quota_patience", default=None)
_budget_ends: ContextVar[float | None] = ContextVar("hotelrunner_quota_wait_budget", default=None)


@contextmanager
def quota_wait_notifier(callback: OnWait | None, *, every_seconds: float | None = None) -> Iterator[None]:
    """Within this block, a request that must wait for its per-minute slot calls `callback(seconds_left)`
    first, and with `every_seconds` again at least that often while it waits (a tool uses it to tell its
    MCP client, whose timeout a progress notice resets)."""
    token = _wait_notifier.set(None if callback is None else (callback, every_seconds))
    try:
        yield
    finally:
        _wait_notifier.reset(token)


@contextmanager
def quota_wait_budget(seconds: float | None) -> Iterator[None]:
    """Within this block (one tool call), all waits for per-minute slots together end `seconds` after it
    began: a slot that would come later is refused at once (QuotaWaitTooLong, nothing more counted or sent),
    so the call answers, saying when to retry, while its client still listens. None: no such bound."""
    token = _budget_ends.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _budget_ends.reset(token)


@contextmanager
def quota_patience(max_wait_seconds: float | None) -> Iterator[None]:
    """Within this block, a request waits at most this long for its per-minute slot (0: not at all),
    else QuotaWaitTooLong is raised and nothing is counted. For work that can be skipped, such as a
    routine mirror refresh. None keeps the limiter's own bound."""
    token = _patience.set(max_wait_seconds)
    try:
        yield
    finally:
        _patience.reset(token)


@dataclass(frozen=True)
class UpstreamCall:
    """One request to HotelRunner as the audit log describes it (no credentials in here)."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    write: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class Gate:
    """Quota + audit around every upstream HTTP attempt."""

    def __init__(self, limiter: QuotaLimiter, audit: AuditLog, redactor: Redactor) -> None:
        self.limiter = limiter
        self.audit = audit
        self._redactor = redactor
        self.last_success_at: datetime | None = None

    async def send(self, call: UpstreamCall, attempt: Callable[[], Awaitable[httpx2.Response]]) -> httpx2.Response:
        """Record, count, then run `attempt` (exactly one HTTP request) and record its outcome.

        Raises RecordingUnavailable (nothing sent) if the audit log or the quota ledger cannot be written,
        QuotaExhausted / QuotaWaitTooLong (nothing sent), or whatever `attempt` raises.
        """
        described = self._describe(call)
        if call.write:
            self.audit.write("upstream_intent", **described)
        else:
            self.audit.ensure_writable()
        notifier = _wait_notifier.get()
        try:
            ticket = await self.limiter.acquire(
                call.label,
                notifier[0] if notifier else None,
                self._patience(),
                notice_every=notifier[1] if notifier else None,
            )
        except HotelRunnerError as exc:
            self.audit.write_quietly("upstream", **described, sent=False, error_code=exc.code, error=exc.message)
            if isinstance(exc, QuotaWaitTooLong) and (spent := current_call()) and spent.upstream_requests:
                raise QuotaWaitTooLong(  # say what this call did before: its earlier requests did go out
                    exc.message.replace(
                        "Nothing was sent;",
                        f"This call had already sent {spent.upstream_requests} request(s), whose results are kept; "
                        "nothing more was sent:",
                    )
                ) from None
            raise
        if (tool_call := current_call()) is not None:
            tool_call.upstream_requests += 1
        started = time.monotonic()
        try:
            response = await attempt()
        except BaseException as exc:
            if isinstance(exc, Exception):  # over; a cancelled one may still be on the wire: it keeps its bound
                await self._finished(ticket)
            self.audit.write_quietly(
                "upstream",
                **described,
                sent=True,
                duration_ms=_ms_since(started),
                quota_left=ticket.left_today,
                error_code=getattr(exc, "code", type(exc).__name__),
                error=self._redactor.text(str(exc))[:500],
            )
            raise
        await self._finished(ticket)
        await self._after(call, described, ticket, response, started)
        return response

    @staticmethod
    def _patience() -> float | None:
        """How long this request may wait for its slot: the caller's patience and the call's budget."""
        patience = _patience.get()
        ends = _budget_ends.get()
        if ends is None:
            return patience
        left = max(0.0, ends - time.monotonic())
        return left if patience is None else min(patience, left)

    async def _finished(self, ticket: QuotaTicket) -> None:
        """Tell the limiter the request is over; if that fails it keeps counting it as in flight (safe).
        Shielded: a cancellation here must not cost the outcome audit line that follows."""
        try:
            with anyio.CancelScope(shield=True):
                await self.limiter.finish(ticket)
        except HotelRunnerError as exc:
            log.warning("quota ledger: completion not recorded (%s)", exc.message)

    async def _after(
        self,
        call: UpstreamCall,
        described: dict[str, Any],
        ticket: QuotaTicket,
        response: httpx2.Response,
        started: float,
    ) -> None:
        duration_ms = _ms_since(started)
        if response.status_code == 429:
            retry_after = _retry_after(response, self.limiter.now())
            try:
                await off_loop_shielded(self.limiter.note_rate_limited, retry_after)
            except HotelRunnerError as exc:  # the 429 still reaches the client, which maps it
                log.warning("quota ledger: 429 pause not recorded (%s)", exc.message)
        elif response.is_success:
            self.last_success_at = datetime.now(UTC)
        self.audit.write_quietly(
            "upstream",
            **described,
            sent=True,
            status=response.status_code,
            duration_ms=duration_ms,
            transaction_id=_transaction_id(response),
            quota_left=ticket.left_today,
        )

    def _describe(self, call: UpstreamCall) -> dict[str, Any]:
        described: dict[str, Any] = {
            "method": call.method,
            "path": call.path,
            "params": self._redactor.params(call.params),
            "write": call.write,
        }
        if call.json is not None:
            described["body"] = self._redactor.value(call.json)
        return described


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _retry_after(response: httpx2.Response, now: float) -> float | None:
    """Retry-After in seconds from now: delay-seconds or an HTTP-date; None when absent or unreadable.

    The value is not bounded here (it may be inf, huge or negative): the limiter bounds it."""
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            seconds = when.timestamp() - now
        except (OverflowError, OSError, ValueError):
            return None
    return None if math.isnan(seconds) else seconds


def _transaction_id(response: httpx2.Response) -> str | None:
    """Best effort: `transaction_id` from a JSON answer."""
    if "json" not in response.headers.get("content-type", "") and not response.content.startswith(b"{"):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    value = body.get("transaction_id") if isinstance(body, dict) else None
    return str(value) if value is not None else None
