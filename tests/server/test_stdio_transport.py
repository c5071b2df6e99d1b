"""stdio, byte for byte: `hotelrunner-mcp serve --sandbox` answers JSON-RPC on stdout and writes
nothing else there (its logs and the embedded sandbox's go to stderr)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream
from mcp.types import LATEST_PROTOCOL_VERSION

REPLY_TIMEOUT = 20.0


def _message(msg_id: int | None, method: str, params: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if msg_id is not None:
        body["id"] = msg_id
    if params is not None:
        body["params"] = params
    return (json.dumps(body) + "\n").encode()


async def _read_until_reply(lines: TextReceiveStream, buffer: list[str], msg_id: int) -> dict[str, Any]:
    """Read stdout lines into `buffer` until the reply to `msg_id`; every line must be JSON-RPC."""
    pending = ""
    with anyio.fail_after(REPLY_TIMEOUT):
        async for chunk in lines:
            pending += chunk
            while "\n" in pending:
                line, pending = pending.split("\n", 1)
                buffer.append(line)
                message = json.loads(line)  # anything that is not JSON fails here
                assert message.get("jsonrpc") == "2.0", line
                if message.get("id") == msg_id:
                    return message
    raise AssertionError(f"stdout closed before the reply to {msg_id}")


async def test_stdout_carries_only_protocol_messages(tmp_path: Path) -> None:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env["HOTELRUNNER_DATA_DIR"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "hotelrunner_mcp", "serve", "--sandbox"]
    stdout_lines: list[str] = []
    with (tmp_path / "stderr.txt").open("w") as stderr:
        process: Process = await anyio.open_process(command, env=env, cwd=tmp_path, stderr=stderr)
    async with process:
        assert process.stdin is not None and process.stdout is not None
        lines = TextReceiveStream(process.stdout)
        await process.stdin.send(
            _message(
                1,
                "initialize",
                {
                    "protocolVersion": LATEST_PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "raw-stdio-test", "version": "1"},
                },
            )
        )
        init = await _read_until_reply(lines, stdout_lines, 1)
        await process.stdin.send(_message(None, "notifications/initialized"))
        await process.stdin.send(_message(2, "tools/call", {"name": "get_rooms", "arguments": {}}))
        reply = await _read_until_reply(lines, stdout_lines, 2)
        await process.stdin.aclose()
        with anyio.fail_after(REPLY_TIMEOUT):
            async for chunk in lines:  # whatever comes before exit must be protocol too
                for line in filter(None, chunk.split("\n")):
                    stdout_lines.append(line)
                    assert json.loads(line).get("jsonrpc") == "2.0", line
            await process.wait()

    assert init["result"]["serverInfo"]["name"] == "hotelrunner"
    rooms = reply["result"]["structuredContent"]
    assert (
        rooms["environment"].startswith("SANDBOX") and len(rooms["room_types"]) == 9
    )  # 8 room types and HotelRunner's Default Room
    assert "sandbox" in (tmp_path / "stderr.txt").read_text()  # the log went to stderr
