"""Fixtures for server tests: a real MCP Client session, in memory, against the server, which talks to
the sandbox over loopback HTTP. `settings` has a private data folder per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Implementation

from hotelrunner_mcp.app import build_server
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import LoggedRequest, RunningSandbox
from hotelrunner_mcp.sandbox_link import settings_for


@pytest.fixture
def settings(sandbox: RunningSandbox, tmp_path: Path) -> Settings:
    """Server settings aimed at the sandbox, short timeouts, own data folder."""
    return settings_for(sandbox, Settings(data_dir=tmp_path / "data", timeout_seconds=2.0, max_quota_wait_seconds=5.0))


@dataclass
class ToolResult:
    """What an MCP client sees of a tool call."""

    is_error: bool
    text: str
    data: dict[str, Any] | None


class Session:
    """A connected MCP client with small helpers for assertions."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, **arguments: Any) -> ToolResult:
        result = await self.client.call_tool(tool, arguments)
        text = "\n".join(getattr(c, "text", "") for c in result.content)
        return ToolResult(bool(result.is_error), text, result.structured_content)

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool that must succeed; return its structured answer."""
        result = await self.call(tool, **arguments)
        assert not result.is_error, result.text
        assert result.data is not None
        return result.data

    async def error(self, tool: str, **arguments: Any) -> str:
        """Call a tool that must fail; return the message the model reads."""
        result = await self.call(tool, **arguments)
        assert result.is_error, f"expected an error, got {result.data}"
        return result.text

    async def resource(self, uri: str) -> str:
        read = await self.client.read_resource(uri)
        return read.contents[0].text  # type: ignore[union-attr]


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Session]:
    """`async with connect(settings) as mcp:` — a session inside the test's own task (anyio needs that)."""
    async with Client(build_server(settings), client_info=Implementation(name="pytest-client", version="1")) as client:
        yield Session(client)



# --------------------------------------------------------------------------- upstream request counting


def upstream(sandbox: RunningSandbox, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
    """What the sandbox received on its HotelRunner paths, optionally only one method and path."""
    return [
        r
        for r in sandbox.control.requests()
        if (method is None or r.method == method) and (path is None or r.path == path)
    ]


@pytest.fixture
def roomy_settings(settings: Settings) -> Settings:
    """`settings` with a local quota large enough that no test waits for a per-minute slot."""
    return settings.with_overrides(per_minute=1000, per_day=100_000)
