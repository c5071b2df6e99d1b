"""What every tool call shares: the services, the audit frame, quota-wait notices and error mapping."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.errors import HotelRunnerError
from hotelrunner_mcp.gate.audit import ToolCallContext, current_call
from hotelrunner_mcp.gate.gate import quota_wait_budget, quota_wait_notifier
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.services import Services
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.surface.auth import caller_name
from hotelrunner_mcp.surface.protocol import log_allowed

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 5.0  # during a quota wait; clients that reset their timeout on progress need < 10 s

READS_UPSTREAM = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
READS_LOCAL = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
WRITES_UPSTREAM = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)


def tool_arguments(values: dict[str, Any]) -> dict[str, Any]:
    """A tool's arguments for the audit log, from its `locals()` at the top of its body."""
    return {k: v for k, v in values.items() if k not in ("ctx", "runtime") and v is not None}


class Answer(BaseModel):
    """Fields every tool answer carries."""

    environment: str = Field(description="Where the data comes from: live HotelRunner or the sandbox")
    quota_spent: int = Field(0, description="Upstream requests this call spent")
    quota_left_today: int = Field(description="Requests left in the rolling 24 h quota")
    left_out: str | None = Field(None, description="What this answer left out (size budget) and how to get it")


class PagedAnswer(Answer):
    """An answer whose list is cut to the size budget (surface/budget.py) and continues at `next_offset`."""

    next_offset: int | None = Field(None, description="Pass as offset for the next page; None: nothing left")


def client_name(ctx: Context) -> str | None:
    """The name of the token the client authenticated with over HTTP, else its declared name (e.g.
    'claude-ai'), if it sent one."""
    try:
        params = ctx.session.client_params
        declared = params.client_info.name if params and params.client_info else None
    except (AttributeError, ValueError):
        declared = None
    return caller_name(declared)


class ToolRuntime:
    """Opens the services on first use (so the server starts even when the data folder is broken)."""

    def __init__(self, settings: Settings, opener: Callable[[Settings], Services] = Services.open) -> None:
        self.settings = settings
        self._opener = opener
        self._services: Services | None = None
        self._opening = threading.Lock()  # worker threads may ask at once: open once

    def services(self) -> Services:
        """The services, opened on first use; async code awaits `open_services()` instead."""
        with self._opening:
            if self._services is None:
                self._services = self._opener(self.settings)
            return self._services

    async def open_services(self) -> Services:
        """`services()` without blocking the loop: opening reads and migrates every data file."""
        opened = self._services
        return opened if opened is not None else await off_loop(self.services)

    @property
    def opened(self) -> Services | None:
        return self._services

    @asynccontextmanager
    async def call(self, ctx: Context, tool: str, arguments: dict[str, Any]) -> AsyncIterator[Services]:
        """Audit the call, tell the client about quota waits, turn our errors into ToolErrors it can read.

        Without credentials every tool answers the setup error, even those that read only local data:
        an empty answer from an unconfigured server would look like "nothing there".
        """
        prefix = "[sandbox] " if self.settings.sandbox else ""
        call: ToolCallContext | None = None
        try:
            services = await self.open_services()
            services.require_client()
            notifier = quota_wait_notifier(
                _notifier(ctx, self.settings.per_minute), every_seconds=PROGRESS_EVERY_SECONDS
            )
            budget = quota_wait_budget(self.settings.max_quota_wait_seconds)
            with services.audit.tool_call(tool, client_name(ctx), arguments) as call, notifier, budget:
                yield services
        except HotelRunnerError as exc:
            raise ToolError(f"{prefix}{exc.message} (error: {exc.code})") from None
        except Exception as exc:  # a bug or a broken disk: still tell the agent what was already spent
            detail = "".join(traceback.format_exception(exc))
            log.error(
                "%s failed unexpectedly:\n%s", tool, Redactor([self.settings.token, self.settings.hr_id]).text(detail)
            )
            sent = call.upstream_requests if call else 0
            where = f"; the audit log ({self.settings.audit_file}) has it as call {call.call_id}" if call else ""
            disk = (
                f" The data folder {self.settings.data_dir} could not be read or written ({exc}): free disk space, "
                "or read hotelrunner://setup-status for which file is damaged."
                if isinstance(exc, sqlite3.Error | OSError)
                else ""
            )
            raise ToolError(
                f"{prefix}{tool} failed inside this server ({type(exc).__name__}) after {sent} upstream request(s)"
                f"{where}.{disk} If a calendar change was being applied, check get_calendar and check_channel_results "
                "before retrying. (error: internal_error)"
            ) from None

    async def answer_fields(self, services: Services) -> dict[str, Any]:
        """environment, quota_spent and quota_left_today for an Answer.

        quota_spent is what the gate counted for the current tool call, so another server process
        spending at the same time does not show up in it.
        """
        status = await off_loop(services.limiter.status)
        call = current_call()
        spent = call.upstream_requests if call is not None else 0
        return {
            "environment": self.settings.environment,
            "quota_spent": spent,
            "quota_left_today": status.left_today,
        }


def _notifier(ctx: Context, per_minute: int) -> Callable[[float], Any]:
    """Tell the client about a quota wait: a progress notice when it starts and every few seconds while it
    lasts (progress = seconds this call has waited so far, total = that + seconds left: always increasing,
    and a client that resets its timeout on progress keeps listening); a log notice when a wait starts."""
    started = time.monotonic()
    last_progress = -1.0
    logged_until = 0.0

    async def tell(seconds: float) -> None:
        nonlocal last_progress, logged_until
        now = time.monotonic()
        progress = max(round(now - started, 1), round(last_progress + 0.1, 1))
        last_progress = progress
        message = f"HotelRunner allows {per_minute} requests a minute: waiting for the next slot, {seconds:.0f} s left"
        try:
            await ctx.report_progress(progress, progress + round(seconds, 1), message)
            if now + seconds > logged_until + 1.0 and log_allowed(ctx, "info"):
                logged_until = now + seconds
                with warnings.catch_warnings():  # log notices are deprecated (SEP-2577) but older clients read them
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    await ctx.info(message)
        except Exception:  # a client that cannot take notices must not break the call
            log.debug("could not tell the client about a quota wait", exc_info=True)

    return tell
