"""A jitter proxy for loopback and the quota soak rig built on it.

`JitterProxy` forwards TCP from 127.0.0.1 to a target, holding each chunk the client sends for a random
0..`max_delay` seconds (order kept per connection), so requests reach the sandbox with real arrival lag,
as they reach HotelRunner over the internet. `run_soak` starts a sandbox that enforces a shortened quota
at arrival, puts the proxy in front of it, runs N worker processes (each a real HotelRunnerClient through
the Gate, built by `Services.open` from the environment, all on one data folder) and reads the sandbox's
request log: how many arrived in the busiest rolling window, and how many were answered 429.
Used by tests/test_quota_soak.py (short) and bench/quota_soak.py (long).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from hotelrunner_mcp.commands.sandbox_link import server_env
from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox

_CHUNK = 65536


class JitterProxy:
    """TCP forwarder on 127.0.0.1 delaying client->target data by a random 0..max_delay s per chunk."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        max_delay: float = 0.15,
        seed: int | None = None,
        reply_max_delay: float = 0.0,
    ) -> None:
        self.target = (target_host, target_port)
        self.max_delay = max_delay
        self.reply_max_delay = reply_max_delay
        self.delays: list[float] = []  # every delay applied to a client->target chunk
        self._rng = random.Random(seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="jitter-proxy", daemon=True)
        self.port = 0

    def url(self, prefix: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{prefix}"

    def start(self) -> JitterProxy:
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise RuntimeError("the jitter proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> JitterProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------------ the loop thread

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        async with self._server:
            await self._stop.wait()
            self._server.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        upstream = asyncio.create_task(self._pump(client_reader, target_writer, self.max_delay, record=True))
        downstream = asyncio.create_task(self._pump(target_reader, client_writer, self.reply_max_delay))
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, downstream):
            task.cancel()
        for writer in (client_writer, target_writer):
            writer.close()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, max_delay: float, record: bool = False
    ) -> None:
        """Copy until EOF; each chunk leaves `delay` after it came, never before the one ahead of it."""
        loop = asyncio.get_running_loop()
        release = 0.0
        try:
            while chunk := await reader.read(_CHUNK):
                delay = self._rng.uniform(0.0, max_delay) if max_delay > 0 else 0.0
                if record:
                    self.delays.append(delay)
                release = max(release, loop.time() + delay)
                pause = release - loop.time()
                if pause > 0:
                    await asyncio.sleep(pause)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass


# ---------------------------------------------------------------------- the soak rig

_WORKER = textwrap.dedent(
    """
    import json, sys, time, anyio
    from hotelrunner_mcp.config import Settings
    from hotelrunner_mcp.errors import HotelRunnerError, QuotaWaitTooLong, RateLimited
    from hotelrunner_mcp.services import Services

    async def main(start_at: float, stop_at: float) -> None:
        services = Services.open(Settings.load())
        client = services.require_client()
        done = {"ok": 0, "rate_limited": 0, "wait_too_long": 0, "errors": [], "waited": 0.0}
        await anyio.sleep(max(0.0, start_at - time.time()))  # everyone starts together: the worst burst
        calls = (client.get_rooms, client.get_connected_channels)
        number = 0
        while time.time() < stop_at:
            started = time.time()
            try:
                await calls[number % len(calls)]()
                done["ok"] += 1
            except RateLimited:
                done["rate_limited"] += 1
            except QuotaWaitTooLong:
                done["wait_too_long"] += 1
            except HotelRunnerError as exc:
                done["errors"].append(exc.code)
            done["waited"] += time.time() - started
            number += 1
        await services.aclose()
        print(json.dumps(done))

    anyio.run(main, float(sys.argv[1]), float(sys.argv[2]))
    """
)


