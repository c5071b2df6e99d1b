"""Command line: `hotelrunner-mcp [serve|check|sync|demo|sandbox|webhook|token]` (serve on stdio by default)."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from hotelrunner_mcp import __version__
from hotelrunner_mcp.config import ConfigError, Settings

COMMANDS = ("serve", "check", "sync", "demo", "sandbox", "webhook", "token")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotelrunner-mcp",
        description="HotelRunner as MCP tools, inside its 250/day and 5/minute quota. Without a command: serve on stdio.",
    )
    parser.add_argument("--version", action="version", version=f"hotelrunner-mcp {__version__}")
    files = argparse.ArgumentParser(add_help=False)
    files.add_argument(
        "--env-file",
        type=Path,
        metavar="PATH",
        help="read settings from this file too (after ~/.config/hotelrunner-mcp/env and ./.env.local; "
        "the environment still wins). Also HOTELRUNNER_ENV_FILE",
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", parents=[files], help="serve MCP on stdio (the default), or over HTTP")
    serve.add_argument("--sandbox", action="store_true", help="start the embedded sandbox and use it (test data)")
    serve.add_argument("--read-only", action="store_true", help="hide and refuse the write tools")
    serve.add_argument(
        "--http",
        action="store_true",
        help="serve MCP over streamable HTTP at /mcp, with HotelRunner's push at /hotelrunner/callback and /health",
    )
    serve.add_argument("--host", default="127.0.0.1", help="with --http: address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="with --http: port (default 8000)")
    serve.add_argument(
        "--stateless",
        action="store_true",
        help="with --http: no sessions (several processes on one machine behind a balancer; no resources/subscribe)",
    )
    check = sub.add_parser("check", parents=[files], help="test the connection with one request: room count and quota")
    check.add_argument(
        "--probe",
        action="store_true",
        help="also settle, with at most 3 read-only requests, how HotelRunner reads the listing (never writes)",
    )
    sync = sub.add_parser(
        "sync",
        parents=[files],
        help="run the reservation backfill to the end at the pace the quota allows (progress on stderr)",
        description="Read HotelRunner's reservation listing into the mirror to its end, one page (50 bookings) per "
        "request through the quota, waiting for the 5/minute window; safe beside a running server (they share "
        "the sync lease and continue each other's listing). Ctrl-C stops between requests; a later run continues.",
        epilog="exit status: 0 the mirror is complete and current; 1 failed; 2 unusable settings; 3 stopped by "
        "--max-requests, the reserve or the daily quota (run again later to continue); 130 interrupted",
    )
    sync.add_argument(
        "--max-requests",
        type=_count(1),
        metavar="N",
        help="send at most N requests in this run (default: no cap but the reserve)",
    )
    sync.add_argument(
        "--reserve",
        type=_count(0),
        metavar="N",
        help="stop while N of today's requests are left, for the server and its users (default: a fifth of "
        "the daily quota, 50 of 250)",
    )
    sub.add_parser("demo", help="sandbox + this server over stdio + an MCP client: a short story")
    sub.add_parser("sandbox", help="run the HotelRunner sandbox (see `hotelrunner-mcp sandbox --help`)", add_help=False)
    hook = sub.add_parser("webhook", parents=[files], help="receive HotelRunner's reservation pushes into the mirror")
    hook.add_argument("--host", default="127.0.0.1")
    hook.add_argument("--port", type=int, default=8787)
    token = sub.add_parser("token", parents=[files], help="bearer tokens for MCP clients of `serve --http`")
    actions = token.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="issue a token (printed once; only its hash is kept)")
    add.add_argument("name", help="the client's name, as the audit log will show it (e.g. claude-laptop)")
    add.add_argument("--read-only", action="store_true", help="its client sees and may call no write tool")
    actions.add_parser("list", help="the issued tokens (names, never the tokens)")
    revoke = actions.add_parser("revoke", help="withdraw a token (a running server refuses it at once)")
    revoke.add_argument("name")
    return parser


def _count(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `least`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (serve on stdio when none is given); the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":  # its own parser and --help
        from hotelrunner_mcp.sandbox import main as sandbox_main

        return sandbox_main(argv[1:])
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        argv = ["serve", *argv]
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.load(env_file=getattr(args, "env_file", None))
    except ConfigError as exc:
        print(f"hotelrunner-mcp: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        settings = settings.with_overrides(read_only=settings.read_only or args.read_only)
        if args.http:
            return _serve_http(settings, sandbox=args.sandbox, host=args.host, port=args.port, stateless=args.stateless)
        return _serve(settings, sandbox=args.sandbox)
    if args.command == "check":
        from hotelrunner_mcp.commands.check import run_check

        return run_check(settings, probe=args.probe)
    if args.command == "sync":
        from hotelrunner_mcp.commands.sync import SyncOptions, run_sync

        return run_sync(settings, SyncOptions(max_requests=args.max_requests, reserve=args.reserve))
    if args.command == "demo":
        from hotelrunner_mcp.commands.demo import run_demo

        return run_demo()
    if args.command == "token":
        from hotelrunner_mcp.commands.tokens import run_token

        return run_token(
            settings, args.action, getattr(args, "name", None), read_only=getattr(args, "read_only", False)
        )
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


def _serve_http(settings: Settings, *, sandbox: bool, host: str, port: int, stateless: bool) -> int:
    """`serve --http`: the owner's tokens always come from the configured data folder (with --sandbox too,
    whose own folder is temporary)."""
    from hotelrunner_mcp.surface.http import HttpOptions, RefusedToServe, serve_http
    from hotelrunner_mcp.surface.tokens import TokenStore

    options = HttpOptions(host=host, port=port, stateless=stateless)
    tokens = TokenStore(settings.data_dir)
    try:
        if not sandbox:
            serve_http(settings, options, tokens=tokens)
            return 0
        from hotelrunner_mcp.commands.sandbox_link import embedded_sandbox

        with (
            tempfile.TemporaryDirectory(prefix="hotelrunner-sandbox-") as scratch,
            embedded_sandbox(settings.with_overrides(data_dir=Path(scratch))) as (running, sandbox_settings),
        ):
            logging.getLogger(__name__).info(
                "using the embedded sandbox at %s (test data, not HotelRunner)", running.root_url
            )
            serve_http(sandbox_settings, options, tokens=tokens)
    except (RefusedToServe, ConfigError) as exc:
        print(f"hotelrunner-mcp: {exc}", file=sys.stderr)
        return 2
    return 0
