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
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hotelrunner_mcp.sandbox.errors import SandboxError, missing, not_found
from hotelrunner_mcp.sandbox.faults import Fault
from hotelrunner_mcp.sandbox.log import LoggedRequest
from hotelrunner_mcp.sandbox.params import Params, parse_bool, parse_date, parse_int
from hotelrunner_mcp.sandbox.quota import retry_after_header
from hotelrunner_mcp.sandbox.state import SandboxState
from hotelrunner_mcp.sandbox.updates import parse_daily_body, parse_range_update

if TYPE_CHECKING:
    from hotelrunner_mcp.sandbox.core import Sandbox

Handler = Callable[[SandboxState, Params, object], dict[str, object]]
METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"]


# handlers ------------------------------------------------------------------------------------
def get_rooms(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    return state.rooms_json()


def put_rooms_range(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    return {"status": "ok", "transaction_id": state.apply_changes([parse_range_update(params)])}


def put_rooms_daily(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    changes, errors = parse_daily_body(body)
    answer: dict[str, object] = {"status": "ok", "transaction_id": state.apply_changes(changes)}
    if errors:
        answer["errors"] = errors
    return answer


def get_reservations(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    def optional_date(name: str) -> date | None:
        return parse_date(name, params.get(name)) if params.has(name) else None

    return state.list_reservations(
        from_date=optional_date("from_date"),
        from_last_update_date=optional_date("from_last_update_date"),
        number=params.get("reservation_number") or None,
        undelivered=parse_bool("undelivered", params.get("undelivered") or "true"),
        modified=parse_bool("modified", params.get("modified") or "false"),
        per_page=parse_int("per_page", params.get("per_page") or 10, minimum=1),
        page=parse_int("page", params.get("page") or 1, minimum=1),
    )


def put_acknowledge(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    state.acknowledge(params.require("message_uid"), params.get("pms_number"))
    return {"status": "ok"}


def put_fire(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    hr_number, event = params.require("hr_number"), params.require("event")
    if event == "cancel" and not params.has("cancel_reason"):
        raise missing("cancel_reason")
    state.fire(hr_number, event, params.get("cancel_reason"))
    return {"status": "ok"}


def get_connected_channels(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    return state.connected_channels_json()


def get_channels(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    return state.all_channels_json()


def get_transaction_details(state: SandboxState, params: Params, body: object) -> dict[str, object]:
    return state.transaction_json(params.require("transaction_id"))


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
        return JSONResponse({"status": "error", "code": "internal_server_error", "message": "Internal server error (sandbox fault)."}, 500)
    if fault.kind == "503":
        return JSONResponse({"status": "error", "code": "maintenance", "message": "Service unavailable: maintenance (sandbox fault)."}, 503)
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
        try:
            params, body = await read_request(request)
            methods = ENDPOINTS.get(path.rstrip("/") if path != "/" else path)
            if methods is None:
                raise not_found(f"No such endpoint: {path[:80]}.")
            handler = methods.get(request.method)
            if handler is None:
                allow = ", ".join(methods)
                raise SandboxError(405, "method_not_allowed", f"{request.method} is not allowed here; use {allow}.", headers={"Allow": allow})
            hr_id = check_credentials(sandbox, params)
            wait = sandbox.quota.take(hr_id)
            if wait is not None:
                raise SandboxError(
                    429, "too_many_requests",
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
                response = JSONResponse(handler(sandbox.state, params, body))
        except SandboxError as error:
            response = error_response(error)
        sandbox.log.add(LoggedRequest(request.method, path, params.redacted(), body, response.status_code, arrived), epoch)
        return response

    return endpoint


def hotelrunner_routes(sandbox: Sandbox) -> list[Route]:
    prefix = sandbox.config.prefix
    return [Route(prefix + "/{path:path}", make_endpoint(sandbox), methods=METHODS)]
