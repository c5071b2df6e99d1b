"""HotelRunnerClient: one async method per HR-v1 endpoint. Every HTTP attempt goes through the Gate.

The client turns HTTP into typed models and every upstream fault into an error from `errors.py` whose
message tells an agent what to do. The token and hr_id ride in the URL, so no httpx2 exception, log
record or URL ever leaves this module unredacted.

Size: nine endpoints and the mapping of every HTTP outcome to a typed error live together on purpose,
so what a status, a timeout or a malformed body means is decided in one place (encoding is in
encoding.py, redaction in redact.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Literal, TypeVar

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.errors import (
    CredentialsRejected,
    EndpointNotEnabled,
    HotelRunnerError,
    InvalidRequest,
    MalformedResponse,
    NotApplied,
    NotConfigured,
    OutcomeUnknown,
    RateLimited,
    ReadOnlyMode,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
    check_range,
)
from hotelrunner_mcp.gate.gate import Gate, UpstreamCall
from hotelrunner_mcp.hotelrunner.encoding import (
    Params,
    audit_params,
    check_target,
    check_values,
    daily_room,
    encode_params,
    literal_bool,
    short,
    target_name,
    target_params,
)
from hotelrunner_mcp.hotelrunner.lenient_json import loads_lenient
from hotelrunner_mcp.hotelrunner.models import (
    MAX_DAILY_DATES,
    Channel,
    ConnectedChannel,
    DailyRoomUpdate,
    RangeUpdate,
    ReservationPage,
    Room,
    Transaction,
    UpdateResult,
)
from hotelrunner_mcp.hotelrunner.redact import Redactor, silence_http_logs
from hotelrunner_mcp.storage.offloop import off_loop, off_loop_shielded

_M = TypeVar("_M", bound=BaseModel)

RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_PAUSE_SECONDS = 0.5
MAX_PER_PAGE = 50
DOCUMENTED_PER_PAGE = 10  # GET /reservations' default page size (params.slate_v2.reservations.md)
CANCEL_REASONS = frozenset({"customer", "no_room", "no_show", "invalid_price"})
_CHECK_WRITE = "check with the transaction details (if a transaction id is known) or the HotelRunner extranet"


class HotelRunnerClient:
    """Async HR-v1 client. Use `async with HotelRunnerClient(settings, gate) as client:` or call `aclose()`."""

    def __init__(self, settings: Settings, gate: Gate, *, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._gate = gate
        self._redactor = Redactor([settings.token, settings.hr_id])
        silence_http_logs(settings.token, settings.hr_id)
        timeout = settings.timeout_seconds
        self._http = httpx2.AsyncClient(
            base_url=settings.base_url,
            timeout=httpx2.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,  # a redirect would carry the token to wherever it points
            headers={"Accept": "application/json", "User-Agent": "hotelrunner-mcp"},
        )

    async def __aenter__(self) -> HotelRunnerClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------------ rooms and calendar

    async def get_rooms(self) -> list[Room]:
        """GET /rooms: every rate of every room type."""
        body = await self._request("GET", "/rooms")
        return self._models(Room, body, "rooms", "GET /rooms")

    async def update_range(self, update: RangeUpdate) -> UpdateResult:
        """PUT /rooms/~: one room type or one rate over an inclusive date range. Never retried.

        Every literal request in the docs names the room as `room_code`; the parameter table names
        `inv_code`/`rate_code` and ignores `rate_code` beside `inv_code`. So a room type (and its master
        rate) goes as room_code=inv_code=<inv>, another rate as room_code=rate_code=<rate> with no
        inv_code: each reading of the docs updates the calendar that was asked for, or refuses.
        """
        check_values(update, f"{target_name(update)} {update.start_date}..{update.end_date}")
        check_target(update, update.set_fields())
        check_range("start_date", update.start_date, "end_date", update.end_date)
        if update.days is not None and (not update.days or any(d not in range(7) for d in update.days)):
            raise InvalidRequest(f"days must list weekdays 0 (Sunday) to 6 (Saturday), got {update.days}.")
        params: dict[str, Any] = {
            **target_params(update),
            "start_date": update.start_date,
            "end_date": update.end_date,
            **update.set_fields(),
            "days": update.days,
            "channel_codes": update.channel_codes,
        }
        body = await self._request("PUT", "/rooms/~", params=params, write=True)
        return self._write_result(body, "PUT /rooms/~", sent=None)

    async def update_daily(self, rooms: Sequence[DailyRoomUpdate]) -> UpdateResult:
        """PUT /rooms/daily (JSON body): many rooms, explicit dates, one request. Never retried.

        HotelRunner may answer status "ok" with an `errors` list for the parts it refused: check
        `result.partial`.
        """
        if not rooms:
            raise InvalidRequest("update_daily needs at least one room entry.")
        for room in rooms:
            if not room.dates:
                raise InvalidRequest(f"Room {room.inv_code} has no dates; drop it or add dates.")
            if len(room.dates) > MAX_DAILY_DATES:
                raise InvalidRequest(
                    f"Room {room.inv_code} has {len(room.dates)} dates; HotelRunner takes at most "
                    f"{MAX_DAILY_DATES} per room per call. Split it into several calls."
                )
            for day in room.dates:
                check_values(day, f"{target_name(room)} {day.date}")
                check_target(room, day.set_fields())
        payload = {"rooms": [daily_room(room) for room in rooms]}
        body = await self._request("PUT", "/rooms/daily", json_body=payload, write=True)
        return self._write_result(body, "PUT /rooms/daily", sent=sum(len(room.dates) for room in rooms))

    # ------------------------------------------------------------------ reservations

    async def get_reservations(
        self,
        *,
        from_date: date | None = None,
        from_last_update_date: date | None = None,
        per_page: int | None = None,
        page: int | None = None,
        reservation_number: str | None = None,
        undelivered: bool | None = None,
        modified: bool | None = None,
        booked: bool | None = None,
    ) -> ReservationPage:
        """GET /reservations: one page. HotelRunner's default is undelivered=true (not yet acknowledged)."""
        if per_page is not None and not 1 <= per_page <= MAX_PER_PAGE:
            raise InvalidRequest(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}.")
        if page is not None and page < 1:
            raise InvalidRequest(f"page starts at 1, got {page}.")
        params = {
            "from_date": from_date,
            "from_last_update_date": from_last_update_date,
            "per_page": per_page,
            "page": page,
            "reservation_number": reservation_number,
            # The docs' literals are true/false ("if set to `false`, all reservations will be shown"),
            # not the 0/1 of the calendar flags: a server comparing with "false" would read 0 as true.
            "undelivered": literal_bool(undelivered),
            "modified": literal_bool(modified),
            "booked": literal_bool(booked),
        }
        label = "GET /reservations"
        body = await self._request("GET", "/reservations", params=params)
        listing = self._listing(body, label, page or 1)
        if "pages" not in body and len(listing.reservations) >= (per_page or DOCUMENTED_PER_PAGE):
            # A full page without pagination: whether more follow is unknown, and a sync that stopped
            # here would move its cursor past them for good.
            raise self._malformed(label, "a full page came without 'pages', so it cannot tell whether more follow")
        return listing

    async def probe_listing(self, params: Mapping[str, str]) -> tuple[ReservationPage, list[dict[str, Any]]]:
        """GET /reservations with parameters sent exactly as given (the check probe compares encodings);
        the page and the raw reservation objects, as HotelRunner sent them."""
        body = await self._request("GET", "/reservations", params=params)
        listing = self._listing(body, "GET /reservations", int(params.get("page", 1)))
        items = body["reservations"]
        raw = list(items.values()) if isinstance(items, Mapping) else list(items)
        return listing, [item for item in raw if isinstance(item, dict)]

    def _listing(self, body: Mapping[str, Any], label: str, page: int) -> ReservationPage:
        """Only a listing that is one: a `reservations` list and pagination that adds up. A 200 answer
        with an error body or `{}` read as an empty page would move the sync past changes for good."""
        items = body.get("reservations")
        if not isinstance(items, list | Mapping):
            raise self._malformed(label, "it has no 'reservations' list")
        listing = self._model(ReservationPage, body, label)
        if listing.pages < 0 or listing.count < 0 or (listing.pages and listing.current_page > listing.pages):
            raise self._malformed(label, f"page {listing.current_page} of {listing.pages} does not add up")
        if "current_page" in body and listing.current_page != page and listing.reservations:
            raise self._malformed(label, f"page {page} was asked for and page {listing.current_page} came back")
        if len(listing.reservations) > listing.count and "count" in body:
            raise self._malformed(label, f"{len(listing.reservations)} reservations but a count of {listing.count}")
        return listing

    async def acknowledge_reservation(self, message_uid: str, pms_number: str | None = None) -> None:
        """PUT /reservations/~: mark a delivery as received so it leaves the undelivered listing."""
        if not message_uid:
            raise InvalidRequest("message_uid is required: take it from the reservation being acknowledged.")
        params = {"message_uid": message_uid, "pms_number": pms_number}
        try:
            body = await self._request("PUT", "/reservations/~", params=params, write=True)
            self._write_result(body, "PUT /reservations/~")
        except (CredentialsRejected, UpstreamRejected) as exc:
            # The docs: "To enable this endpoint, please contact us." What it answers while off is not
            # documented: a 401/403/404, or (errors have no documented status) a 200 error body that talks
            # about enabling. The other endpoints accept these credentials: not a credentials fault.
            if exc.status in (401, 403, 404) or (exc.status is None and "enabl" in exc.message.lower()):
                raise EndpointNotEnabled(
                    f"HotelRunner refused PUT /reservations/~{f' ({exc.status})' if exc.status else ''}: acknowledging "
                    "deliveries is an endpoint HotelRunner switches on per app on request (integrations@hotelrunner.com). "
                    "Nothing was acknowledged; the token and hr_id are not in question.",
                    status=exc.status,
                ) from None
            raise

    async def fire_reservation(
        self, hr_number: str, event: Literal["confirm", "cancel"], cancel_reason: str | None = None
    ) -> None:
        """PUT /reservations/fire: confirm or cancel a reservation that awaits a response. Never retried."""
        if not hr_number:
            raise InvalidRequest("hr_number is required (e.g. R754208185).")
        if event not in ("confirm", "cancel"):
            raise InvalidRequest(f"event must be 'confirm' or 'cancel', got {event!r}.")
        reasons = ", ".join(sorted(CANCEL_REASONS))
        if event == "cancel" and cancel_reason not in CANCEL_REASONS:
            raise InvalidRequest(f"a cancel needs cancel_reason, one of {reasons} (HotelRunner requires it).")
        if event != "cancel" and cancel_reason is not None:
            raise InvalidRequest(f"cancel_reason goes only with event='cancel' (one of {reasons}).")
        params = {"hr_number": hr_number, "event": event, "cancel_reason": cancel_reason}
        body = await self._request("PUT", "/reservations/fire", params=params, write=True)
        self._write_result(body, f"PUT /reservations/fire ({event} {hr_number})")

    # ------------------------------------------------------------------ infos

    async def get_transaction(self, transaction_id: str) -> Transaction:
        """GET /infos/transaction_details: how each channel handled an update."""
        if not transaction_id:
            raise InvalidRequest("transaction_id is required: it comes back from every calendar update.")
        body = await self._request("GET", "/infos/transaction_details", params={"transaction_id": transaction_id})
        label = "GET /infos/transaction_details"
        inner = body.get("transaction")
        if not isinstance(inner, Mapping):
            raise self._malformed(label, "it has no 'transaction' object")
        return self._model(Transaction, inner, label)

    async def get_connected_channels(self) -> list[ConnectedChannel]:
        """GET /infos/connected_channels: the property's channels with distribution job counts."""
        body = await self._request("GET", "/infos/connected_channels")
        return self._models(ConnectedChannel, body, "channels", "GET /infos/connected_channels")

    async def get_channels(self) -> list[Channel]:
        """GET /infos/channels: every channel HotelRunner can connect."""
        body = await self._request("GET", "/infos/channels")
        return self._models(Channel, body, "channels", "GET /infos/channels")

    # ------------------------------------------------------------------ transport

    async def _request(
        self, method: str, path: str, *, params: Params | None = None, json_body: Any = None, write: bool = False
    ) -> dict[str, Any]:
        """Send through the gate; reads get one more attempt on a connection error, timeout or 502-504."""
        self._check_ready(write)
        encoded = encode_params(params or {})
        call = UpstreamCall(method, path, params=audit_params(encoded), json=json_body, write=write)
        query: list[tuple[str, str | int | float | bool | None]] = [
            ("token", self._settings.token or ""),
            ("hr_id", self._settings.hr_id or ""),
            *encoded,
        ]

        async def attempt() -> httpx2.Response:
            return await self._http.request(method, path, params=query, json=json_body)

        attempts = 1 if write else 2
        for number in range(1, attempts + 1):
            retried, last = number > 1, number == attempts
            error: HotelRunnerError | None = None
            try:
                response = await self._gate.send(call, attempt)
            except httpx2.HTTPError as exc:
                error = self._transport_error(exc, call, retried=retried)
            if error is not None:
                # Raised outside the except block: the httpx2 exception (URL with token) is not its context.
                if last or isinstance(error, NotConfigured):
                    raise error
            elif last or response.status_code not in RETRY_STATUSES:
                # parsing a listing page and, after a 429, reading the quota ledger: off the loop. A write's
                # answer is read even if the caller is being cancelled: HotelRunner has it, the ledger must too
                read = off_loop_shielded if write else off_loop
                return await read(self._checked_body, response, call, retried=retried)
            await anyio.sleep(RETRY_PAUSE_SECONDS)
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_ready(self, write: bool) -> None:
        settings = self._settings
        if not settings.configured:
            raise NotConfigured(
                f"HotelRunner is not configured: set {' and '.join(settings.missing)} (environment or a .env "
                "file; both come from the HotelRunner panel, Custom Apps → your app → credentials). Nothing was sent."
            )
        if not settings.base_url.startswith(("https://", "http://")):
            raise NotConfigured(
                f"HOTELRUNNER_BASE_URL={self._redactor.text(settings.base_url)!r} is not an http(s) URL. "
                "Nothing was sent."
            )
        if write and settings.read_only:
            raise ReadOnlyMode("HOTELRUNNER_READ_ONLY is on, so nothing is written to HotelRunner. Nothing was sent.")

    def _checked_body(self, response: httpx2.Response, call: UpstreamCall, *, retried: bool) -> dict[str, Any]:
        """Map the HTTP status to an error, or return the JSON object body."""
        status = response.status_code
        label = call.label
        if status in (401, 403):
            raise CredentialsRejected(
                f"HotelRunner rejected the token/hr_id ({status}) on {label}. Check HOTELRUNNER_TOKEN and "
                "HOTELRUNNER_HR_ID in the environment or .env (HotelRunner panel → Custom Apps → your app → "
                "credentials); the app may also have been disabled. Nothing was changed.",
                status=status,
            )
        if status == 429:
            quota = self._gate.limiter.status()
            raise RateLimited(
                f"HotelRunner answered 429 (too many requests) to {label}; nothing was applied. Requests are "
                f"paused locally until {quota.blocked_until or 'the minute window frees'}; "
                f"{quota.left_today} of {quota.per_day} requests are left today.",
                status=status,
            )
        if status >= 500:
            if call.write:
                raise OutcomeUnknown(
                    f"HotelRunner answered {status} to {label}: outcome unknown, it may or may not have been "
                    f"applied. Do not resend blindly; {_CHECK_WRITE} first.",
                    status=status,
                )
            again = " twice" if retried else ""
            raise UpstreamUnavailable(
                f"HotelRunner answered {status}{again} to {label}: it is failing or in maintenance. Nothing was "
                "changed; try again in a few minutes.",
                status=status,
            )
        if status >= 400:
            raise UpstreamRejected(
                f"HotelRunner refused {label} ({status}): {self._upstream_message(response)}. Nothing was applied; "
                "fix the request before sending it again.",
                status=status,
            )
        if not response.is_success:
            raise UpstreamError(
                f"HotelRunner answered {status} to {label}, which it never documents (a redirect or a proxy?). "
                "Check HOTELRUNNER_BASE_URL.",
                status=status,
            )
        # Whatever HotelRunner echoes (the request URL in a note or an error) must not carry the token onward.
        body = self._redactor.value(loads_lenient(response.content))
        if not isinstance(body, dict):
            raise self._malformed(label, "the answer is not a JSON object", write=call.write, status=status)
        if not call.write and str(body.get("status", "")).lower() == "error":
            # HotelRunner documents error bodies without an HTTP status: a 200 can carry one.
            raise UpstreamRejected(
                f"HotelRunner answered {label} with an error ({self._body_message(body)}). Nothing was changed; "
                "try again later, and check the credentials and parameters if it persists.",
                status=status,
            )
        return body

    def _transport_error(self, exc: httpx2.HTTPError, call: UpstreamCall, *, retried: bool) -> HotelRunnerError:
        """No HTTP answer: a typed error whose text carries no URL (httpx2's own text does)."""
        label = call.label
        kind = type(exc).__name__
        if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout):
            return UpstreamTimeout(
                f"Could not connect to HotelRunner for {label} ({kind}); the request was not sent, so nothing was "
                "applied. Check the network and HOTELRUNNER_BASE_URL, then try again."
            )
        if isinstance(exc, httpx2.UnsupportedProtocol | httpx2.InvalidURL):
            return NotConfigured(f"HOTELRUNNER_BASE_URL cannot be used ({kind}). Nothing was sent.")
        timed_out = isinstance(exc, httpx2.TimeoutException)
        what = (
            f"no answer within {self._settings.timeout_seconds:g} s" if timed_out else f"the connection broke ({kind})"
        )
        if call.write:
            return OutcomeUnknown(
                f"{label}: {what}. Outcome unknown: it may or may not have been applied. Do not resend blindly; "
                f"{_CHECK_WRITE} first."
            )
        again = " (tried twice)" if retried else ""
        error_class = UpstreamTimeout if timed_out else UpstreamUnavailable
        return error_class(f"{label}: {what}{again}. Nothing was changed; try again in a few minutes.")

    # ------------------------------------------------------------------ answers into models

    def _write_result(self, body: Mapping[str, Any], label: str, sent: int | None = None) -> UpdateResult:
        """`sent`: how many (entry, date) cells the request carried, to tell a try_again that refused every
        one (nothing applied) from one that refused some (the docs do not say what became of the rest)."""
        result = self._model(UpdateResult, body, label, write=True)
        where = f" (transaction {result.transaction_id})" if result.transaction_id else ""
        status = result.status.strip().lower()
        if status == "ok":
            return result
        if status == "try_again":
            if result.errors:
                # The documented try_again carries what HotelRunner refused ("Invalid price"): sending the
                # same values again would be refused again.
                refusals = result.refusals()
                listed = self._redactor.text("; ".join(map(str, refusals)) if refusals else short(result.errors))
                if refusals is not None and (sent is None or len(refusals) >= sent):
                    raise NotApplied(
                        f"HotelRunner answered try_again to {label}{where}: NOT applied. It refused {listed}. Fix "
                        "those values and preview again; a plain resend would be refused the same way."
                    )
                raise OutcomeUnknown(
                    f"HotelRunner answered try_again to {label}{where} refusing {listed}; its docs do not say whether "
                    f"the other dates of the request were applied: outcome unknown for them. Do not resend blindly; "
                    f"{_CHECK_WRITE} first, fix the refused values, then preview again."
                )
            raise NotApplied(
                f"HotelRunner answered try_again to {label}{where}: NOT applied, send it again in a few minutes."
            )
        if status in ("error", "failed", "failure", "refused"):
            detail = self._body_message(body) if not result.errors else self._redactor.text(short(result.errors))
            raise UpstreamRejected(
                f"HotelRunner refused {label}{where}: {detail}. Nothing was applied; check the current state "
                "(e.g. the reservation's state) before trying anything else."
            )
        raise OutcomeUnknown(  # a status the docs never show: it may well have been applied
            f"HotelRunner answered {label}{where} with status {self._redactor.text(short(result.status))!r}, which its "
            f"docs never show: outcome unknown. Do not resend blindly; {_CHECK_WRITE} first."
        )

    def _body_message(self, body: Mapping[str, Any]) -> str:
        text = body.get("message") or body.get("error") or body.get("errors") or body.get("status") or "no reason given"
        return self._redactor.text(short(text)).rstrip(". ")

    def _models(self, model: type[_M], body: Mapping[str, Any], key: str, label: str) -> list[_M]:
        items = body.get(key)
        if isinstance(items, Mapping):
            items = list(items.values())
        if not isinstance(items, list):
            raise self._malformed(label, f"it has no '{key}' list")
        return [self._model(model, item, label) for item in items]

    def _model(self, model: type[_M], data: Any, label: str, *, write: bool = False) -> _M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
            where = ".".join(str(p) for p in errors[0]["loc"]) if errors else model.__name__
            message = errors[0]["msg"] if errors else "invalid"
            raise self._malformed(label, f"{where or model.__name__}: {message}", write=write) from None

    def _malformed(self, label: str, why: str, *, write: bool = False, status: int | None = None) -> UpstreamError:
        why = self._redactor.text(why)
        if write:
            return OutcomeUnknown(
                f"HotelRunner's answer to {label} could not be read ({why}): outcome unknown. Do not resend "
                f"blindly; {_CHECK_WRITE} first.",
                status=status,
            )
        return MalformedResponse(
            f"HotelRunner's answer to {label} is not what its API documents ({why}). Nothing was changed; try "
            "again later, and report it if it persists.",
            status=status,
        )

    def _upstream_message(self, response: httpx2.Response) -> str:
        """HotelRunner's own reason for a 4xx, short and redacted."""
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict):
            text = body.get("message") or body.get("error") or body.get("errors") or body
            code = body.get("code")
            if isinstance(code, str) and isinstance(text, str) and code not in text:
                text = f"{code}: {text}"
        else:
            text = response.text or response.reason_phrase
        return self._redactor.text(short(text)).rstrip(". ")
