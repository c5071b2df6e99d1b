"""`hotelrunner-mcp token add NAME [--read-only] | list | revoke NAME`: the owner's bearer tokens for
`serve --http` clients (surface/tokens.py keeps them, hashed, in the data folder)."""

from __future__ import annotations

import sys

from hotelrunner_mcp.config import Settings, prepare_data_dir
from hotelrunner_mcp.errors import HotelRunnerError
from hotelrunner_mcp.surface.tokens import TokenStore


def run_token(settings: Settings, action: str, name: str | None, *, read_only: bool = False) -> int:
    store = TokenStore(settings.data_dir)
    try:
        if action == "add":
            assert name is not None
            prepare_data_dir(settings.data_dir)
            token, entry = store.add(name, read_only=read_only)
            print(token)  # stdout: the token alone, so `$(hotelrunner-mcp token add x)` captures it
            print(
                f"issued {entry.shown}; kept as a hash in {store.path}.\n"
                "This is the only time the token is shown: give it to the client now "
                "(header `Authorization: Bearer <token>`). `serve --http` now requires a token.",
                file=sys.stderr,
            )
            return 0
        if action == "list":
            tokens = store.tokens()
            if not tokens:
                print(f"no tokens issued ({store.path})")
            for entry in tokens:
                print(entry.shown)
            return 0
        assert name is not None
        if store.revoke(name):
            print(f"revoked {name!r}: a running server refuses it from its next request", file=sys.stderr)
            return 0
        print(f"hotelrunner-mcp: no token named {name!r} in {store.path}", file=sys.stderr)
        return 1
    except HotelRunnerError as exc:
        print(f"hotelrunner-mcp: {exc.message}", file=sys.stderr)
        return 2
