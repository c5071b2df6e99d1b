"""`serve --http` (issue 9), through real boundaries: the Python SDK's client over streamable HTTP with a
bearer token -> the server (MCP, HotelRunner's push and /health in one process) -> the sandbox.

Covers: every tool, resources and prompts over HTTP with a token; a push posted by the sandbox to
/hotelrunner/callback reaching a client subscribed on the 2025-11-25 protocol; no token 401 and a bad one
401 with WWW-Authenticate; a read-only token that neither sees nor may call a write; the token's name in
the audit log; a forged Origin or Host refused; request bodies bounded; no listening on 0.0.0.0 without
authentication."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, ResourceUpdatedNotification

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.gate.audit import read_audit
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.surface.http import HttpOptions, RefusedToServe, build_http_app
from hotelrunner_mcp.surface.resources import CHANGES_URI
from hotelrunner_mcp.surface.tokens import TokenStore

from .conftest import upstream, utc_today
from .http_support import connect_http, run_http

pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
DAY = str(property_today() + timedelta(days=9))
CHANGE = {"room": "DLXTRP", "start_date": DAY, "end_date": DAY, "price": "180"}
READ_CALLS: dict[str, dict[str, object]] = {
    "get_rooms": {},
    "get_reservations": {"arriving_from": str(utc_today()), "arriving_to": str(utc_today() + timedelta(days=30))},
    "get_reservation_changes": {"since_change_id": 0},
    "get_occupancy": {"start": str(utc_today()), "end": str(utc_today() + timedelta(days=6))},
    "get_calendar": {"start_date": DAY, "end_date": DAY},
    "check_channel_results": {},
}


@pytest.fixture
def tokens(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "owner")


async def test_a_token_client_uses_every_tool_resource_and_prompt_and_hears_a_push(
    roomy_settings: Settings, sandbox: RunningSandbox, tokens: TokenStore
) -> None:
    token, _ = tokens.add("front-desk")
    updated = anyio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, ResourceUpdatedNotification) and message.params.uri == CHANGES_URI:
            updated.set()

    with run_http(roomy_settings, tokens) as http:
        assert httpx2.get(http.root + "/health").json()["status"] == "ok"
        async with connect_http(http.mcp_url, token, message_handler=on_message) as mcp:
            assert mcp.client.protocol_version == "2025-11-25"
            caps = mcp.client.server_capabilities
            assert caps.resources and caps.resources.subscribe and caps.logging and caps.completions
            names = {t.name for t in (await mcp.client.list_tools()).tools}
            assert set(READ_CALLS) | {"update_calendar"} <= names
            for tool, arguments in READ_CALLS.items():
                answer = await mcp.ok(tool, **arguments)
                assert answer["environment"].startswith("SANDBOX")
            preview = await mcp.ok("update_calendar", changes=[CHANGE])
            assert preview["applied"] is False and preview["plan_id"]

            resources = {str(r.uri) for r in (await mcp.client.list_resources()).resources}
            assert {"hotelrunner://setup-status", "hotelrunner://guide", CHANGES_URI} <= resources
            assert '"ready": true' in await mcp.resource("hotelrunner://setup-status")
            prompts = {p.name for p in (await mcp.client.list_prompts()).prompts}
            assert prompts == {"morning_briefing", "change_prices"}
            briefing = await mcp.client.get_prompt("morning_briefing")
            assert "get_reservation_changes" in str(briefing.messages[0].content)
            completed = await mcp.client.complete(
                {"type": "ref/prompt", "name": "change_prices"}, {"name": "request", "value": "DLX"}
            )
            assert completed.completion.values and all(v.startswith("DLX") for v in completed.completion.values)
            await mcp.client.set_logging_level("warning")

            await mcp.client.subscribe_resource(CHANGES_URI)
            booked = sandbox.control.create_booking(inv_code="DLXKNG", checkin=utc_today() + timedelta(days=150))
            delivery = sandbox.control.push(str(booked["hr_number"]), http.callback_url, "confirm", retries=0)
            assert delivery.wait(10).delivered == 1  # HotelRunner's POST, answered 2xx by the same process
            with anyio.fail_after(20):  # the change watcher polls the mirror every 2 s
                await updated.wait()
            seen = await mcp.ok("get_reservations", number=str(booked["hr_number"]))
            assert seen["quota_spent"] == 0 and seen["reservations"][0]["state"] == "confirmed"

    calls = [r for r in read_audit(roomy_settings.audit_file) if r["event"] == "tool_call"]
    assert calls and {r["client"] for r in calls} == {"front-desk"}  # the token's name, not the SDK's


async def test_without_a_valid_token_the_answer_is_401_with_www_authenticate(
    settings: Settings, tokens: TokenStore
) -> None:
    tokens.add("someone")
    with run_http(settings, tokens) as http:
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        headers = {"Accept": "application/json, text/event-stream"}
        for auth in ({}, {"Authorization": "Bearer hrmcp_forged"}, {"Authorization": "Basic eDp5"}):
            refused = httpx2.post(http.mcp_url, json=initialize, headers={**headers, **auth})
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Bearer ")
        with pytest.raises(Exception):  # noqa: B017 - the SDK's client surfaces the 401 as it likes
            async with connect_http(http.mcp_url, None):
                pass
        assert httpx2.get(http.root + "/health").status_code == 200  # monitoring needs no token


async def test_a_read_only_token_neither_sees_nor_calls_a_write(
    settings: Settings, sandbox: RunningSandbox, tokens: TokenStore
) -> None:
    token, _ = tokens.add("auditor", read_only=True)
    with run_http(settings, tokens) as http:
        for mode in ("legacy", "auto"):  # 2025-11-25 and 2026-07-28
            async with connect_http(http.mcp_url, token, mode=mode) as mcp:
                names = {t.name for t in (await mcp.client.list_tools()).tools}
                assert "update_calendar" not in names and "get_rooms" in names
                assert "change_prices" not in {p.name for p in (await mcp.client.list_prompts()).prompts}
                with pytest.raises(MCPError) as refused:
                    await mcp.client.call_tool("update_calendar", {"changes": [CHANGE]})
                assert refused.value.code == INVALID_PARAMS
                assert (await mcp.ok("get_rooms"))["room_types"]
    assert [r for r in upstream(sandbox) if r.method in ("PUT", "POST")] == []


async def test_an_unknown_tool_is_a_json_rpc_error(settings: Settings) -> None:
    with run_http(settings) as http:
        async with connect_http(http.mcp_url) as mcp:
            with pytest.raises(MCPError) as refused:
                await mcp.client.call_tool("get_roms", {})
    assert (refused.value.code, refused.value.message) == (INVALID_PARAMS, "Unknown tool: get_roms")


def test_a_forged_origin_or_host_is_refused_and_bodies_are_bounded(settings: Settings) -> None:
    with run_http(settings) as http:
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "x", "version": "1"},
            },
        }
        accept = {"Accept": "application/json, text/event-stream"}
        evil_origin = httpx2.post(http.mcp_url, json=initialize, headers={**accept, "Origin": "https://evil.example"})
        assert evil_origin.status_code == 403
        evil_host = httpx2.post(http.mcp_url, json=initialize, headers={**accept, "Host": "evil.example"})
        assert evil_host.status_code == 421
        fine = httpx2.post(http.mcp_url, json=initialize, headers={**accept, "Origin": http.root})
        assert fine.status_code == 200
        huge = httpx2.post(
            http.mcp_url,
            content=b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * 2_000_000 + b'"}}',
            headers={**accept, "Content-Type": "application/json"},
        )
        assert huge.status_code == 413


def test_it_refuses_to_listen_beyond_this_machine_without_authentication(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(RefusedToServe, match="without authentication"):
        build_http_app(settings, HttpOptions(host="0.0.0.0"), tokens=TokenStore(tmp_path / "none"))
    public = settings.with_overrides(public_url="https://hotel.example.com/mcp")
    with pytest.raises(RefusedToServe, match="without authentication"):
        build_http_app(public, HttpOptions(), tokens=TokenStore(tmp_path / "none"))

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HOTELRUNNER_DATA_DIR": str(tmp_path / "data")}
    started = subprocess.run(
        [sys.executable, "-m", "hotelrunner_mcp", "serve", "--http", "--host", "0.0.0.0", "--port", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "refusing to serve on 0.0.0.0 without authentication" in started.stderr
    assert "token add" in started.stderr


async def test_a_revoked_token_is_refused_by_the_running_server(settings: Settings, tokens: TokenStore) -> None:
    token, _ = tokens.add("laptop")
    tokens.add("keeps-auth-on")
    with run_http(settings, tokens) as http:
        async with connect_http(http.mcp_url, token) as mcp:
            await mcp.client.send_ping()
        assert tokens.revoke("laptop")
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
        refused = httpx2.post(
            http.mcp_url,
            json=initialize,
            headers={"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 401


async def test_the_stateless_mode_serves_calls_without_sessions(settings: Settings, tokens: TokenStore) -> None:
    token, _ = tokens.add("balancer")
    with run_http(settings, tokens, stateless=True) as http:
        async with connect_http(http.mcp_url, token) as mcp:
            assert (await mcp.ok("get_rooms"))["room_types"]
        opened = httpx2.post(
            http.mcp_url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "x", "version": "1"},
                },
            },
            headers={"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"},
        )
        assert opened.status_code == 200 and "mcp-session-id" not in opened.headers  # no session to keep
