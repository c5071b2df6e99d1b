"""`serve --http` in a test: the real Starlette app under uvicorn on a free loopback port (lifespan on, so
the MCP session manager runs), and real MCP clients over streamable HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client
from mcp.client.session import MessageHandlerFnT
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation
from starlette.applications import Starlette

import loopback
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.surface.http import HttpOptions, build_http_app
from hotelrunner_mcp.surface.tokens import TokenStore

from .conftest import Session


@dataclass
class RunningHttp:
    root: str  # http://127.0.0.1:PORT
    app: Starlette

    @property
    def mcp_url(self) -> str:
        return self.root + "/mcp"

    @property
    def callback_url(self) -> str:
        return self.root + "/hotelrunner/callback"


@contextmanager
def serving(app_for_port: Callable[[int], Starlette], *, start_timeout: float = 15.0) -> Iterator[RunningHttp]:
    """Build the app for a free port (its resource URL names the port) and serve it, lifespan on."""
    built: list[Starlette] = []

    def build(port: int) -> Starlette:
        built.append(app_for_port(port))
        return built[0]

    with loopback.serving(None, start_timeout=start_timeout, lifespan="on", app_for_port=build) as root:
        yield RunningHttp(root, built[0])


@contextmanager
def run_http(settings: Settings, tokens: TokenStore | None = None, **options: Any) -> Iterator[RunningHttp]:
    """`hotelrunner-mcp serve --http` on these settings, in-process."""
    with serving(lambda port: build_http_app(settings, HttpOptions(port=port, **options), tokens=tokens)) as running:
        yield running


@asynccontextmanager
async def connect_http(
    url: str,
    token: str | None = None,
    *,
    mode: str = "legacy",
    message_handler: MessageHandlerFnT | None = None,
    **client_options: Any,
) -> AsyncIterator[Session]:
    """The Python SDK's client over streamable HTTP; `legacy` speaks the 2025-11-25 handshake most clients use."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http,
        Client(
            streamable_http_client(url, http_client=http),
            mode=mode,
            client_info=Implementation(name="pytest-http", version="1"),
            message_handler=message_handler,
            **client_options,
        ) as client,
    ):
        yield Session(client)
