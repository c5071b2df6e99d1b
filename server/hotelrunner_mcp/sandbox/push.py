"""HotelRunner's real-time push: POST a reservation to a callback URL with `token` and `hr_id` in
the query and `data` (the reservation JSON plus `reason`) as a form field. A failed delivery
(non-2xx or connection error) is retried with a doubling backoff, a bounded number of times;
`duplicates=N` sends the same push N more times, as HotelRunner's retries sometimes do."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PUSH_REASONS = ("modify", "cancel", "confirm")


@dataclass
class PushAttempt:
    delivery: int  # 0 = the push, 1.. = duplicates
    attempt: int  # 0 = first try, 1.. = retries
    status: int | None  # HTTP status, None on a connection error
    error: str | None
    at: float


@dataclass
class PushHandle:
    """Follow a push running in the background; `wait()` returns when every delivery ended."""

    url: str
    reason: str
    deliveries: int
    attempts: list[PushAttempt] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def delivered(self) -> int:
        """How many deliveries got a 2xx answer."""
        return len({a.delivery for a in self.attempts if a.status is not None and 200 <= a.status < 300})

    def wait(self, timeout: float = 10.0) -> PushHandle:
        if not self._done.wait(timeout):
            raise TimeoutError(f"push to {self.url} still running after {timeout} s")
        return self

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.url, "reason": self.reason, "deliveries": self.deliveries, "delivered": self.delivered,
            "done": self.done, "attempts": [a.__dict__ for a in self.attempts],
        }


class Pusher:
    """Delivers pushes one after another, in the order they were asked for, on one background
    thread (a push being retried holds back the ones after it, as a delivery queue would)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._queue: queue.Queue[tuple[PushHandle, dict[str, str], str, int, float] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def push(
        self,
        url: str,
        reservation: dict[str, object],
        reason: str,
        *,
        token: str,
        hr_id: str,
        duplicates: int = 0,
        retries: int = 3,
        backoff: float = 0.05,
    ) -> PushHandle:
        if reason not in PUSH_REASONS:
            raise ValueError(f"reason must be one of {', '.join(PUSH_REASONS)}, got {reason!r}.")
        if duplicates < 0 or retries < 0 or backoff < 0:
            raise ValueError("duplicates, retries and backoff must not be negative.")
        handle = PushHandle(url, reason, 1 + duplicates)
        data = json.dumps({**reservation, "reason": reason})
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._stop.clear()
                self._worker = threading.Thread(target=self._run, name="sandbox-push", daemon=True)
                self._worker.start()
            self._queue.put((handle, {"token": token, "hr_id": hr_id}, data, retries, backoff))
        return handle

    def _run(self) -> None:
        import httpx2  # imported here: the sandbox starts faster without it

        with httpx2.Client(timeout=self.timeout) as client:
            while (job := self._queue.get()) is not None:
                handle, query, data, retries, backoff = job
                try:
                    self._deliver(client, handle, query, data, retries, backoff)
                finally:
                    handle._done.set()

    def _deliver(self, client: Any, handle: PushHandle, query: dict[str, str], data: str, retries: int, backoff: float) -> None:
        import httpx2

        for delivery in range(handle.deliveries):
            for attempt in range(retries + 1):
                if self._stop.is_set():
                    return
                status, error = None, None
                try:
                    status = client.post(handle.url, params=query, data={"data": data}).status_code
                except httpx2.HTTPError as exc:
                    error = type(exc).__name__
                handle.attempts.append(PushAttempt(delivery, attempt, status, error, time.time()))
                if status is not None and 200 <= status < 300:
                    break
                if attempt < retries:
                    self._stop.wait(backoff * 2**attempt)

    def stop(self, timeout: float = 2.0) -> None:
        """Abandon pending pushes (their handles complete) and end the worker."""
        with self._lock:
            self._stop.set()
            worker, self._worker = self._worker, None
            if worker is not None:
                self._queue.put(None)
        if worker is not None:
            worker.join(timeout)