@dataclass
class SoakResult:
    """What one soak measured: the sandbox's log (arrival times) and the workers' own tallies."""

    processes: int
    seconds: float
    window_seconds: float
    per_window: int
    arrivals: list[float]  # epoch seconds, every request the sandbox logged
    statuses: list[int]
    workers: list[dict[str, object]] = field(default_factory=list)
    proxy_delays: list[float] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.arrivals)

    @property
    def rate_limited(self) -> int:
        return sum(1 for status in self.statuses if status == 429)

    @property
    def busiest_window(self) -> int:
        return max_in_window(self.arrivals, self.window_seconds)

    @property
    def busiest_longer_window(self) -> int:
        """The same log judged by a window 5 % longer: whether the limiter keeps some slack."""
        return max_in_window(self.arrivals, self.window_seconds * 1.05)

    @property
    def throughput_per_window(self) -> float:
        if len(self.arrivals) < 2:
            return 0.0
        return (len(self.arrivals) - 1) / (self.arrivals[-1] - self.arrivals[0]) * self.window_seconds

    def worker_errors(self) -> list[object]:
        return [code for worker in self.workers for code in worker.get("errors", [])]  # type: ignore[attr-defined]


def max_in_window(times: Sequence[float], window: float) -> int:
    """Most arrivals in any rolling window (t - window, t], as a quota counting at arrival sees them."""
    ordered = sorted(times)
    best = 0
    for index, end in enumerate(ordered):
        first = bisect_right(ordered, end - window)
        best = max(best, index + 1 - first)
    return best


def run_soak(
    *,
    processes: int = 8,
    seconds: float = 30.0,
    window_seconds: float = 3.0,
    per_window: int = 5,
    max_delay: float = 0.15,
    seed: int | None = None,
    timeout_seconds: float = 20.0,
) -> SoakResult:
    """Run the soak and return what the sandbox saw. Raises RuntimeError if a worker fails to run."""
    config = SandboxConfig(seed=7, per_minute=per_window, per_day=1_000_000, minute_seconds=window_seconds)
    with tempfile.TemporaryDirectory(prefix="quota-soak-") as tmp, run_sandbox(config) as sandbox:
        host, port = sandbox.host, sandbox.port
        with JitterProxy(host, port, max_delay=max_delay, seed=seed) as proxy:
            env = server_env(
                sandbox,
                Path(tmp) / "data",
                HOTELRUNNER_BASE_URL=proxy.url(sandbox.sandbox.config.prefix),
                HOTELRUNNER_QUOTA_PER_MINUTE=str(per_window),
                HOTELRUNNER_QUOTA_PER_DAY="1000000",
                HOTELRUNNER_QUOTA_MINUTE_SECONDS=str(window_seconds),
                HOTELRUNNER_TIMEOUT_SECONDS=str(timeout_seconds),
                HOTELRUNNER_MAX_QUOTA_WAIT_SECONDS=str(max(70.0, window_seconds * 4)),
            )
            start_at = time.time() + 3.0 + processes * 0.25  # time for every interpreter to import and open
            stop_at = start_at + seconds
            workers = [
                subprocess.Popen(
                    [sys.executable, "-c", _WORKER, repr(start_at), repr(stop_at)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    cwd=tmp,
                )
                for _ in range(processes)
            ]
            tallies: list[dict[str, object]] = []
            failures: list[str] = []
            for worker in workers:
                out, err = worker.communicate(timeout=seconds + 120 + window_seconds * 4)
                if worker.returncode != 0:
                    failures.append(err.decode(errors="replace")[-2000:])
                else:
                    tallies.append(json.loads(out.decode().strip().splitlines()[-1]))
            if failures:
                raise RuntimeError("a soak worker failed:\n" + "\n---\n".join(failures))
            log = sandbox.control.requests()
            return SoakResult(
                processes=processes,
                seconds=seconds,
                window_seconds=window_seconds,
                per_window=per_window,
                arrivals=sorted(entry.at for entry in log),
                statuses=[entry.status for entry in log],
                workers=tallies,
                proxy_delays=list(proxy.delays),
            )
