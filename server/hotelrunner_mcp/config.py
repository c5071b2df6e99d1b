"""Settings from the environment and from env files (environment wins).

Files read, later ones winning: the per-user file (`~/.config/hotelrunner-mcp/env`, or under
$XDG_CONFIG_HOME), read wherever the server starts; `.env` and `.env.local` in the current folder; the file
named by `--env-file` or HOTELRUNNER_ENV_FILE. `Settings.sources` lists the ones that were read.

Size: every setting, its parsing, its safety rules and its documentation (SETTING_DOCS) in one place, so a
setting is defined once and the README and .env.example are generated from here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hotelrunner_mcp.errors import RecordingUnavailable
from hotelrunner_mcp.storage.data_folder import folder_for

DEFAULT_BASE_URL = "https://app.hotelrunner.com/api/v2/apps"
SANDBOX_LABEL = "SANDBOX: test data from the embedded HotelRunner sandbox, not the real property"
LIVE_LABEL = "live HotelRunner"
ENV_FILES = (".env", ".env.local")  # later files win
USER_ENV_FILE = Path("hotelrunner-mcp") / "env"  # under the per-user config folder
ENV_FILE_VARIABLE = "HOTELRUNNER_ENV_FILE"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def prepare_data_dir(path: Path) -> None:
    """Create the data folder private to this user (0700), or raise RecordingUnavailable."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.access(path, os.W_OK):
            raise PermissionError(f"{path} is not writable")
    except OSError as exc:
        raise RecordingUnavailable(
            f"the data folder {path} cannot be written ({exc.strerror or exc}); set HOTELRUNNER_DATA_DIR "
            "to a folder this user can write. Nothing was sent."
        ) from None


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def default_data_dir() -> Path:
    """Per-user data root: $XDG_DATA_HOME/hotelrunner-mcp or ~/.local/share/hotelrunner-mcp (one subfolder
    per property: property_folder.py)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hotelrunner-mcp"


def user_env_file(environ: Mapping[str, str]) -> Path | None:
    """The per-user settings file: $XDG_CONFIG_HOME/hotelrunner-mcp/env, else ~/.config/hotelrunner-mcp/env
    (None when the environment names no home, as in tests that pass their own environment)."""
    if environ.get("XDG_CONFIG_HOME"):
        return Path(environ["XDG_CONFIG_HOME"]).expanduser() / USER_ENV_FILE
    if environ.get("HOME"):
        return Path(environ["HOME"]).expanduser() / ".config" / USER_ENV_FILE
    return None


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; `#` comments, `export ` prefixes and surrounding quotes are allowed."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return values
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


DEFAULT_MINUTE_SECONDS = 60.0
DEFAULT_DAY_SECONDS = 86400.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    """True for a URL on this machine (the sandbox); plain http is allowed only there."""
    try:
        return urlsplit(url).hostname in LOOPBACK_HOSTS
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to know. Build it with `Settings.load()`."""

    token: str | None = None
    hr_id: str | None = None
    base_url: str = DEFAULT_BASE_URL
    data_dir: Path = field(default_factory=default_data_dir)
    audit_path: Path | None = None  # None: <data_dir>/audit.jsonl
    per_minute: int = 5
    per_day: int = 250
    minute_seconds: float = DEFAULT_MINUTE_SECONDS  # length of the "minute" window; only sandbox tests shorten it
    day_seconds: float = DEFAULT_DAY_SECONDS
    # Waits for per-minute slots within one tool call end by then: common clients give up on a call after 60 s
    # (with the 20 s HTTP timeout, a call that started its last request in time still answers before that).
    max_quota_wait_seconds: float = 40.0
    timeout_seconds: float = 20.0
    read_only: bool = False
    sandbox: bool = False
    apply_without_preview: bool = False
    acknowledge_deliveries: bool = False  # PUT /reservations/~ for each delivery once it is in the mirror
    output_schemas: bool = False  # publish each tool's output schema in tools/list (structured content is sent anyway)
    rooms_ttl_seconds: float = 900.0
    plan_ttl_seconds: float = 600.0
    mirror_max_age_seconds: float = 900.0
    room_counts: Mapping[str, int] = field(default_factory=dict)  # inv_code -> physical rooms, for occupancy
    sources: tuple[str, ...] = ()  # env files that were read, for the setup status
    # serve --http: what clients are told and checked against (see surface/http.py and surface/auth.py)
    public_url: str | None = None  # the URL clients use for /mcp behind a proxy: Host/Origin, OAuth audience
    allowed_hosts: tuple[str, ...] = ()  # more Host values to accept (DNS-rebinding protection stays on)
    allowed_origins: tuple[str, ...] = ()  # more browser Origins to accept
    oauth_issuer: str | None = None  # an identity provider whose JWT access tokens are accepted
    oauth_jwks_url: str | None = None  # its keys (default: found in its metadata)
    oauth_scopes: tuple[str, ...] = ("hotelrunner:read",)  # a token must carry all of these
    oauth_write_scope: str = "hotelrunner:write"  # ... and this one to see and call the write tools

    def __post_init__(self) -> None:
        """Test-only settings never reach a real HotelRunner: a sandbox label on live answers would hide
        that they are real, and shortened quota windows would send far more than 5 requests a minute."""
        if is_loopback(self.base_url):
            return
        if self.sandbox:
            raise ConfigError(
                "HOTELRUNNER_SANDBOX=true but HOTELRUNNER_BASE_URL is not a sandbox on this machine: answers from it "
                "are real and must not be labelled SANDBOX. Unset HOTELRUNNER_SANDBOX, or point the URL at the sandbox"
            )
        if self.minute_seconds != DEFAULT_MINUTE_SECONDS or self.day_seconds != DEFAULT_DAY_SECONDS:
            raise ConfigError(
                "HOTELRUNNER_QUOTA_MINUTE_SECONDS / HOTELRUNNER_QUOTA_DAY_SECONDS shorten the quota windows for tests "
                "against the sandbox only; against HotelRunner they would break its 5-a-minute limit. Unset them"
            )

    @property
    def configured(self) -> bool:
        return bool(self.token and self.hr_id)

    @property
    def environment(self) -> str:
        """What every answer says about where its data comes from."""
        return SANDBOX_LABEL if self.sandbox else LIVE_LABEL

    @property
    def audit_file(self) -> Path:
        return self.audit_path or self.data_dir / "audit.jsonl"

    @property
    def missing(self) -> list[str]:
        """Names of the required settings that are not set."""
        return [
            name for name, value in (("HOTELRUNNER_TOKEN", self.token), ("HOTELRUNNER_HR_ID", self.hr_id)) if not value
        ]

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def for_sandbox(
        self, base_url: str, token: str, hr_id: str, room_counts: Mapping[str, int] | None = None
    ) -> Settings:
        """These settings pointed at a sandbox, with state kept apart from live data (<data_dir>/sandbox)."""
        return replace(
            self,
            base_url=base_url.rstrip("/"),
            token=token,
            hr_id=hr_id,
            sandbox=True,
            data_dir=self.data_dir / "sandbox",
            audit_path=None
            if self.audit_path is None
            else self.audit_path.with_name("sandbox-" + self.audit_path.name),
            room_counts=dict(self.room_counts or room_counts or {}),
        )

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None, env_file: Path | None = None
    ) -> Settings:
        """Read the per-user file, `.env` then `.env.local` from `cwd`, then `env_file` (or the file
        HOTELRUNNER_ENV_FILE names), then the environment on top. A named file that cannot be read is a
        ConfigError: settings someone pointed at must not be silently ignored."""
        environ = os.environ if environ is None else environ
        cwd = Path.cwd() if cwd is None else cwd
        merged: dict[str, str] = {}
        sources: list[str] = []
        candidates = [user_env_file(environ), *(cwd / name for name in ENV_FILES)]
        for path in candidates:
            if path is None:
                continue
            found = read_env_file(path)
            if found:
                sources.append(str(path))
            merged.update(found)
        named = env_file or (Path(environ[ENV_FILE_VARIABLE]) if environ.get(ENV_FILE_VARIABLE) else None)
        if named is not None:
            named = named.expanduser()
            if not named.is_file():
                origin = "--env-file" if env_file is not None else ENV_FILE_VARIABLE
                raise ConfigError(f"{origin} names {named}, which is not a readable file")
            merged.update(read_env_file(named))
            sources.append(str(named))
        merged.update({k: v for k, v in environ.items() if k.startswith("HOTELRUNNER_")})
        return cls.from_mapping(merged, sources=tuple(sources))

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], sources: tuple[str, ...] = ()) -> Settings:
        """Settings from HOTELRUNNER_* strings; ConfigError names any variable with an unusable value."""
        reader = _Reader(values)
        data_dir = reader.path("HOTELRUNNER_DATA_DIR")
        base_url = reader.base_url("HOTELRUNNER_BASE_URL")
        hr_id = reader.text("HOTELRUNNER_HR_ID")
        return cls(
            token=reader.text("HOTELRUNNER_TOKEN"),
            hr_id=hr_id,
            base_url=base_url,
            data_dir=data_dir or folder_for(default_data_dir(), base_url, hr_id),
            audit_path=reader.path("HOTELRUNNER_AUDIT_LOG"),
            per_minute=reader.integer("HOTELRUNNER_QUOTA_PER_MINUTE", DEFAULTS["per_minute"]),
            per_day=reader.integer("HOTELRUNNER_QUOTA_PER_DAY", DEFAULTS["per_day"]),
            minute_seconds=reader.number("HOTELRUNNER_QUOTA_MINUTE_SECONDS", DEFAULTS["minute_seconds"]),
            day_seconds=reader.number("HOTELRUNNER_QUOTA_DAY_SECONDS", DEFAULTS["day_seconds"]),
            max_quota_wait_seconds=reader.number(
                "HOTELRUNNER_MAX_QUOTA_WAIT_SECONDS", DEFAULTS["max_quota_wait_seconds"], minimum=0
            ),
            timeout_seconds=reader.number("HOTELRUNNER_TIMEOUT_SECONDS", DEFAULTS["timeout_seconds"]),
            read_only=reader.flag("HOTELRUNNER_READ_ONLY"),
            sandbox=reader.flag("HOTELRUNNER_SANDBOX"),
            apply_without_preview=reader.flag("HOTELRUNNER_APPLY_WITHOUT_PREVIEW"),
            acknowledge_deliveries=reader.flag("HOTELRUNNER_ACKNOWLEDGE_DELIVERIES"),
            output_schemas=reader.flag("HOTELRUNNER_OUTPUT_SCHEMAS"),
            rooms_ttl_seconds=reader.number("HOTELRUNNER_ROOMS_TTL_SECONDS", DEFAULTS["rooms_ttl_seconds"], minimum=0),
            plan_ttl_seconds=reader.number("HOTELRUNNER_PLAN_TTL_SECONDS", DEFAULTS["plan_ttl_seconds"]),
            mirror_max_age_seconds=reader.number(
                "HOTELRUNNER_MIRROR_MAX_AGE_SECONDS", DEFAULTS["mirror_max_age_seconds"], minimum=0
            ),
            room_counts=reader.counts("HOTELRUNNER_ROOM_COUNTS"),
            sources=sources,
            public_url=reader.url("HOTELRUNNER_PUBLIC_URL"),
            allowed_hosts=reader.words("HOTELRUNNER_ALLOWED_HOSTS"),
            allowed_origins=reader.words("HOTELRUNNER_ALLOWED_ORIGINS"),
            oauth_issuer=reader.url("HOTELRUNNER_OAUTH_ISSUER"),
            oauth_jwks_url=reader.url("HOTELRUNNER_OAUTH_JWKS_URL"),
            oauth_scopes=reader.words("HOTELRUNNER_OAUTH_SCOPES", DEFAULTS["oauth_scopes"]),
            oauth_write_scope=reader.text("HOTELRUNNER_OAUTH_WRITE_SCOPE") or DEFAULTS["oauth_write_scope"],
        )


DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}
"""Each setting's default, defined once: by the Settings dataclass."""


class _Reader:
    """Typed access to string settings with errors that name the variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        value = self._values.get(name, "").strip()
        return value or None

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return Path(value).expanduser() if value else None

    def flag(self, name: str) -> bool:
        value = (self.text(name) or "").lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(f"{name}={value!r} is not a yes/no value; use true or false")

    def number(self, name: str, default: float, minimum: float = 1e-9) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            parsed = float(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is not a number") from None
        if parsed < minimum:
            raise ConfigError(f"{name}={value!r} must be at least {minimum:g}")
        return parsed

    def base_url(self, name: str) -> str:
        """An http(s) URL with a host and no query; plain http only to this machine (the sandbox)."""
        value = (self.text(name) or DEFAULT_BASE_URL).rstrip("/")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ConfigError(f"{name} is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{name} must be an https:// URL such as {DEFAULT_BASE_URL}")
        if parts.query or parts.username or parts.password:
            raise ConfigError(
                f"{name} must not carry credentials or a query; use HOTELRUNNER_TOKEN and HOTELRUNNER_HR_ID"
            )
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ConfigError(f"{name} must use https:// (the token travels in the URL); plain http only for 127.0.0.1")
        if "/api/v1/" in parts.path + "/":
            # The 2015 v1 API answers bare arrays with other field names; this server speaks v2 only.
            raise ConfigError(
                f"{name} points at HotelRunner's old v1 API, whose answers have another shape; "
                f"use the v2 URL {DEFAULT_BASE_URL} (same token and hr_id)"
            )
        return value

    def counts(self, name: str) -> dict[str, int]:
        """`INV:3,INV2:1` (or `=`) into {"INV": 3, "INV2": 1}."""
        counts: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in (self.text(name) or "").split(","))):
            # rpartition: HotelRunner's own room codes contain a colon (HR:1903:3 is HR:1903, 3 rooms)
            code, sep, number = item.rpartition("=") if "=" in item else item.rpartition(":")
            if not sep or not code.strip() or not number.strip().isdigit():
                raise ConfigError(f"{name}: {item!r} is not INV_CODE:ROOMS, e.g. DLXTRP:3,DLXDBL:1 or HR:1903:3")
            counts[code.strip()] = int(number)
        return counts

    def words(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list separated by commas or spaces (`a,b` or `a b`); unset: the default."""
        value = self.text(name)
        if value is None:
            return default
        return tuple(word for word in value.replace(",", " ").split() if word)

    def url(self, name: str) -> str | None:
        """An http(s) URL with a host, or None when unset; plain http only to this machine."""
        value = self.text(name)
        if value is None:
            return None
        try:
            parts = urlsplit(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{name}={value!r} must be an https:// URL")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ConfigError(f"{name}={value!r} must use https:// (plain http only for 127.0.0.1)")
        return value.rstrip("/")

    def integer(self, name: str, default: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) < 1:
            raise ConfigError(f"{name}={value!r} must be a whole number of at least 1")
        return int(value)


@dataclass(frozen=True)
class SettingDoc:
    """One environment variable as the README table and .env.example show it."""

    env: str
    field: str | None  # the Settings field holding it (its default comes from there); None: no default
    meaning: str
    shown_default: str | None = None  # when the real default depends on the machine or the property
    example: str | None = None  # for .env.example, when the default is not a useful example


SETTING_DOCS: tuple[SettingDoc, ...] = (
    SettingDoc("HOTELRUNNER_TOKEN", None, "credentials from the Custom Apps page (required)"),
    SettingDoc("HOTELRUNNER_HR_ID", None, "credentials from the Custom Apps page (required)"),
    SettingDoc(
        "HOTELRUNNER_BASE_URL",
        "base_url",
        "the v2 API (a `/api/v1/` URL, whose answers have another shape, is refused)",
    ),
    SettingDoc(
        "HOTELRUNNER_DATA_DIR",
        "data_dir",
        "quota, mirror, ledger, plans, audit (one property per folder)",
        shown_default="~/.local/share/hotelrunner-mcp/<host>-<key>",
    ),
    SettingDoc("HOTELRUNNER_AUDIT_LOG", "audit_path", "audit file", shown_default="<data dir>/audit.jsonl"),
    SettingDoc("HOTELRUNNER_QUOTA_PER_MINUTE", "per_minute", "the property's per-minute quota"),
    SettingDoc("HOTELRUNNER_QUOTA_PER_DAY", "per_day", "the property's daily quota"),
    SettingDoc(
        "HOTELRUNNER_MAX_QUOTA_WAIT_SECONDS",
        "max_quota_wait_seconds",
        "longest one call waits, in all, for per-minute slots; a later slot is refused at once with when to retry",
    ),
    SettingDoc("HOTELRUNNER_READ_ONLY", "read_only", "hide and refuse every write tool"),
    SettingDoc(
        "HOTELRUNNER_APPLY_WITHOUT_PREVIEW", "apply_without_preview", "trusted automation: apply without a plan id"
    ),
    SettingDoc(
        "HOTELRUNNER_ACKNOWLEDGE_DELIVERIES",
        "acknowledge_deliveries",
        "acknowledge each delivery once it is in the mirror (takes it off HotelRunner's undelivered list, which a "
        "PMS may rely on; HotelRunner must enable the endpoint for the app)",
    ),
    SettingDoc(
        "HOTELRUNNER_OUTPUT_SCHEMAS",
        "output_schemas",
        "publish every tool's output schema in tools/list, for clients that validate or generate code (about 25 KB "
        "more of every agent's context; answers carry structured content either way)",
    ),
    SettingDoc("HOTELRUNNER_ROOMS_TTL_SECONDS", "rooms_ttl_seconds", "how long the room list is remembered"),
    SettingDoc("HOTELRUNNER_PLAN_TTL_SECONDS", "plan_ttl_seconds", "how long a preview's plan id is valid"),
    SettingDoc(
        "HOTELRUNNER_MIRROR_MAX_AGE_SECONDS",
        "mirror_max_age_seconds",
        "mirror age that triggers a sync before answering",
    ),
    SettingDoc(
        "HOTELRUNNER_TIMEOUT_SECONDS",
        "timeout_seconds",
        "HTTP timeout (the limiter counts a request in flight this long)",
    ),
    SettingDoc(
        "HOTELRUNNER_ROOM_COUNTS",
        None,
        "`INV:rooms,...` (e.g. `DLXTRP:3` or `HR:1903:3`), for occupancy % and availability bounds",
        example="DLXTRP:3,DLXDBL:1",
    ),
    SettingDoc("HOTELRUNNER_SANDBOX", "sandbox", "label answers as sandbox data (only with a loopback base URL)"),
    SettingDoc(
        "HOTELRUNNER_QUOTA_MINUTE_SECONDS", "minute_seconds", "window length; only tests against the sandbox shorten it"
    ),
    SettingDoc(
        "HOTELRUNNER_QUOTA_DAY_SECONDS", "day_seconds", "window length; only tests against the sandbox shorten it"
    ),
    SettingDoc(
        "HOTELRUNNER_ENV_FILE",
        None,
        "one more env file to read (like `--env-file`); `~/.config/hotelrunner-mcp/env` is always read",
        example="~/hotelrunner.env",
    ),
    SettingDoc(
        "HOTELRUNNER_PUBLIC_URL",
        "public_url",
        "`serve --http` behind a proxy: the URL clients use for /mcp (allowed Host and Origin, OAuth audience)",
        example="https://hotel.example.com/mcp",
    ),
    SettingDoc(
        "HOTELRUNNER_ALLOWED_HOSTS", None, "`serve --http`: more Host headers to accept", example="mcp.lan:8000"
    ),
    SettingDoc(
        "HOTELRUNNER_ALLOWED_ORIGINS", None, "`serve --http`: browser Origins to accept", example="https://app.example"
    ),
    SettingDoc(
        "HOTELRUNNER_OAUTH_ISSUER",
        "oauth_issuer",
        "`serve --http`: accept JWT access tokens from this identity provider (OAuth resource server)",
        example="https://id.example.com",
    ),
    SettingDoc(
        "HOTELRUNNER_OAUTH_JWKS_URL",
        "oauth_jwks_url",
        "the issuer's signing keys (default: `jwks_uri` from its metadata)",
        shown_default="from the issuer's metadata",
        example="https://id.example.com/.well-known/jwks.json",
    ),
    SettingDoc(
        "HOTELRUNNER_OAUTH_SCOPES",
        "oauth_scopes",
        "scopes every JWT must carry",
        shown_default="hotelrunner:read",
    ),
    SettingDoc("HOTELRUNNER_OAUTH_WRITE_SCOPE", "oauth_write_scope", "the scope that unlocks the write tools"),
)


def shown_default(doc: SettingDoc) -> str:
    """A setting's default as people write it in an env file."""
    if doc.shown_default is not None:
        return doc.shown_default
    value = DEFAULTS.get(doc.field) if doc.field else None
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
