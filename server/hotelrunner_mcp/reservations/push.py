"""Receiver for HotelRunner's real-time push: authenticate, validate, store, audit, answer fast.

HotelRunner POSTs every new, modified, confirmed or cancelled reservation to the callback URL with
`token` and `hr_id` in the query string and `data` (the reservation JSON, with `reason` in older pushes
and a `{"reservations": [...]}` wrapper in the 2026 one) in a urlencoded or multipart form body, a
JSON body, or the query string. A push costs no quota, so it is the cheapest way to keep the mirror fresh.

Rules: wrong credentials -> 401 and nothing stored; a malformed push -> 400/422 and nothing stored
(a batch is validated whole before anything is written); duplicates and out-of-order pushes are
harmless because the store never lets an older version overwrite a newer one. Every outcome writes
one audit line without the secrets. Run it alone with `serve_webhook` or mount `webhook_routes`.

Exposing it: it listens on 127.0.0.1 over plain HTTP; HotelRunner requires HTTPS, so put a reverse
proxy (e.g. Caddy `reverse_proxy 127.0.0.1:8787`) or a tunnel (e.g. `cloudflared tunnel --url
http://127.0.0.1:8787`) in front, and type `https://<public host>/hotelrunner/callback` into the app's
callback URL field; HotelRunner adds `token` and `hr_id` to the query string itself.
"""

from __future__ import annotations

import email.policy
import hmac
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hotelrunner_mcp.config import Settings, prepare_data_dir
from hotelrunner_mcp.errors import NotConfigured
from hotelrunner_mcp.gate.audit import AuditLog
from hotelrunner_mcp.hotelrunner.models import Reservation
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.reservations.mirror import ReservationStore, UpsertCounts
from hotelrunner_mcp.storage.data_folder import claim
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.storage.sqlite import mirror_db_path

log = logging.getLogger("hotelrunner_mcp.reservations.push")

DEFAULT_PATH = "/hotelrunner/callback"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
MAX_BODY_BYTES = 2_000_000  # a reservation is a few KB; a batch of hundreds still fits
MAX_BATCH = 500
MAX_CLOCK_SKEW = timedelta(days=1)  # HotelRunner's clock may run ahead of ours, not by more
OnStored = Callable[[UpsertCounts], None]
"""Called on the event loop once per stored push with what it did (`new + updated == 0`: nothing
changed). Keep it quick; an exception in it is logged and the push is still acknowledged."""


class PushRefused(Exception):
    """A push we will not store. `message` tells the sender what to fix; it never holds a secret."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"status": "error", "error": self.code, "message": self.message}, self.status)


# --------------------------------------------------------------------------------------- parsing


def parse_push(data: str) -> list[Reservation]:
    """The reservations in one push's `data`: one reservation object or {"reservations": [...]}.

    Raises PushRefused (400 not JSON, 422 wrong shape or invalid reservation) naming the first problem.
    """
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise PushRefused(400, "not_json", f"`data` is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except (ValueError, RecursionError):  # nested past Python's limit: malformed, not a reason to retry
        raise PushRefused(400, "not_json", "`data` is not JSON this receiver can read (nested too deeply)") from None
    items, where = _items(payload)
    if not items:
        raise PushRefused(422, "empty_push", "`data` holds no reservation")
    if len(items) > MAX_BATCH:
        raise PushRefused(422, "batch_too_large", f"{len(items)} reservations in one push; at most {MAX_BATCH}")
    return [_reservation(item, f"{where}[{i}]" if where else "data") for i, item in enumerate(items)]


def _items(payload: Any) -> tuple[list[Any], str]:
    if isinstance(payload, Mapping) and "reservations" in payload and "hr_number" not in payload:
        batch = payload["reservations"]
        if isinstance(batch, Mapping):  # keyed by id, like older list payloads
            batch = list(batch.values())
        if not isinstance(batch, list):
            raise PushRefused(422, "invalid_push", "`reservations` in `data` must be a list of reservations")
        return batch, "reservations"
    if isinstance(payload, Mapping):
        return [payload], ""
    if isinstance(payload, list):
        return payload, "data"
    raise PushRefused(422, "invalid_push", '`data` must be a reservation object or {"reservations": [...]}')


def _reservation(item: Any, where: str) -> Reservation:
    if not isinstance(item, Mapping):
        raise PushRefused(422, "invalid_reservation", f"{where} is not a reservation object")
    number = item.get("hr_number")
    if number is None or not str(number).strip():
        raise PushRefused(422, "missing_hr_number", f"{where} has no hr_number")
    try:
        reservation = Reservation.model_validate(item)
    except RecursionError:
        raise PushRefused(422, "invalid_reservation", f"{where} ({number}) is nested too deeply") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "reservation"
        raise PushRefused(422, "invalid_reservation", f"{where} ({number}): {field}: {first['msg']}") from None
    if reservation.updated_at is not None and reservation.updated_at > datetime.now(UTC) + MAX_CLOCK_SKEW:
        # A stamp far ahead would win over every later real change and freeze the booking.
        raise PushRefused(
            422,
            "updated_at_in_future",
            f"{where} ({number}): updated_at {reservation.updated_at.isoformat()} is in the future",
        )
    return reservation


# --------------------------------------------------------------------------------------- HTTP


def credentials_match(settings: Settings, token: str | None, hr_id: str | None) -> bool:
    """Constant-time check of both credentials (both are always compared)."""
    token_ok = hmac.compare_digest((token or "").encode(), (settings.token or "").encode())
    hr_id_ok = hmac.compare_digest((hr_id or "").encode(), (settings.hr_id or "").encode())
    return bool(settings.configured and token_ok & hr_id_ok)


async def _push_data(request: Request) -> str:
    """`data` from the urlencoded form body, else the query string; a JSON body is taken as `data` itself."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PushRefused(413, "too_large", f"the push is larger than {MAX_BODY_BYTES} bytes")
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
        if len(buffer) > MAX_BODY_BYTES:
            raise PushRefused(413, "too_large", f"the push is larger than {MAX_BODY_BYTES} bytes")
    body = bytes(buffer)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: str | None = None
    if body and content_type == "application/x-www-form-urlencoded":
        data = _first(parse_qs(_text(body), keep_blank_values=True).get("data"))
    elif body and content_type == "multipart/form-data":
        # The docs' own snippet posts a browser FormData, which is multipart, although the page says urlencoded.
        data = _multipart_field(body, request.headers.get("content-type", ""), "data")
    elif body and content_type == "application/json":
        data = _text(body)
    if data is None:
        data = request.query_params.get("data")
    if data is None or not data.strip():
        raise PushRefused(400, "missing_data", "no `data` field in the form body or the query string")
    return data


