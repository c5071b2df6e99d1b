"""What every tool call shares: the services, the audit frame, quota-wait notices and error mapping."""

from __future__ import annotations

import logging
import sqlite3
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
from hotelrunner_mcp.gate.gate import quota_wait_notifier
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.services import Services

log = logging.getLogger(__name__)

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


def client_name(ctx: Context) -> str | None:
    """The MCP client's declared name (e.g. 'claude-ai'), if it sent one."""
    try:
        params = ctx.session.client_params
        return params.client_info.name if params and params.client_info else None
    except (AttributeError, ValueError):
        return None


class ToolRuntime:
    """Opens the services on first use (so the server starts even when the data folder is broken)."""

    def __init__(self, settings: Settings, opener: Callable[[Settings], Services] = Services.open) -> None:
        self.settings = settings
        self._opener = opener
        self._services: Services | None = None

    def services(self) -> Services:
        if self._services is None:
            self._services = self._opener(self.settings)
        return self._services

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
            services = self.services()
            services.require_client()
            notifier = quota_wait_notifier(_notifier(ctx, self.settings.per_minute))
            with services.audit.tool_call(tool, client_name(ctx), arguments) as call, notifier:
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

    def answer_fields(self, services: Services) -> dict[str, Any]:
        """environment, quota_spent and quota_left_today for an Answer.

        quota_spent is what the gate counted for the current tool call, so another server process
        spending at the same time does not show up in it.
        """
        status = services.limiter.status()
        call = current_call()
        spent = call.upstream_requests if call is not None else 0
        return {
            "environment": self.settings.environment,
            "quota_spent": spent,
            "quota_left_today": status.left_today,
        }


def _notifier(ctx: Context, per_minute: int) -> Callable[[float], Any]:
    async def tell(seconds: float) -> None:
        message = f"HotelRunner allows {per_minute} requests a minute: waiting {seconds:.0f} s for the next slot"
        try:
            await ctx.report_progress(0, None, message)
            with warnings.catch_warnings():  # log notices are deprecated (SEP-2577) but older clients read them
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await ctx.info(message)
        except Exception:  # a client that cannot take notices must not break the call
            log.debug("could not tell the client about a quota wait", exc_info=True)

    return tell
