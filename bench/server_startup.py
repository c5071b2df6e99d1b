"""How long `hotelrunner-mcp serve` takes from process start to answering tools/list over stdio,
and how much of it is importing the package (the mcp SDK alone costs about 0.9 s here)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import anyio
from mcp import Client, StdioServerParameters

RUNS = 5


async def time_to_tools_list(data_dir: str) -> float:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | {"HOTELRUNNER_DATA_DIR": data_dir}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "hotelrunner_mcp", "serve"],
        env=env,
        cwd=data_dir,  # no .env read
    )
    started = time.perf_counter()
    async with Client(params) as client:
        tools = await client.list_tools()
        elapsed = time.perf_counter() - started
    assert len(tools.tools) >= 7
    return elapsed


def import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        starts = [anyio.run(time_to_tools_list, data_dir) for _ in range(RUNS)]
    print(
        f"server start -> tools/list answered over stdio: median {statistics.median(starts):.2f} s, "
        f"max {max(starts):.2f} s ({RUNS} runs)"
    )
    sdk = statistics.median(import_seconds("mcp.server.mcpserver") for _ in range(3))
    app = statistics.median(import_seconds("hotelrunner_mcp.surface.server") for _ in range(3))
    print(f"import mcp.server.mcpserver: {sdk:.2f} s; import hotelrunner_mcp.surface.server (includes it): {app:.2f} s")


if __name__ == "__main__":
    main()