def _multipart_field(body: bytes, content_type: str, name: str) -> str | None:
    """One field of a multipart/form-data body (the standard library's MIME parser; no temp files)."""
    if "boundary=" not in content_type:
        raise PushRefused(400, "bad_multipart", "a multipart/form-data push needs a boundary in its Content-Type")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise PushRefused(400, "bad_multipart", "the multipart/form-data body could not be read")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            payload = part.get_payload(decode=True)
            return _text(payload if isinstance(payload, bytes) else b"")
    return None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise PushRefused(400, "bad_encoding", "the push body is not UTF-8") from None


def _first(values: Sequence[str] | None) -> str | None:
    return values[0] if values else None


def webhook_routes(
    settings: Settings,
    store: ReservationStore,
    audit: AuditLog,
    *,
    path: str = DEFAULT_PATH,
    on_stored: OnStored | None = None,
) -> list[Route]:
    """The push route, ready to mount in another Starlette app (e.g. the streamable HTTP server)."""

    async def receive(request: Request) -> JSONResponse:
        client = request.client.host if request.client else None
        if not credentials_match(settings, request.query_params.get("token"), request.query_params.get("hr_id")):
            return _refuse(audit, PushRefused(401, "bad_credentials", "token or hr_id is wrong"), client)
        try:
            reservations = parse_push(await _push_data(request))
            audit.ensure_writable()  # a push we could not record is not stored: HotelRunner will retry it
            counts = await off_loop(store.upsert_many, reservations, source="push")  # all of it or none
        except PushRefused as refused:
            return _refuse(audit, refused, client)
        except Exception as exc:  # audit unwritable or store failed: nothing stored, ask for a retry
            log.error("push could not be stored: %s", exc)
            unavailable = PushRefused(503, "storage_unavailable", "the push could not be stored; send it again later")
            return _refuse(audit, unavailable, client, cause=type(exc).__name__)
        audit.write_quietly(
            "webhook.push",
            status=200,
            client=client,
            reservations=[{"hr_number": r.hr_number, "reason": r.reason, "state": r.state} for r in reservations],
            new=counts.new,
            updated=counts.updated,
            unchanged=counts.unchanged,
            stale=counts.stale,
        )
        if on_stored is not None:
            try:
                on_stored(counts)
            except Exception:  # a listener's bug must not turn a stored push into a retry
                log.exception("on_stored listener failed")
        return JSONResponse({"status": "ok"})

    return [Route(path, receive, methods=["POST"], name="hotelrunner_push")]


def _refuse(audit: AuditLog, refused: PushRefused, client: str | None, **extra: Any) -> JSONResponse:
    """Audit and log a refused push, then answer it."""
    audit.write_quietly(
        "webhook.refused", status=refused.status, error=refused.code, message=refused.message, client=client, **extra
    )
    log.warning("push refused (%d %s) from %s: %s", refused.status, refused.code, client, refused.message)
    return refused.response()


async def _health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_webhook_app(
    settings: Settings,
    store: ReservationStore,
    audit: AuditLog,
    *,
    path: str = DEFAULT_PATH,
    on_stored: OnStored | None = None,
) -> Starlette:
    """A Starlette app with the push route and GET /health. Refuses to build without credentials."""
    _require_credentials(settings)
    routes = [*webhook_routes(settings, store, audit, path=path, on_stored=on_stored), Route("/health", _health)]
    return Starlette(routes=routes)


def _require_credentials(settings: Settings) -> None:
    if not settings.configured:
        raise NotConfigured(
            f"the webhook cannot check pushes without {' and '.join(settings.missing)}: set them in the "
            "environment or .env, the same values HotelRunner's Custom Apps page shows"
        )


def serve_webhook(settings: Settings, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run the receiver with uvicorn until interrupted (blocking). Binds 127.0.0.1 unless told otherwise."""
    import uvicorn

    _require_credentials(settings)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: put it behind an HTTPS reverse proxy or tunnel, never expose plain HTTP", host)
    store, audit = open_services(settings)
    with store:
        app = create_webhook_app(settings, store, audit)
        log.info("HotelRunner push receiver on http://%s:%d%s", host, port, DEFAULT_PATH)
        # access_log off: uvicorn logs request lines, and the token rides in the query string.
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info", server_header=False)


def open_services(settings: Settings) -> tuple[ReservationStore, AuditLog]:
    """The store and audit log the receiver writes to, from the settings."""
    prepare_data_dir(settings.data_dir)
    claim(settings.data_dir, settings.base_url, settings.hr_id)
    store = ReservationStore(mirror_db_path(settings.data_dir))
    return store, AuditLog(settings.audit_file, Redactor([settings.token, settings.hr_id]))
