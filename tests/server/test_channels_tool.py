"""get_channels through a real MCP client: HotelRunner's connected channels and counts, remembered a few
minutes, beside what the ledger knows of each channel's refusals."""

from __future__ import annotations

from datetime import timedelta

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream

CONNECTED = "/infos/connected_channels"


async def test_channels_show_hotelrunner_counts_and_the_ledger_s_refusals(
    roomy_settings: Settings, sandbox: RunningSandbox
) -> None:
    sandbox.control.set_channel_failure("expedia", "Rate plan closed on Expedia")
    day = str(property_today() + timedelta(days=10))
    changes = [{"room": "DLXDBL", "start_date": day, "end_date": day, "price": "150"}]
    async with connect(roomy_settings) as mcp:
        preview = await mcp.ok("update_calendar", changes=changes)
        applied = await mcp.ok("update_calendar", changes=changes, plan_id=preview["plan_id"])
        await mcp.ok("check_channel_results", transaction_ids=[applied["results"][0]["transaction_id"]])
        sandbox.control.clear_requests()
        first = await mcp.ok("get_channels")
        remembered = await mcp.ok("get_channels")
        refreshed = await mcp.ok("get_channels", refresh=True)

    assert [r.path for r in upstream(sandbox)] == [CONNECTED, CONNECTED]
    assert first["quota_spent"] == 1 and first["cached"] is False
    assert remembered["quota_spent"] == 0 and remembered["cached"] is True
    assert refreshed["quota_spent"] == 1 and refreshed["cached"] is False

    channels = {c["code"]: c for c in first["channels"]}
    assert set(channels) == {"bookingcom", "expedia", "online"}
    assert all(c["connected"] for c in channels.values())
    expedia, booking = channels["expedia"], channels["bookingcom"]
    assert expedia["failed"] >= 1 and expedia["name"] == "Expedia Inc."
    assert expedia["refused_transactions"] == 1 and expedia["checked_transactions"] == 1
    assert "Rate plan closed on Expedia" in expedia["last_refusals"][0] and expedia["last_refusal_at"]
    assert "refused 1 of 1" in expedia["verdict"]
    assert booking["succeeded"] >= 1 and booking["refused_transactions"] == 0
    assert booking["verdict"] == "connected; no refusal known"
    assert first["unchecked_transactions"] == 0


async def test_get_channels_is_there_in_read_only_mode(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings.with_overrides(read_only=True)) as mcp:
        answer = await mcp.ok("get_channels", refusals_days=1)
    assert {c["code"] for c in answer["channels"]} == {"bookingcom", "expedia", "online"}
