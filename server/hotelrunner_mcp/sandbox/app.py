"""The HR-v1 HTTP surface: every documented endpoint under the configured prefix.

Each request goes: known path (404) → allowed method (405) → credentials (401) → quota (429)
→ faults → handler. Every request on the HotelRunner paths is logged with its final status,
including refused ones; a request answered by a fault still used quota, as upstream would."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotelrunner_mcp.sandbox.errors import SandboxError, not_found
from hotelrunner_mcp.sandbox.faults import Fault
from hotelrunner_mcp.sandbox.log import LoggedRequest
from hotelrunner_mcp.sandbox.params import Params, parse_date, parse_int
from hotelrunner_mcp.sandbox.quota import retry_after_header
from hotelrunner_mcp.sandbox.state import SandboxState
from hotelrunner_mcp.sandbox.updates import parse_daily_body, parse_range_update

if TYPE_CHECKING:
    from hotelrunner_mcp.sandbox.core import Sandbox

METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]

VERBATIM_OK = b'{\n"status": "ok",\n}\n'  # fire.devdocs.response_ok.verbatim.txt, ack.devdocs.response_ok.verbatim.txt
ACK_DISABLED = "This endpoint is not enabled for your app. Please contact HotelRunner."
DOCUMENTED_BOOLEANS = {"true": True, "false": False}  # any other value means the documented default


@dataclass
class Call:
    """One HotelRunner request as a handler sees it; `ignored_fields` goes to the request log."""

    sandbox: Sandbox
    params: Params
    body: object
    ignored_fields: list[str] = field(default_factory=list)

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state


Handler = Callable[[Call], "dict[str, object] | Response"]


def documented_bool(params: Params, name: str, default: bool) -> bool:
    """params.slate_v2.reservations.md: "undelivered | true | If set to `false`, all reservations
    will be shown". Only the literals `true` and `false` mean anything; "0", "1", "yes"... mean
    the default."""
    return DOCUMENTED_BOOLEANS.get(params.get(name) or "", default)


def verbatim_ok() -> Response:
    return Response(VERBATIM_OK, 200, media_type="application/json")


# handlers ------------------------------------------------------------------------------------
def get_rooms(call: Call) -> dict[str, object]:
    return call.state.rooms_json()


def put_rooms_range(call: Call) -> dict[str, object]:
    change, ignored = parse_range_update(call.params)
    call.ignored_fields = ignored
    return {"status": "ok", "transaction_id": call.state.apply_changes([change])}


def put_rooms_daily(call: Call) -> dict[str, object] | Response:
    """rooms_daily.devdocs: `{"status": "ok", "transaction_id", "errors": []}`; dates refused
    come back as errors `[{"<code>": {"<date>": "<message>"}}]` with status ok when other dates
    applied, and as status try_again (nothing applied) when every date of the call was refused."""
    result = parse_daily_body(call.body)
    call.ignored_fields = result.ignored_fields
    if result.accepted_dates == 0:
        transaction_id = call.state.apply_changes([])  # an empty transaction: nothing to distribute
        if call.sandbox.switches.verbatim_bodies:  # rooms_daily.devdocs.response_try_again.verbatim.txt: no comma
            text = f'{{\n"status": "try_again",\n"transaction_id": {json.dumps(transaction_id)}\n"errors": {json.dumps(result.errors, ensure_ascii=False)}\n}}\n'
            return Response(text.encode(), 200, media_type="application/json")
        return {"status": "try_again", "transaction_id": transaction_id, "errors": result.errors}
    return {"status": "ok", "transaction_id": call.state.apply_changes(result.changes), "errors": result.errors}


def get_reservations(call: Call) -> dict[str, object]:
    params = call.params

    def optional_date(name: str) -> date | None:
        return parse_date(name, params.get(name)) if params.has(name) else None

    documented_bool(params, "booked", False)  # read and ignored: no HotelRunner page says what it does
    return call.state.list_reservations(
        from_date=optional_date("from_date"),
        from_last_update_date=optional_date("from_last_update_date"),
        number=params.get("reservation_number") or None,
        undelivered=documented_bool(params, "undelivered", True),
        modified=documented_bool(params, "modified", False),
        per_page=parse_int("per_page", params.get("per_page") or 10, minimum=1),
        page=parse_int("page", params.get("page") or 1, minimum=1),
    )


def put_acknowledge(call: Call) -> dict[str, object] | Response:
    if not call.sandbox.switches.ack_enabled:  # ack.devdocs.request.txt: "To enable this endpoint, please contact us."
        raise SandboxError(403, "endpoint_not_enabled", ACK_DISABLED, plain=True)
    call.state.acknowledge(call.params.require("message_uid"), call.params.get("pms_number"))
    return verbatim_ok() if call.sandbox.switches.verbatim_bodies else {"status": "ok"}


def put_fire(call: Call) -> dict[str, object] | Response:
    hr_number, event = call.params.require("hr_number"), call.params.require("event")
    call.state.fire(hr_number, event, call.params.get("cancel_reason"))
    return verbatim_ok() if call.sandbox.switches.verbatim_bodies else {"status": "ok"}


def get_connected_channels(call: Call) -> dict[str, object]:
    return call.state.connected_channels_json()


def get_channels(call: Call) -> dict[str, object]:
    return call.state.all_channels_json()


def get_transaction_details(call: Call) -> dict[str, object]:
    return call.state.transaction_json(call.params.require("transaction_id"))


ENDPOINTS: dict[str, dict[str, Handler]] = {
    "/rooms": {"GET": get_rooms},
    "/rooms/~": {"PUT": put_rooms_range},
    "/rooms/daily": {"PUT": put_rooms_daily},
    "/reservations": {"GET": get_reservations},
    "/reservations/~": {"PUT": put_acknowledge},
    "/reservations/fire": {"PUT": put_fire},
    "/infos/connected_channels": {"GET": get_connected_channels},
    "/infos/channels": {"GET": get_channels},
    "/infos/transaction_details": {"GET": get_transaction_details},
}


# plumbing ------------------------------------------------------------------------------------
def error_response(error: SandboxError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def read_request(request: Request) -> tuple[Params, object]:
    """Query and form parameters merged (form wins on repeats by coming last); JSON body parsed."""
    raw = await request.body()
    items = list(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body: object = None
    if content_type == "application/json" and raw:
        try:
            body = json.loads(raw)
        except ValueError:
            raise SandboxError(400, "invalid_json", "The body is not valid JSON.") from None
    elif content_type == "application/x-www-form-urlencoded" and raw:
        items += parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    elif content_type.startswith("multipart/form-data"):
        form = await request.form()
        items += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return Params(items), body


def check_credentials(sandbox: Sandbox, params: Params) -> str:
    token, hr_id = params.get("token") or "", params.get("hr_id") or ""
    good_token = hmac.compare_digest(token.encode(), str(sandbox.config.token).encode())
    good_id = hmac.compare_digest(hr_id.encode(), str(sandbox.config.hr_id).encode())
    if not (token and hr_id and good_token and good_id):
        raise SandboxError(401, "unauthorized", "Invalid or missing token/hr_id.")
    return hr_id


async def fault_response(sandbox: Sandbox, fault: Fault, request: Request) -> Response:
    if fault.kind == "500":
        return JSONResponse(
            {"status": "error", "code": "internal_server_error", "message": "Internal server error (sandbox fault)."},
            500,
        )
    if fault.kind == "503":
        return JSONResponse(
            {"status": "error", "code": "maintenance", "message": "Service unavailable: maintenance (sandbox fault)."},
            503,
        )
    if fault.kind == "429":
        retry = retry_after_header(sandbox.quota.minute_seconds)
        body = {"status": "error", "code": "too_many_requests", "message": "Too many requests (sandbox fault)."}
        return JSONResponse(body, 429, headers={"Retry-After": retry})
    if fault.kind == "malformed":
        return Response(b'{"status": "ok", "rooms": [{"inv_code": ', 200, media_type="application/json")
    if fault.kind == "try_again":
        return JSONResponse({"status": "try_again", "transaction_id": None})
    # hang: hold the request until the client gives up, the sandbox stops or the cap passes
    deadline = time.monotonic() + (fault.delay if fault.delay is not None else sandbox.config.hang_seconds)
    while time.monotonic() < deadline and not sandbox.stopping.is_set():
        if await request.is_disconnected():
            break
        await asyncio.sleep(0.05)
    return JSONResponse({"status": "error", "code": "gateway_timeout", "message": "Gave up (sandbox hang fault)."}, 504)


def make_endpoint(sandbox: Sandbox) -> Callable[[Request], Awaitable[Response]]:
    prefix_len = len(sandbox.config.prefix)

    async def endpoint(request: Request) -> Response:
        path = request.url.path[prefix_len:] or "/"
        arrived, epoch = time.time(), sandbox.log.epoch
        params, body, response = Params(()), None, None
        call: Call | None = None
        try:
            params, body = await read_request(request)
            methods = ENDPOINTS.get(path.rstrip("/") if path != "/" else path)
            if methods is None:
                raise not_found(f"No such endpoint: {path[:80]}.")
            handler = methods.get(request.method)
            if handler is None:
                allow = ", ".join(methods)
                raise SandboxError(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed here; use {allow}.",
                    headers={"Allow": allow},
                )
            hr_id = check_credentials(sandbox, params)
            wait = sandbox.quota.take(hr_id)
            if wait is not None:
                raise SandboxError(
                    429,
                    "too_many_requests",
                    f"Quota exceeded ({sandbox.quota.per_minute}/minute, {sandbox.quota.per_day}/day); retry later.",
                    headers={"Retry-After": retry_after_header(wait)},
                )
            for fault in sandbox.faults.pick(path):
                if fault.kind == "latency":
                    await asyncio.sleep(fault.delay or 0)
                else:
                    response = await fault_response(sandbox, fault, request)
                    break
            if response is None:
                call = Call(sandbox, params, body)
                answer = handler(call)
                response = answer if isinstance(answer, Response) else JSONResponse(answer)
        except SandboxError as error:
            response = error_response(error)
        ignored = list(call.ignored_fields) if call is not None else []
        sandbox.log.add(
            LoggedRequest(request.method, path, params.redacted(), body, response.status_code, arrived, ignored), epoch
        )
        return response

    return endpoint


def hotelrunner_routes(sandbox: Sandbox) -> list[Route]:
    prefix = sandbox.config.prefix
    return [Route(prefix + "/{path:path}", make_endpoint(sandbox), methods=METHODS)]
