"""The request log: what the sandbox received on the HotelRunner paths, credentials removed."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field


@dataclass
class LoggedRequest:
    method: str
    path: str  # relative to the prefix, e.g. "/rooms/daily"
    params: dict[str, str | list[str]]  # query and form, without token and hr_id
    json: object | None  # the JSON body, if any
    status: int
    at: float  # epoch seconds when it arrived
    ignored_fields: list[str] = field(default_factory=list)  # sent but silently ignored (rate-only targets)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class RequestLog:
    """Entries in arrival order of completion. `clear()` starts a new epoch: a request that
    arrived before it (say, one still sleeping in a latency fault) is not logged after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []
        self.epoch = 0

    def add(self, entry: LoggedRequest, epoch: int | None = None) -> None:
        with self._lock:
            if epoch is None or epoch == self.epoch:
                self._entries.append(entry)

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.epoch += 1
