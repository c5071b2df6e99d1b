"""One data folder per HotelRunner property, so two properties' mirrors, plans and quota never mix.

A folder records the property it holds in `property.json` (a keyed hash of base URL and hr_id, never the
hr_id itself: hr_ids are short numbers, so a plain hash would give them away) and refuses to serve
another. By default each property gets its own subfolder of the per-user data folder, named by host and
the same keyed hash; a folder that already holds data from before this rule keeps being used and is
claimed by the first property that opens it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from hotelrunner_mcp.errors import RecordingUnavailable

PROPERTY_FILE = "property.json"
SALT_FILE = ".property-salt"
LEGACY_FILES = ("mirror.db", "quota.db", "plans.db")


class PropertyMismatch(RecordingUnavailable):
    """The data folder belongs to another property: nothing is read from it or written to it."""

    code = "property_mismatch"


def property_key(salt: str, base_url: str, hr_id: str) -> str:
    return hmac.new(salt.encode(), f"{base_url.rstrip('/')}|{hr_id}".encode(), hashlib.sha256).hexdigest()[:24]


def folder_for(root: Path, base_url: str, hr_id: str | None) -> Path:
    """The default data folder of a property under `root` (the root itself without credentials, or when
    it already holds data from before folders were per property and no other property claimed it)."""
    if not hr_id:
        return root
    if any((root / name).exists() for name in LEGACY_FILES):
        recorded = _read(root / PROPERTY_FILE)
        if recorded is None or _matches(recorded, base_url, hr_id):
            return root
    host = (urlsplit(base_url).hostname or "hotelrunner").replace(":", "_")
    try:
        salt = _root_salt(root)
    except OSError:  # an unwritable home: the data folder check names the problem when the server opens it
        return root
    return root / f"{host}-{property_key(salt, base_url, hr_id)[:12]}"


def claim(data_dir: Path, base_url: str, hr_id: str | None) -> None:
    """Record the property in a new folder; refuse a folder another property recorded."""
    if not hr_id:
        return
    path = data_dir / PROPERTY_FILE
    recorded = _read(path)
    if recorded is None:
        salt = secrets.token_hex(16)
        _write(
            path,
            {
                "key": property_key(salt, base_url, hr_id),
                "salt": salt,
                "host": urlsplit(base_url).hostname,
                "claimed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        return
    if not _matches(recorded, base_url, hr_id):
        raise PropertyMismatch(
            f"the data folder {data_dir} holds another HotelRunner property (host {recorded.get('host')}, since "
            f"{recorded.get('claimed_at')}); its mirror, plans and quota must not mix with this one. Unset "
            "HOTELRUNNER_DATA_DIR (each property gets its own folder) or give this property a folder of its own. "
            "Nothing was sent."
        )


def folder_salt(data_dir: Path) -> str | None:
    """The secret salt of a claimed folder (keys derived from the hr_id use it), or None if unclaimed."""
    recorded = _read(data_dir / PROPERTY_FILE)
    salt = recorded.get("salt") if recorded else None
    return salt if isinstance(salt, str) else None


def _matches(recorded: dict[str, object], base_url: str, hr_id: str) -> bool:
    salt, key = recorded.get("salt"), recorded.get("key")
    return (
        isinstance(salt, str) and isinstance(key, str) and hmac.compare_digest(key, property_key(salt, base_url, hr_id))
    )


def _root_salt(root: Path) -> str:
    path = root / SALT_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    salt = secrets.token_hex(16)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(salt)
    return salt


def _read(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RecordingUnavailable(
            f"{path} cannot be read ({exc}); remove it only if the folder holds one property"
        ) from None
    return data if isinstance(data, dict) else None


def _write(path: Path, data: dict[str, object]) -> None:
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    try:
        os.link(scratch, path)  # never replaces a claim another process just made (it is checked next open)
    except FileExistsError:
        pass
    finally:
        os.unlink(scratch)
