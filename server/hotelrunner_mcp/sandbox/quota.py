"""HotelRunner's quota: N requests per rolling minute and M per rolling day, per hr_id.
Requests refused with 429 do not use quota. Thread-safe; uses a monotonic clock."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class Quota:
    def __init__(
        self,
        per_minute: int,
        per_day: int,
        minute_seconds: float = 60.0,
        day_seconds: float = 86400.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._calls: dict[str, deque[float]] = {}
        self.configure(per_minute=per_minute, per_day=per_day, minute_seconds=minute_seconds, day_seconds=day_seconds)

    def configure(
        self,
        *,
        per_minute: int | None = None,
        per_day: int | None = None,
        minute_seconds: float | None = None,
        day_seconds: float | None = None,
    ) -> None:
        with self._lock:
            if per_minute is not None:
                self.per_minute = per_minute
            if per_day is not None:
                self.per_day = per_day
            if minute_seconds is not None:
                self.minute_seconds = minute_seconds
            if day_seconds is not None:
                self.day_seconds = day_seconds
            if min(self.per_minute, self.per_day) < 1 or min(self.minute_seconds, self.day_seconds) <= 0:
                raise ValueError("quota limits and window lengths must be positive")

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def take(self, key: str) -> float | None:
        """Count one request for `key`; None if allowed, else seconds until one is allowed."""
        with self._lock:
            now = self._monotonic()
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.day_seconds:
                calls.popleft()
            minute_calls = [t for t in calls if t > now - self.minute_seconds]
            waits = []
            if len(minute_calls) >= self.per_minute:
                waits.append(minute_calls[-self.per_minute] + self.minute_seconds - now)
            if len(calls) >= self.per_day:
                waits.append(calls[-self.per_day] + self.day_seconds - now)
            if waits:
                return max(waits)
            calls.append(now)
            return None

    def used(self, key: str) -> dict[str, int]:
        with self._lock:
            now = self._monotonic()
            calls = [t for t in self._calls.get(key, ()) if t > now - self.day_seconds]
            return {"minute": sum(t > now - self.minute_seconds for t in calls), "day": len(calls)}


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
