"""The protocol on every version clients use, beyond what the SDK's MCPServer serves by itself.

- `resources/subscribe` / `unsubscribe` (2025-11-25 and older, what the Inspector and the TypeScript SDK
  speak): a push reaches those clients as `notifications/resources/updated`, from the same publish that
  feeds `subscriptions/listen` streams (2026-07-28) — see `SubscriptionHub`;
- `logging/setLevel` (handshake versions): the level is kept per connection and log notices below it
  are not sent (`log_allowed`);
- `completion/complete` for prompt arguments and resource templates;
- a `tools/call` naming a tool this client cannot see is a JSON-RPC error -32602, not a tool result;
- a token without the write scope (surface/auth.py) sees no write tool or write prompt and may not call one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, get_args
from weakref import WeakKeyDictionary

import anyio
from mcp.server.connection import Connection
from mcp.server.context import HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.subscriptions import InMemorySubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated, ServerEvent
from mcp.types import (
    INVALID_PARAMS,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    EmptyResult,
    LoggingLevel,
    PromptReference,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.surface.auth import may_write

log = logging.getLogger(__name__)

LEVELS: tuple[str, ...] = get_args(LoggingLevel)  # debug ... emergency, by severity
LEVEL_KEY = "hotelrunner.log_level"
WRITE_PROMPTS = frozenset({"change_prices"})
MAX_SUBSCRIPTIONS = 64  # URIs one connection may watch
MAX_URI = 2048
SEND_TIMEOUT_SECONDS = 5.0  # a client that stopped reading does not hold up the others
MAX_COMPLETIONS = 100  # the spec's cap on values in one completion answer

CallNext = Callable[[ServerRequestContext[Any, Any]], Awaitable[HandlerResult]]


def connection_of(ctx: ServerRequestContext[Any, Any]) -> Connection | None:
    """The connection a request came on. The SDK hands handlers a per-request session holding it but
    offers no public accessor (2.3); this is the one place that reaches for it."""
    found = getattr(ctx.session, "_connection", None)
    return found if isinstance(found, Connection) else None


# ------------------------------------------------------------------------------------- subscriptions


class SubscriptionHub(InMemorySubscriptionBus):
    """The server's subscription bus, which also serves handshake-era `resources/subscribe`.

    `publish` feeds the SDK's `subscriptions/listen` streams as before, then sends
    `notifications/resources/updated` on the standalone channel (stdio, or the HTTP GET stream) of every
    connection subscribed to that URI. Connections are held weakly and forgotten when they close."""

    def __init__(self) -> None:
        super().__init__()
        self._subscribed: WeakKeyDictionary[Connection, set[str]] = WeakKeyDictionary()

    async def publish(self, event: ServerEvent) -> None:
        await super().publish(event)
        if not isinstance(event, ResourceUpdated):
            return
        for connection, uris in list(self._subscribed.items()):
            if event.uri in uris:
                with anyio.move_on_after(SEND_TIMEOUT_SECONDS):
                    await connection.send_resource_updated(event.uri)  # never raises on a closed stream

    def subscribed(self, connection: Connection) -> frozenset[str]:
        return frozenset(self._subscribed.get(connection, ()))

    async def on_subscribe(self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        """Any URI is accepted (one this server never updates simply never fires), up to a bound."""
        connection = _require_connection(ctx)
        uri = str(params.uri)
        if len(uri) > MAX_URI:
            raise MCPError(INVALID_PARAMS, f"the URI is longer than {MAX_URI} characters")
        uris = self._subscribed.get(connection)
        if uris is None:
            uris = self._subscribed[connection] = set()
            connection.exit_stack.callback(self._subscribed.pop, connection, None)
        if uri not in uris and len(uris) >= MAX_SUBSCRIPTIONS:
            raise MCPError(INVALID_PARAMS, f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection")
        uris.add(uri)
        return EmptyResult()

    async def on_unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        connection = _require_connection(ctx)
        self._subscribed.get(connection, set()).discard(str(params.uri))
        return EmptyResult()


def _require_connection(ctx: ServerRequestContext[Any, Any]) -> Connection:
    connection = connection_of(ctx)
    if connection is None:
        raise MCPError(INVALID_PARAMS, "this transport cannot carry resource update notifications")
    return connection


# ------------------------------------------------------------------------------------- logging


async def on_set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
    connection = connection_of(ctx)
    if connection is not None:
        connection.state[LEVEL_KEY] = params.level
    return EmptyResult()


def log_allowed(ctx: Context, level: str) -> bool:
    """Whether a log notice at `level` may go to this tool call's client (its `logging/setLevel`;
    everything when it set none). Best effort: outside a request, True."""
    try:
        connection = connection_of(ctx.request_context)
    except (AttributeError, ValueError):
        return True
    wanted = connection.state.get(LEVEL_KEY) if connection is not None else None
    if wanted not in LEVELS or level not in LEVELS:
        return True
    return LEVELS.index(level) >= LEVELS.index(wanted)


# ------------------------------------------------------------------------------------- completions

REQUEST_EXAMPLES = (
    "{room} +10 % every weekend next month",
    "{room} price 150 from {first} to {last}",
    "{room} closed (stop-sell) on {first}",
    "{room} minimum stay 2 nights on Fridays and Saturdays next month",
    "{room} availability 1 from {first} to {last}",
)


def complete_request(settings: Settings, value: str) -> list[str]:
    """Example requests for change_prices, with the configured room types, that match what was typed."""
    from datetime import timedelta

    from hotelrunner_mcp.calendar.changes import property_today

    today = property_today()
    first, last = today + timedelta(days=7), today + timedelta(days=13)
    rooms = list(settings.room_counts) or ["Suites"]
    suggestions = [example.format(room=room, first=first, last=last) for room in rooms for example in REQUEST_EXAMPLES]
    typed = value.strip().lower()
    return [s for s in suggestions if not typed or s.lower().startswith(typed) or typed in s.lower()]


def completion_handler(settings: Settings) -> Callable[..., Awaitable[CompleteResult]]:
    """completion/complete: prompt arguments we know how to suggest; an empty list for other references
    (a resource template or argument without suggestions), as the spec allows."""

    async def complete(ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams) -> CompleteResult:
        ref, argument = params.ref, params.argument
        values: list[str] = []
        if isinstance(ref, PromptReference) and ref.name == "change_prices" and argument.name == "request":
            values = complete_request(settings, argument.value)
        return CompleteResult(
            completion=Completion(
                values=values[:MAX_COMPLETIONS], total=len(values), has_more=len(values) > MAX_COMPLETIONS
            )
        )

    return complete


# ------------------------------------------------------------------------------------- tools and access


def install(server: MCPServer, settings: Settings, hub: SubscriptionHub) -> None:
    """Everything above, on `server` (built by surface/server.py with `hub` as its subscription bus)."""
    lowlevel = server._lowlevel_server  # the SDK's documented seam for extra request handlers
    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, hub.on_subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, hub.on_unsubscribe)
    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, on_set_level)
    lowlevel.add_request_handler("completion/complete", CompleteRequestParams, completion_handler(settings))
    server.middleware.append(ToolAccess(server, settings.oauth_write_scope))


class ToolAccess:
    """Unknown tools are JSON-RPC errors; a client whose token lacks the write scope sees no write tool or
    write prompt and cannot call one. Write tools are the ones not annotated read-only."""

    def __init__(self, server: MCPServer, write_scope: str) -> None:
        self._server = server
        self._write_scope = write_scope

    def _is_write(self, name: str) -> bool:
        tool = self._server._tool_manager.get_tool(name)
        hints = tool.annotations if tool is not None else None
        return not (hints is not None and hints.read_only_hint)

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        method = ctx.method
        params = ctx.params if isinstance(ctx.params, dict) else {}
        name = params.get("name")
        writes = may_write(self._write_scope)
        if (
            method == "tools/call"
            and isinstance(name, str)
            and (self._server._tool_manager.get_tool(name) is None or (not writes and self._is_write(name)))
        ):
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {name}", data={"tool": name[:100]})
        if method == "prompts/get" and name in WRITE_PROMPTS and not writes:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {name}")
        result = await call_next(ctx)
        if writes or not isinstance(result, dict):
            return result
        if method == "tools/list" and isinstance(result.get("tools"), list):
            result = {**result, "tools": [t for t in result["tools"] if not self._is_write(str(t.get("name")))]}
        elif method == "prompts/list" and isinstance(result.get("prompts"), list):
            result = {**result, "prompts": [p for p in result["prompts"] if p.get("name") not in WRITE_PROMPTS]}
        return result
