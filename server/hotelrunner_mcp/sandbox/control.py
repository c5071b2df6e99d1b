"""Control of a running sandbox from outside the HotelRunner paths: `SandboxControl` (Python,
thread-safe, for in-process tests) and the same operations as JSON under /_sandbox, which
requires the admin key in the X-Sandbox-Admin header (a HotelRunner token never opens it)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotelrunner_mcp.sandbox.catalog import CONNECTED_CHANNELS, ROOMS_BY_CODE, master_rate
from hotelrunner_mcp.sandbox.config import ADMIN_HEADER, ADMIN_PREFIX, check_push_options
from hotelrunner_mcp.sandbox.errors import SandboxError, invalid
from hotelrunner_mcp.sandbox.faults import make_fault
from hotelrunner_mcp.sandbox.guests import Guest, random_guest
from hotelrunner_mcp.sandbox.log import LoggedRequest
from hotelrunner_mcp.sandbox.push import PushHandle
from hotelrunner_mcp.sandbox.reservation import Extra
from hotelrunner_mcp.sandbox.state import LineRequest

if TYPE_CHECKING:
    from hotelrunner_mcp.sandbox.core import Sandbox


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


class SandboxControl:
    """Python control API. Domain refusals raise SandboxError; bad arguments raise ValueError."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sb = sandbox

    # request log, reset -----------------------------------------------------------------
    def requests(self) -> list[LoggedRequest]:
        return self._sb.log.entries()

    def clear_requests(self) -> None:
        self._sb.log.clear()

    def reset(self) -> None:
        self._sb.reset()

    # quota, faults, channels ------------------------------------------------------------
    def set_quota(
        self,
        *,
        per_minute: int | None = None,
        per_day: int | None = None,
        minute_seconds: float | None = None,
        day_seconds: float | None = None,
    ) -> None:
        self._sb.quota.configure(
            per_minute=per_minute, per_day=per_day, minute_seconds=minute_seconds, day_seconds=day_seconds
        )

    def reset_quota(self) -> None:
        self._sb.quota.reset()

    def quota_used(self) -> dict[str, int]:
        return self._sb.quota.used(str(self._sb.config.hr_id))

    def add_fault(
        self,
        kind: str,
        *,
        times: int | None = None,
        rate: float | None = None,
        delay: float | None = None,
        paths: list[str] | None = None,
    ) -> dict[str, object]:
        return self._sb.faults.add(make_fault(kind, times=times, rate=rate, delay=delay, paths=paths)).to_json()

    def faults(self) -> list[dict[str, object]]:
        return [fault.to_json() for fault in self._sb.faults.list()]

    def clear_faults(self) -> None:
        self._sb.faults.clear()

    def _channel(self, channel: str) -> str:
        if channel not in CONNECTED_CHANNELS:
            raise ValueError(f"Unknown channel {channel!r}; connected: {', '.join(CONNECTED_CHANNELS)}.")
        return channel

    def set_channel_price_floor(self, channel: str, floor: Decimal | str | None) -> None:
        """Updates with a price below `floor` fail on that channel (None removes the floor)."""
        floors = self._sb.state.price_floors
        if floor is None:
            floors.pop(self._channel(channel), None)
        else:
            floors[self._channel(channel)] = Decimal(str(floor))

    def set_channel_failure(self, channel: str, message: str | None) -> None:
        """Every update job to that channel fails with `message` (None restores it)."""
        failures = self._sb.state.channel_failures
        if message is None:
            failures.pop(self._channel(channel), None)
        else:
            failures[self._channel(channel)] = message

    def set_channel_delay(self, channel: str, seconds: float | None) -> None:
        """Jobs to that channel read `in_progress` for `seconds` after an update (None: at once)."""
        delays = self._sb.state.channel_delays
        if seconds is None:
            delays.pop(self._channel(channel), None)
        elif seconds < 0:
            raise ValueError("seconds must not be negative.")
        else:
            delays[self._channel(channel)] = float(seconds)

    # calendar, reservations -------------------------------------------------------------
    def calendar(self, inv_code: str, day: date | str, rate_code: str | None = None) -> dict[str, object]:
        if inv_code not in ROOMS_BY_CODE:
            raise ValueError(f"Unknown inv_code {inv_code!r}; known: {', '.join(ROOMS_BY_CODE)}.")
        return self._sb.state.calendar_snapshot(inv_code, _day(day), rate_code)

    def reservation(self, hr_number: str) -> dict[str, object]:
        with self._sb.state.lock:
            return self._sb.state.render(self._sb.state.get(hr_number))

    def reservations(self, *, undelivered: bool | None = None) -> list[dict[str, object]]:
        """Every reservation held (no date window), oldest booking first."""
        state = self._sb.state
        with state.lock:
            held = sorted(state.reservations.values(), key=lambda r: (r.completed_at, r.hr_number))
            return [state.render(r) for r in held if undelivered is None or r.delivered != undelivered]

    def create_booking(
        self,
        *,
        inv_code: str = "DBLSUP",
        rate_code: str | None = None,
        checkin: date | str | None = None,
        nights: int = 2,
        rooms: int = 1,
        adults: int = 2,
        channel: str = "bookingcom",
        state: str | None = None,
        guest_name: str | None = None,
        note: str = "",
        extras: list[tuple[str, Decimal | str]] | None = None,
    ) -> dict[str, object]:
        """A guest books on `channel` now. Default state: `reserved` (awaiting the property's
        answer) for online, `confirmed` otherwise. Refused (SandboxError 422) if no room is left."""
        if inv_code not in ROOMS_BY_CODE:
            raise ValueError(f"Unknown inv_code {inv_code!r}; known: {', '.join(ROOMS_BY_CODE)}.")
        if nights < 1 or rooms < 1 or adults < 1:
            raise ValueError("nights, rooms and adults must be at least 1.")
        sb_state = self._sb.state
        with sb_state.lock:
            start = _day(checkin) if checkin is not None else sb_state.today() + timedelta(days=14)
            guest = random_guest(sb_state.rng)
            if guest_name:
                first, _, last = guest_name.partition(" ")
                guest = Guest(first, last, guest.email, guest.phone, guest.country, guest.city, guest.street)
            extra_list = [Extra(name, Decimal(str(price))) for name, price in extras or []]
            lines = [
                LineRequest(rate_code or master_rate(inv_code).rate_code, adults, [], extra_list if i == 0 else [])
                for i in range(rooms)
            ]
            reservation = sb_state.book(
                lines=lines,
                checkin=start,
                checkout=start + timedelta(days=nights),
                channel=channel,
                guest=guest,
                state=state or ("reserved" if channel == "online" else "confirmed"),
                note=note,
                prepaid=channel == "expedia",
            )
            return sb_state.render(reservation)

    def modify_booking(
        self,
        hr_number: str,
        *,
        checkin: date | str | None = None,
        checkout: date | str | None = None,
        nights: int | None = None,
        adults: int | None = None,
        note: str | None = None,
    ) -> dict[str, object]:
        """The guest changes the stay; `nights` moves the checkout relative to the (new) checkin."""
        state = self._sb.state
        with state.lock:
            current = state.get(hr_number)
            start = _day(checkin) if checkin is not None else current.checkin
            end = _day(checkout) if checkout is not None else (start + timedelta(days=nights) if nights else None)
            if end is None:
                end = start + (current.checkout - current.checkin)
            return state.render(state.modify(hr_number, checkin=start, checkout=end, adults=adults, note=note))

    def cancel_booking(self, hr_number: str, reason: str = "customer") -> dict[str, object]:
        state = self._sb.state
        return state.render(state.cancel(hr_number, reason))

    # switches ---------------------------------------------------------------------------
    def set_ack_enabled(self, enabled: bool) -> None:
        """PUT /reservations/~ works only when enabled ("To enable this endpoint, please contact
        us."); off, it answers 403 {"status": "error", "message": "This endpoint is not enabled..."}."""
        self._sb.switches.ack_enabled = bool(enabled)

    def set_verbatim_bodies(self, enabled: bool) -> None:
        """On: fire and acknowledge answer the docs' invalid JSON `{\\n"status": "ok",\\n}` and a
        /rooms/daily try_again lacks the comma after transaction_id, as the docs print them."""
        self._sb.switches.verbatim_bodies = bool(enabled)

    def set_requires_response_field(self, enabled: bool) -> None:
        """On: reservation objects (listing, control, pushes) carry `requires_response`."""
        self._sb.switches.requires_response_field = bool(enabled)

    def switches(self) -> dict[str, bool]:
        sw = self._sb.switches
        return {
            "ack_enabled": sw.ack_enabled,
            "verbatim_bodies": sw.verbatim_bodies,
            "requires_response_field": sw.requires_response_field,
        }

    # push -------------------------------------------------------------------------------
    def set_callback(
        self,
        url: str | None,
        *,
        duplicates: int = 0,
        encoding: str | None = None,
        shape: str | None = None,
    ) -> None:
        """Push every later booking change (create/modify/cancel here, fire over HTTP) to `url`,
        each `duplicates` extra times; None stops it. `encoding`/`shape` default to the config's
        push_encoding/push_shape. Handles are in `pushes()`."""
        if duplicates < 0:
            raise ValueError("duplicates must not be negative.")
        check_push_options(encoding, shape)
        self._sb.callback_url, self._sb.callback_duplicates = url, duplicates
        self._sb.callback_encoding, self._sb.callback_shape = encoding, shape

    def pushes(self) -> list[PushHandle]:
        """Handles of the automatic pushes made since the last reset, oldest first."""
        return list(self._sb.auto_pushes)

    def push(
        self,
        reservation_or_hr_number: str | dict[str, Any],
        callback_url: str,
        reason: str,
        *,
        duplicates: int = 0,
        retries: int | None = None,
        backoff: float | None = None,
        encoding: str | None = None,
        shape: str | None = None,
    ) -> PushHandle:
        """POST the reservation to `callback_url` in the background; `.wait()` on the handle.
        A dict is taken as a reservation object as this sandbox prints it. `encoding`
        (multipart | form | query) and `shape` (2026 | 2016 | v1) default to the config's."""
        payload = (
            self.reservation(reservation_or_hr_number)
            if isinstance(reservation_or_hr_number, str)
            else dict(reservation_or_hr_number)
        )
        cfg = self._sb.config
        return self._sb.pusher.push(
            callback_url,
            payload,
            reason,
            token=str(cfg.token),
            hr_id=str(cfg.hr_id),
            duplicates=duplicates,
            retries=cfg.push_retries if retries is None else retries,
            backoff=cfg.push_backoff_seconds if backoff is None else backoff,
            encoding=encoding or cfg.push_encoding,
            shape=shape or cfg.push_shape,
        )


