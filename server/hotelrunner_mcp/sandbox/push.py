"""HotelRunner's real-time push: POST a reservation to a callback URL with `token` and `hr_id` in
the query and `data` (a JSON text). Every documented way is available:

encoding (how `data` travels):
- "multipart" (default): multipart/form-data with one `data` field, which is what the docs'
  snippet sends (`new FormData(); data.append("data", ...)`, push.devdocs.request.txt), although
  the page says application/x-www-form-urlencoded;
- "form": application/x-www-form-urlencoded `data=...`;
- "query": `data=<JSON>` in the query string next to token and hr_id, no body (push.slate_v2.request.txt).

shape (what `data` holds):
- "2026" (default): `{"reservations": [<reservation object>]}` and no `reason` (push.am_2026);
- "2016": the flat Slate v2 object with a top-level `reason`, `channel` as a display name
  ("Booking.com"; null for a direct booking), UTC timestamps with Z, no message_uid (push.slate_v2.json);
- "v1": the flat Slate v1 object: as 2016 without modified/paid_amount, and `rooms` an object
  keyed by line id (push.slate_v1.json).

A failed delivery (non-2xx or connection error) is retried with a doubling backoff, a bounded
number of times; `duplicates=N` sends the same push N more times, as HotelRunner's retries
sometimes do."""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hotelrunner_mcp.sandbox.config import PUSH_ENCODINGS, PUSH_SHAPES, check_push_options

PUSH_REASONS = ("modify", "cancel", "confirm")
__all__ = ["PUSH_ENCODINGS", "PUSH_REASONS", "PUSH_SHAPES", "PushAttempt", "PushHandle", "Pusher", "push_payload"]


def _utc_z(stamp: object) -> object:
    if not isinstance(stamp, str):
        return stamp
    return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _flat_room(line: dict[str, Any]) -> dict[str, object]:
    comments = [str(c.get("body", "")) for c in line.get("comments", []) if isinstance(c, dict)]
    return {
        "state": line.get("state"),
        "code": line.get("rate_code", line.get("code")),
        "price": line.get("price"),
        "nights": line.get("nights"),
        "total_guest": line.get("total_guest"),
        "total_adult": line.get("total_adult"),
        "child_ages": list(line.get("child_ages", [])),
        "name": line.get("name"),
        "checkin_date": line.get("checkin_date"),
        "checkout_date": line.get("checkout_date"),
        "extra_info": "\n".join(comments),
        "daily_prices": [{"date": d.get("date"), "price": str(d.get("price"))} for d in line.get("daily_prices", [])],
        "extras": [
            {"name": e.get("name"), "price": str(e.get("price"))} for e in line.get("extras", []) if e.get("is_extra")
        ],
    }


def _flat(reservation: dict[str, Any], reason: str, *, v1: bool) -> dict[str, object]:
    address = reservation.get("address") or {}
    billing = reservation.get("billing_address") or {}
    channel = (
        None
        if reservation.get("channel") == "online"
        else reservation.get("channel_display", reservation.get("channel"))
    )
    flat: dict[str, object] = {
        "reason": reason,
        "hr_number": reservation.get("hr_number"),
        "provider_number": reservation.get("provider_number"),
        "channel": channel,
        "state": reservation.get("state"),
        "modified": reservation.get("modified"),
        "guest": reservation.get("guest"),
        "cancel_reason": reservation.get("cancel_reason"),
        "completed_at": _utc_z(reservation.get("completed_at")),
        "updated_at": _utc_z(reservation.get("updated_at")),
        **{
            k: reservation.get(k)
            for k in ("sub_total", "extras_total", "adjustments_total", "tax_total", "total", "currency")
        },
        **{k: reservation.get(k) for k in ("checkin_date", "checkout_date", "note", "payment", "paid_amount")},
        "address": {
            "city": address.get("city"),
            "state": address.get("state"),
            "country": billing.get("country", address.get("country")),
            "phone": address.get("phone"),
            "email": address.get("email"),
            "street": address.get("street"),
            "street_2": address.get("street_2"),
        },
    }
    lines = [line for line in reservation.get("rooms", []) if isinstance(line, dict)]
    if v1:
        del flat["modified"], flat["paid_amount"]
        flat["rooms"] = {str(line.get("id")): _flat_room(line) for line in lines}
    else:
        flat["rooms"] = [_flat_room(line) for line in lines]
    return flat


def push_payload(reservation: dict[str, Any], shape: str, reason: str) -> dict[str, object]:
    """What `data` holds for a reservation object (the 2026 JSON the sandbox prints)."""
    check_push_options(None, shape)
    if shape == "2026":
        return {"reservations": [reservation]}
    return _flat(reservation, reason, v1=shape == "v1")


def multipart_body(data: str) -> tuple[bytes, str]:
    """A browser FormData with one `data` field: the body and its content-type."""
    boundary = "----WebKitFormBoundary" + hashlib.sha256(data.encode()).hexdigest()[:16]
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n{data}\r\n--{boundary}--\r\n').encode()
    return body, f"multipart/form-data; boundary={boundary}"


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
    encoding: str = "multipart"
    shape: str = "2026"
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
            "url": self.url,
            "reason": self.reason,
            "deliveries": self.deliveries,
            "delivered": self.delivered,
            "encoding": self.encoding,
            "shape": self.shape,
            "done": self.done,
            "attempts": [a.__dict__ for a in self.attempts],
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
        encoding: str = "multipart",
        shape: str = "2026",
    ) -> PushHandle:
        if reason not in PUSH_REASONS:
            raise ValueError(f"reason must be one of {', '.join(PUSH_REASONS)}, got {reason!r}.")
        if duplicates < 0 or retries < 0 or backoff < 0:
            raise ValueError("duplicates, retries and backoff must not be negative.")
        check_push_options(encoding, shape)
        handle = PushHandle(url, reason, 1 + duplicates, encoding, shape)
        data = json.dumps(push_payload(reservation, shape, reason), ensure_ascii=False)
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

    def _deliver(
        self, client: Any, handle: PushHandle, query: dict[str, str], data: str, retries: int, backoff: float
    ) -> None:
        import httpx2

        for delivery in range(handle.deliveries):
            for attempt in range(retries + 1):
                if self._stop.is_set():
                    return
                status, error = None, None
                try:
                    status = self._post(client, handle, query, data)
                except httpx2.HTTPError as exc:
                    error = type(exc).__name__
                handle.attempts.append(PushAttempt(delivery, attempt, status, error, time.time()))
                if status is not None and 200 <= status < 300:
                    break
                if attempt < retries:
                    self._stop.wait(backoff * 2**attempt)

    @staticmethod
    def _post(client: Any, handle: PushHandle, query: dict[str, str], data: str) -> int:
        if handle.encoding == "query":
            return int(client.post(handle.url, params={**query, "data": data}).status_code)
        if handle.encoding == "form":
            return int(client.post(handle.url, params=query, data={"data": data}).status_code)
        body, content_type = multipart_body(data)
        return int(
            client.post(handle.url, params=query, content=body, headers={"content-type": content_type}).status_code
        )

    def stop(self, timeout: float = 2.0) -> None:
        """Abandon pending pushes (their handles complete) and end the worker."""
        with self._lock:
            self._stop.set()
            worker, self._worker = self._worker, None
            if worker is not None:
                self._queue.put(None)
        if worker is not None:
            worker.join(timeout)
