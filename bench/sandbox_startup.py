"""How fast the sandbox is ready: the CLI as a fresh process (until GET /rooms answers 200) and
the in-process runner (until `run_sandbox` returns). Prints figures; asserts nothing.

    .venv/bin/python bench/sandbox_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import httpx2


def cli_ready_seconds() -> float:
    """Seconds from process start until GET /rooms succeeds, using the settings it prints."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "hotelrunner_mcp.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        settings: dict[str, str] = {}
        while (
            "HOTELRUNNER_HR_ID" not in settings
            or "HOTELRUNNER_BASE_URL" not in settings
            or "HOTELRUNNER_TOKEN" not in settings
        ):
            line = process.stdout.readline() if process.stdout else ""
            if not line:
                raise RuntimeError("the sandbox exited before printing its settings")
            key, _, value = line.strip().partition("=")
            settings[key] = value
        auth = {"token": settings["HOTELRUNNER_TOKEN"], "hr_id": settings["HOTELRUNNER_HR_ID"]}
        while httpx2.get(settings["HOTELRUNNER_BASE_URL"] + "/rooms", params=auth).status_code != 200:
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(10)


def in_process_seconds() -> tuple[float, float]:
    """(import time, start time) of `run_sandbox` in a fresh interpreter."""
    code = (
        "import time; t0 = time.perf_counter();"
        "from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox;"
        "t1 = time.perf_counter(); sb = run_sandbox(SandboxConfig()); t2 = time.perf_counter(); sb.stop();"
        "print(t1 - t0, t2 - t1)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cli = [cli_ready_seconds() for _ in range(runs)]
    inproc = [in_process_seconds() for _ in range(runs)]
    imports, starts = [i for i, _ in inproc], [s for _, s in inproc]
    print(
        f"sandbox CLI, process start -> GET /rooms 200: median {statistics.median(cli):.3f} s, max {max(cli):.3f} s ({runs} runs)"
    )
    print(
        f"in-process import: median {statistics.median(imports):.3f} s; run_sandbox(): median {statistics.median(starts) * 1000:.1f} ms, max {max(starts) * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
