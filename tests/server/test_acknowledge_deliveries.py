"""Acknowledging deliveries by the owner's choice: every delivery in the mirror acknowledged exactly once,
even with two server processes on one data folder; an endpoint HotelRunner has not enabled is tried once,
then setup-status explains it and nothing loops."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from mcp import Client
from mcp.types import Implementation

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.reservations.acknowledge import acknowledge_pending
from hotelrunner_mcp.sandbox import RunningSandbox
from hotelrunner_mcp.surface.resources import SETUP_STATUS_URI
from hotelrunner_mcp.surface.server import build_server
from hotelrunner_mcp.surface.tools.runtime import ToolRuntime

from .conftest import Session, connect, upstream
from .support import connect_stdio, stdio_env

ACK = "/reservations/~"
ROOMY = {"HOTELRUNNER_QUOTA_PER_MINUTE": "1000", "HOTELRUNNER_QUOTA_PER_DAY": "100000"}


def acks_sent(sandbox: RunningSandbox) -> Counter[str]:
    return Counter(str(r.params.get("message_uid")) for r in upstream(sandbox, "PUT", ACK))


async def eventually(condition: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    """Wait for something the server does in the background (not a timing assertion: a deadline)."""
    with anyio.fail_after(seconds):
        while not await condition():
            await anyio.sleep(0.1)


async def mirror_deliveries(mcp: Session) -> dict[str, str]:
    """hr_number -> the message_uid the mirror holds now."""
    found = await mcp.every("get_reservations", "reservations", detail="full", limit=200, booked_from="2000-01-01")
    return {r["hr_number"]: r["message_uid"] for r in found if r.get("message_uid")}


async def test_every_delivery_is_acknowledged_exactly_once_by_two_processes(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = stdio_env(sandbox, tmp_path / "data", HOTELRUNNER_ACKNOWLEDGE_DELIVERIES="true", **ROOMY)
    async with connect_stdio(env) as first, connect_stdio(env) as second:
        await first.ok("get_reservations", refresh=True, limit=1)  # the backlog reaches the mirror
        for weeks in (6, 7, 8):  # new bookings, and a guest changing a stay: new deliveries
            sandbox.control.create_booking(channel="bookingcom", inv_code="SUITE", checkin=_weeks(weeks))
        changed = next(r for r in sandbox.control.reservations() if r["state"] == "confirmed")["hr_number"]
        sandbox.control.modify_booking(str(changed), note="late arrival")
        await second.ok("get_reservations", refresh=True, limit=1)
        held = await mirror_deliveries(first)

        async def all_acknowledged() -> bool:
            return set(held.values()) <= set(acks_sent(sandbox))

        await eventually(all_acknowledged)
        status = json.loads(await second.resource(SETUP_STATUS_URI))["delivery_acknowledgement"]

    sent = acks_sent(sandbox)
    assert len(held) > 20 and sent, "a real backlog, really acknowledged"
    assert max(sent.values()) == 1, [uid for uid, n in sent.items() if n > 1]
    assert set(held.values()) <= set(sent)
    undelivered = {r["hr_number"] for r in sandbox.control.reservations(undelivered=True)}
    assert not undelivered & set(held), "HotelRunner lists none of them as undelivered any more"
    assert status["setting"] == "on" and status["acknowledged"] >= len(held) and status["waiting"] == 0


def _weeks(n: int) -> str:
    from datetime import date, timedelta

    return str(date.today() + timedelta(weeks=n))


@asynccontextmanager
async def connect_with_runtime(settings: Settings) -> AsyncIterator[tuple[Session, ToolRuntime]]:
    runtime = ToolRuntime(settings)
    async with Client(build_server(settings, runtime), client_info=Implementation(name="pytest", version="1")) as c:
        yield Session(c), runtime


async def test_an_endpoint_not_enabled_is_tried_once_and_explained(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    sandbox.control.set_ack_enabled(False)
    settings = roomy_settings.with_overrides(acknowledge_deliveries=True)
    async with connect_with_runtime(settings) as (mcp, runtime):
        await mcp.ok("get_reservations", refresh=True, limit=1)

        async def explained() -> bool:
            status = json.loads(await mcp.resource(SETUP_STATUS_URI))["delivery_acknowledgement"]
            return "NOT ENABLED" in status["state"]

        await eventually(explained)
        sandbox.control.create_booking(channel="online", inv_code="FAMSTE", checkin=_weeks(9))
        await mcp.ok("get_reservations", refresh=True, limit=1)
        rounds = [await acknowledge_pending(runtime.services()) for _ in range(5)]
        status = json.loads(await mcp.resource(SETUP_STATUS_URI))["delivery_acknowledgement"]

    assert sum(acks_sent(sandbox).values()) == 1, "one try, then no loop"
    assert all(r.acknowledged == 0 and "not enabled" in r.stopped for r in rounds)
    assert "not a credentials problem" in status["state"] and "integrations@hotelrunner.com" in status["state"]
    assert status["acknowledged"] == 0 and status["waiting"] > 0
    assert "(403)" in status["hotelrunner_said"]


async def test_off_by_default_nothing_is_acknowledged(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        await mcp.ok("get_reservations", refresh=True, limit=1)
        status = json.loads(await mcp.resource(SETUP_STATUS_URI))["delivery_acknowledgement"]
    assert status["setting"] == "off" and "undelivered" in status["state"]
    assert upstream(sandbox, "PUT", ACK) == []


async def test_an_unknown_outcome_is_never_sent_again(roomy_settings: Settings, sandbox: RunningSandbox) -> None:
    settings = roomy_settings.with_overrides(acknowledge_deliveries=True)
    sandbox.control.add_fault("500", times=1, paths=[ACK])
    async with connect_with_runtime(settings) as (mcp, runtime):
        await mcp.ok("get_reservations", refresh=True, limit=1)
        held = await mirror_deliveries(mcp)

        async def all_tried() -> bool:
            return set(held.values()) <= set(acks_sent(sandbox))

        await eventually(all_tried)
        await acknowledge_pending(runtime.services())
        status = json.loads(await mcp.resource(SETUP_STATUS_URI))["delivery_acknowledgement"]
    assert max(acks_sent(sandbox).values()) == 1
    assert status["outcome_unknown"] == 1 and "never sent twice" in status["outcome_unknown_note"]
    assert status["acknowledged"] == len(held) - 1
