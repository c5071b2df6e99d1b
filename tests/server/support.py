"""Helpers for the issue-3 server tests: the real server as a subprocess over stdio, and the checks
that no secret leaks and that errors are ones an agent can read."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import Implementation

from hotelrunner_mcp.commands.sandbox_link import server_env
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session


def stdio_env(sandbox: RunningSandbox, data_dir: Path, **settings: str) -> dict[str, str]:
    """Environment for `python -m hotelrunner_mcp serve` aimed at the sandbox, with a short timeout."""
    return server_env(sandbox, data_dir, **{"HOTELRUNNER_TIMEOUT_SECONDS": "2", **settings})


@asynccontextmanager
async def connect_stdio(
    env: Mapping[str, str], *args: str, errlog: TextIO | None = None, **client_options: Any
) -> AsyncIterator[Session]:
    """A session with `python -m hotelrunner_mcp serve ARGS` started as a subprocess (cwd: its data
    folder, so no .env file is read); its stderr goes to `errlog` (default: the test's stderr).
    `client_options` go to `mcp.Client` (e.g. logging_callback)."""
    data_dir = Path(env["HOTELRUNNER_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "hotelrunner_mcp", "serve", *args], env=dict(env), cwd=str(data_dir)
    )
    transport = stdio_client(params, errlog=errlog or sys.stderr)
    async with Client(
        transport, client_info=Implementation(name="pytest-stdio", version="1"), **client_options
    ) as client:
        yield Session(client)


def assert_no_secrets(text: str, sandbox: RunningSandbox) -> None:
    """The sandbox's token and hr_id appear nowhere in `text`."""
    assert sandbox.token not in text, "the token leaked"
    assert sandbox.hr_id not in text, "the hr_id leaked"


def assert_tool_error(text: str, tool: str) -> None:
    """An anticipated tool error the model can read: our message after the SDK's prefix, not a crash
    (a crash shows only `Error executing tool <name>`)."""
    assert text.startswith(f"Error executing tool {tool}: "), text
    assert "(error: " in text, text  # runtime.call's mapping of our typed errors
    assert "Traceback" not in text and "httpx" not in text.lower(), text
