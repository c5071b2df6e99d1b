"""Serving a sandbox: `run_sandbox` (uvicorn in a daemon thread, returns once it accepts
connections) and the `sandbox` command line."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn

from hotelrunner_mcp.sandbox.config import ADMIN_PREFIX, PUSH_ENCODINGS, PUSH_SHAPES, SandboxConfig
from hotelrunner_mcp.sandbox.control import SandboxControl
from hotelrunner_mcp.sandbox.core import Sandbox
from hotelrunner_mcp.sandbox.faults import FAULT_KINDS, make_fault

START_TIMEOUT_SECONDS = 10.0


class RunningSandbox:
    """A sandbox served on a loopback port. Use as a context manager or call `stop()`."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        self.sandbox = sandbox
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(
            family, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )  # TCP proto: asyncio then sets TCP_NODELAY
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = host, int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            sandbox.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="sandbox-http", daemon=True
        )

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What HOTELRUNNER_BASE_URL would be."""
        return self.root_url + self.sandbox.config.prefix

    @property
    def admin_url(self) -> str:
        return self.root_url + ADMIN_PREFIX

    @property
    def token(self) -> str:
        return str(self.sandbox.config.token)

    @property
    def hr_id(self) -> str:
        return str(self.sandbox.config.hr_id)

    @property
    def admin_key(self) -> str:
        return str(self.sandbox.config.admin_key)

    @property
    def control(self) -> SandboxControl:
        return self.sandbox.control

    def start(self) -> RunningSandbox:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start on {self.root_url}")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        self.sandbox.stopping.set()
        self.sandbox.pusher.stop()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(START_TIMEOUT_SECONDS)
        self._socket.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:  # never shows the credentials
        return f"<RunningSandbox {self.base_url}>"


def run_sandbox(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Start a sandbox and return once it serves; `with run_sandbox(cfg) as sb:` stops it on exit."""
    return RunningSandbox(Sandbox(config), host, port).start()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotelrunner-mcp sandbox",
        description="A HotelRunner HR-v1 stand-in on loopback, seeded with Villa Thaifa. It is not HotelRunner.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--seed", type=int, default=7, help="seed for data and credentials (default 7)")
    parser.add_argument("--per-minute", type=int, default=5, help="requests per minute per hr_id (default 5)")
    parser.add_argument("--per-day", type=int, default=250, help="requests per day per hr_id (default 250)")
    parser.add_argument("--callback", metavar="URL", help="push every booking change to URL, as HotelRunner would")
    parser.add_argument(
        "--push-encoding", choices=PUSH_ENCODINGS, default="multipart", help="how pushes carry data (default multipart)"
    )
    parser.add_argument(
        "--push-shape", choices=PUSH_SHAPES, default="2026", help="which documented push payload (default 2026)"
    )
    parser.add_argument(
        "--ack-disabled", action="store_true", help="PUT /reservations/~ answers 403 (not enabled for the app)"
    )
    parser.add_argument(
        "--verbatim-bodies",
        action="store_true",
        help="answer with the docs' invalid-JSON bodies (fire/ack ok, daily try_again)",
    )
    parser.add_argument("--requires-response", action="store_true", help="reservation objects carry requires_response")
    parser.add_argument(
        "--bookings",
        type=int,
        metavar="N",
        help="seed exactly N bookings made over the last 30 days, for scale tests (availability is NOT checked)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        type=parse_fault_spec,
        metavar="KIND[,times=N][,rate=P][,delay=S][,paths=/a|/b]",
        help=f"a fault active from the start (repeatable); KIND is one of {', '.join(FAULT_KINDS)}",
    )
    return parser


def parse_fault_spec(spec: str) -> dict[str, Any]:
    """`503,times=2` -> {"kind": "503", "times": 2}; checked like add_fault."""
    kind, *options = spec.split(",")
    fault: dict[str, Any] = {"kind": kind.strip()}
    casts: dict[str, Callable[[str], Any]] = {
        "times": int,
        "rate": float,
        "delay": float,
        "paths": lambda v: v.split("|"),
    }
    for option in options:
        name, _, value = option.partition("=")
        if name.strip() not in casts:
            raise argparse.ArgumentTypeError(f"unknown fault option {name!r}; use times, rate, delay or paths")
        try:
            fault[name.strip()] = casts[name.strip()](value.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad value for {name}: {value!r}") from None
    try:
        make_fault(**fault)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return fault


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        seed=args.seed,
        per_minute=args.per_minute,
        per_day=args.per_day,
        faults=args.fault,
        callback_url=args.callback,
        push_encoding=args.push_encoding,
        push_shape=args.push_shape,
        ack_enabled=not args.ack_disabled,
        verbatim_bodies=args.verbatim_bodies,
        requires_response_field=args.requires_response,
        bookings=args.bookings,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; print KEY=value lines a script can read."""
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with run_sandbox(config, args.host, args.port) as sb:
        print(f"HOTELRUNNER_BASE_URL={sb.base_url}")
        print(f"HOTELRUNNER_TOKEN={sb.token}")
        print(f"HOTELRUNNER_HR_ID={sb.hr_id}")
        print("HOTELRUNNER_SANDBOX=true")
        print(f"SANDBOX_ADMIN_URL={sb.admin_url}")
        print(f"SANDBOX_ADMIN_KEY={sb.admin_key}", flush=True)
        print(f"sandbox serving on {sb.root_url} (not HotelRunner); Ctrl-C stops it", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    return 0
