"""SandboxConfig: everything a sandbox run can be told at start; credentials derive from the seed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_PREFIX = "/api/v2/apps"
ADMIN_PREFIX = "/_sandbox"
ADMIN_HEADER = "X-Sandbox-Admin"


PUSH_ENCODINGS = ("multipart", "form", "query")
PUSH_SHAPES = ("2026", "2016", "v1")


def check_push_options(encoding: str | None, shape: str | None) -> None:
    if encoding is not None and encoding not in PUSH_ENCODINGS:
        raise ValueError(f"push encoding must be one of {', '.join(PUSH_ENCODINGS)}, got {encoding!r}.")
    if shape is not None and shape not in PUSH_SHAPES:
        raise ValueError(f"push shape must be one of {', '.join(PUSH_SHAPES)}, got {shape!r}.")


@dataclass
class Switches:
    """What a running sandbox can switch without a restart; `reset()` restores the config's values."""

    ack_enabled: bool
    verbatim_bodies: bool
    requires_response_field: bool

    @classmethod
    def from_config(cls, config: SandboxConfig) -> Switches:
        return cls(config.ack_enabled, config.verbatim_bodies, config.requires_response_field)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _derive(seed: int, label: str) -> str:
    return hashlib.sha256(f"hotelrunner-sandbox:{label}:{seed}".encode()).hexdigest()


@dataclass
class SandboxConfig:
    """How a sandbox behaves. `token`, `hr_id` and `admin_key` left as None derive from `seed`,
    so the same seed always prints the same credentials. `clock` returns an aware UTC datetime
    ("now" for seed data, timestamps and date defaults); quota windows use a monotonic clock."""

    seed: int = 7
    per_minute: int = 5
    per_day: int = 250
    minute_seconds: float = 60.0
    day_seconds: float = 86400.0
    prefix: str = DEFAULT_PREFIX
    token: str | None = None
    hr_id: str | None = None
    admin_key: str | None = None
    clock: Callable[[], datetime] = utc_now
    hang_seconds: float = 120.0  # how long a "hang" fault holds a request (unless the client leaves)
    push_retries: int = 3  # extra attempts after a failed push delivery
    push_backoff_seconds: float = 0.05  # first retry delay; doubles per attempt
    push_timeout_seconds: float = 5.0
    callback_url: str | None = None  # push every booking change there, as HotelRunner would
    faults: list[dict[str, Any]] = field(default_factory=list)  # add_fault kwargs, active at start and after reset
    push_encoding: str = "multipart"  # multipart | form | query: how pushes carry `data` (see push.py)
    push_shape: str = "2026"  # 2026 | 2016 | v1: which documented push payload (see push.py)
    requires_response_field: bool = False  # include `requires_response` in reservation objects
    ack_enabled: bool = True  # PUT /reservations/~ ("To enable this endpoint, please contact us.")
    verbatim_bodies: bool = False  # answer fire/ack ok and daily try_again with the docs' invalid JSON
    # None: Villa Thaifa's month (~90 bookings). N: exactly N bookings made over the last 30 days, for scale
    # tests; availability is NOT checked for them (rooms may be overbooked), the only thing relaxed.
    bookings: int | None = None

    def __post_init__(self) -> None:
        self.prefix = "/" + self.prefix.strip("/") if self.prefix.strip("/") else ""
        if self.token is None:
            self.token = "sbx-" + _derive(self.seed, "token")[:32]
        if self.hr_id is None:
            self.hr_id = str(100000 + int(_derive(self.seed, "hr_id")[:8], 16) % 900000)
        if self.admin_key is None:
            self.admin_key = "adm-" + _derive(self.seed, "admin")[:32]
        check_push_options(self.push_encoding, self.push_shape)
        if self.bookings is not None and self.bookings < 0:
            raise ValueError("bookings must be 0 or more")
        if self.per_minute < 1 or self.per_day < 1 or self.minute_seconds <= 0 or self.day_seconds <= 0:
            raise ValueError("quota limits and window lengths must be positive")
