"""Command line: `hotelrunner-mcp [serve|check|demo|sandbox|webhook]` (serve on stdio by default)."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hotelrunner_mcp.config import ConfigError, Settings

COMMANDS = ("serve", "check", "demo", "sandbox", "webhook")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotelrunner-mcp",
        description="HotelRunner as MCP tools, inside its 250/day and 5/minute quota. Without a command: serve on stdio.",
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve MCP on stdio (the default)")
    serve.add_argument("--sandbox", action="store_true", help="start the embedded sandbox and use it (test data)")
    serve.add_argument("--read-only", action="store_true", help="hide and refuse the write tools")
    check = sub.add_parser("check", help="test the connection with one request: room count and quota")
    check.add_argument(
        "--probe",
        action="store_true",
        help="also settle, with at most 3 read-only requests, how HotelRunner reads the listing (never writes)",
    )
    sub.add_parser("demo", help="sandbox + this server over stdio + an MCP client: a short story")
    sub.add_parser("sandbox", help="run the HotelRunner sandbox (see `hotelrunner-mcp sandbox --help`)", add_help=False)
    hook = sub.add_parser("webhook", help="receive HotelRunner's reservation pushes into the local mirror")
    hook.add_argument("--host", default="127.0.0.1")
    hook.add_argument("--port", type=int, default=8787)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (serve on stdio when none is given); the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":  # its own parser and --help
        from hotelrunner_mcp.sandbox import main as sandbox_main

        return sandbox_main(argv[1:])
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.load()
    except ConfigError as exc:
        print(f"hotelrunner-mcp: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings.with_overrides(read_only=settings.read_only or args.read_only), sandbox=args.sandbox)
    if args.command == "check":
        from hotelrunner_mcp.commands.check import run_check

        return run_check(settings, probe=args.probe)
    if args.command == "demo":
        from hotelrunner_mcp.commands.demo import run_demo

        return run_demo()
    from hotelrunner_mcp.reservations.push import serve_webhook

    serve_webhook(settings, host=args.host, port=args.port)
    return 0


def _serve(settings: Settings, *, sandbox: bool) -> int:
    from hotelrunner_mcp.surface.server import build_server

    if not sandbox:
        build_server(settings).run("stdio")
        return 0
    from hotelrunner_mcp.commands.sandbox_link import embedded_sandbox

    # The embedded sandbox starts afresh each time, so its mirror, ledger and quota do too.
    with (
        tempfile.TemporaryDirectory(prefix="hotelrunner-sandbox-") as scratch,
        embedded_sandbox(settings.with_overrides(data_dir=Path(scratch))) as (running, sandbox_settings),
    ):
        logging.getLogger(__name__).info(
            "using the embedded sandbox at %s (test data, not HotelRunner)", running.root_url
        )
        build_server(sandbox_settings).run("stdio")
    return 0