# admin routes ---------------------------------------------------------------------------------
AdminHandler = Callable[[SandboxControl, Request, dict[str, Any]], object]


def _admin(sandbox: Sandbox, handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        key = request.headers.get(ADMIN_HEADER, "")
        if not (key and hmac.compare_digest(key.encode(), str(sandbox.config.admin_key).encode())):
            return JSONResponse(
                {"status": "error", "code": "unauthorized", "message": f"Send the admin key in {ADMIN_HEADER}."}, 401
            )
        try:
            body = await request.json() if await request.body() else {}
            if not isinstance(body, dict):
                raise ValueError("The body must be a JSON object.")
            result = await run_in_threadpool(handler, sandbox.control, request, body)
        except SandboxError as error:
            return JSONResponse(error.body(), error.status)
        except (ValueError, TypeError, KeyError) as error:
            return JSONResponse({"status": "error", "code": "invalid_parameter", "message": str(error)}, 422)
        return JSONResponse({"status": "ok"} if result is None else {"status": "ok", "result": result})

    return endpoint


def _push(control: SandboxControl, request: Request, body: dict[str, Any]) -> object:
    handle = control.push(
        body["hr_number"],
        body["callback_url"],
        body["reason"],
        duplicates=int(body.get("duplicates", 0)),
        retries=body.get("retries"),
        backoff=body.get("backoff"),
        encoding=body.get("encoding"),
        shape=body.get("shape"),
    )
    return handle.wait(float(body.get("timeout", 30))).to_json() if body.get("wait", True) else handle.to_json()


def _enabled(body: dict[str, Any]) -> bool:
    value = body.get("enabled")
    if not isinstance(value, bool):
        raise ValueError('Send {"enabled": true} or {"enabled": false}.')
    return value


def _calendar(control: SandboxControl, request: Request, body: dict[str, Any]) -> object:
    q = request.query_params
    if "inv_code" not in q or "date" not in q:
        raise invalid("Query needs inv_code and date.")
    snapshot = control.calendar(q["inv_code"], q["date"], q.get("rate_code"))
    channels = snapshot.get("channels", {})
    assert isinstance(channels, dict)
    as_json = {k: (float(v) if isinstance(v, Decimal) else v) for k, v in snapshot.items() if k != "channels"}
    as_json["channels"] = {
        c: {k: (float(v) if isinstance(v, Decimal) else v) for k, v in vals.items()} for c, vals in channels.items()
    }
    return as_json


def admin_routes(sandbox: Sandbox) -> list[Route]:
    def route(path: str, method: str, handler: AdminHandler) -> Route:
        return Route(ADMIN_PREFIX + path, _admin(sandbox, handler), methods=[method])

    def hr(request: Request) -> str:
        return str(request.path_params["hr_number"])

    return [
        route("/requests", "GET", lambda c, r, b: [e.to_json() for e in c.requests()]),
        route("/requests", "DELETE", lambda c, r, b: c.clear_requests()),
        route("/reset", "POST", lambda c, r, b: c.reset()),
        route("/quota", "GET", lambda c, r, b: c.quota_used()),
        route("/quota", "PUT", lambda c, r, b: c.set_quota(**b)),
        route("/quota/reset", "POST", lambda c, r, b: c.reset_quota()),
        route("/faults", "GET", lambda c, r, b: c.faults()),
        route("/faults", "POST", lambda c, r, b: c.add_fault(**b)),
        route("/faults", "DELETE", lambda c, r, b: c.clear_faults()),
        route(
            "/channels/{channel}/price_floor",
            "PUT",
            lambda c, r, b: c.set_channel_price_floor(r.path_params["channel"], b.get("floor")),
        ),
        route(
            "/channels/{channel}/failure",
            "PUT",
            lambda c, r, b: c.set_channel_failure(r.path_params["channel"], b.get("message")),
        ),
        route(
            "/channels/{channel}/delay",
            "PUT",
            lambda c, r, b: c.set_channel_delay(r.path_params["channel"], b.get("seconds")),
        ),
        route("/calendar", "GET", _calendar),
        route("/bookings", "GET", lambda c, r, b: c.reservations()),
        route("/bookings", "POST", lambda c, r, b: c.create_booking(**b)),
        route("/bookings/{hr_number}", "GET", lambda c, r, b: c.reservation(hr(r))),
        route("/bookings/{hr_number}", "PATCH", lambda c, r, b: c.modify_booking(hr(r), **b)),
        route("/bookings/{hr_number}/cancel", "POST", lambda c, r, b: c.cancel_booking(hr(r), **b)),
        route("/push", "POST", _push),
        route(
            "/callback",
            "PUT",
            lambda c, r, b: c.set_callback(
                b.get("url"),
                duplicates=int(b.get("duplicates", 0)),
                encoding=b.get("encoding"),
                shape=b.get("shape"),
            ),
        ),
        route("/switches", "GET", lambda c, r, b: c.switches()),
        route("/ack", "PUT", lambda c, r, b: c.set_ack_enabled(_enabled(b))),
        route("/verbatim", "PUT", lambda c, r, b: c.set_verbatim_bodies(_enabled(b))),
        route("/requires_response", "PUT", lambda c, r, b: c.set_requires_response_field(_enabled(b))),
        route("/pushes", "GET", lambda c, r, b: [h.to_json() for h in c.pushes()]),
    ]
