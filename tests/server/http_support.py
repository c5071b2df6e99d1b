"""`serve --http` in a test: the real Starlette app under uvicorn on a free loopback port (lifespan on, so
the MCP session manager runs), and real MCP clients over streamable HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import uvicorn
from mcp import Client
from mcp.client.session import MessageHandlerFnT
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation
from starlette.applications import Starlette

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
    """Bind a free port, build the app for it (its resource URL names the port), serve it until exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = app_for_port(port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:  # readiness wait, not an assertion
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield RunningHttp(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


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
