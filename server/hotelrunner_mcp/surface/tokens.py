"""Bearer tokens the owner issues to MCP clients (`hotelrunner-mcp token add NAME`), for `serve --http`.

A token is shown once, when it is made; the data folder keeps only its SHA-256 (a token is 256 random
bits, so a fast hash is enough: nothing can be guessed from it). Each token has a name, which becomes the
client name in the audit log, and may be read-only (its client sees no write tool). These tokens are the
server's own: they never are, and never carry, the HotelRunner token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from hotelrunner_mcp.errors import InvalidRequest, RecordingUnavailable

TOKENS_FILE = "client-tokens.json"
TOKEN_PREFIX = "hrmcp_"  # recognisable in a config file or by a secret scanner
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_TOKENS = 200


@dataclass(frozen=True)
class ClientToken:
    """One issued token, as stored: never the token itself."""

    name: str
    sha256: str
    read_only: bool
    created_at: str

    @property
    def shown(self) -> str:
        return f"{self.name} ({'read-only' if self.read_only else 'read and write'}, issued {self.created_at})"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    """The tokens file of one data folder. Reads it afresh on each check, so `token revoke` takes effect
    on a running server at its next request."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / TOKENS_FILE

    def tokens(self) -> list[ClientToken]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise RecordingUnavailable(f"{self.path} cannot be read ({exc}); fix or remove it") from None
        entries = raw.get("tokens", []) if isinstance(raw, dict) else []
        return [
            ClientToken(str(e["name"]), str(e["sha256"]), bool(e.get("read_only")), str(e.get("created_at", "")))
            for e in entries
            if isinstance(e, dict) and "name" in e and "sha256" in e
        ]

    def add(self, name: str, *, read_only: bool = False) -> tuple[str, ClientToken]:
        """A new token for `name` (the token text, shown once, and what is stored)."""
        if not NAME.fullmatch(name):
            raise InvalidRequest(
                f"{name[:70]!r} is not a token name: use 1 to 64 letters, digits, '.', '_', '@' or '-' "
                "(e.g. claude-laptop); it becomes the client name in the audit log"
            )
        tokens = self.tokens()
        if any(t.name == name for t in tokens):
            raise InvalidRequest(f"a token named {name!r} exists; revoke it first or choose another name")
        if len(tokens) >= MAX_TOKENS:
            raise InvalidRequest(f"{MAX_TOKENS} tokens are issued already; revoke some first")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        entry = ClientToken(name, digest(token), read_only, datetime.now(UTC).isoformat(timespec="seconds"))
        self._write([*tokens, entry])
        return token, entry

    def revoke(self, name: str) -> bool:
        tokens = self.tokens()
        kept = [t for t in tokens if t.name != name]
        if len(kept) == len(tokens):
            return False
        self._write(kept)
        return True

    def verify(self, token: str) -> ClientToken | None:
        """The stored entry of a presented token, or None (compared in constant time against every entry)."""
        presented = digest(token)
        found = None
        for entry in self.tokens():
            if hmac.compare_digest(presented, entry.sha256):
                found = entry
        return found

    def _write(self, tokens: list[ClientToken]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "tokens": [asdict(t) for t in tokens]}, out, indent=1)
            os.replace(scratch, self.path)
        except OSError as exc:
            raise RecordingUnavailable(f"{self.path} cannot be written ({exc.strerror or exc})") from None
