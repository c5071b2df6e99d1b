"""The mirror and the ledger survive a restart: a server (in memory) syncs, takes a push and sets a
season's price; then the real server is started as a new process over stdio on the same data folder
and answers the same questions from disk, with no new backfill."""

from __future__ import annotations

from datetime import timedelta

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Webhook, connect, per_date, upstream, utc_today
from .support import connect_stdio, stdio_env

START = utc_today() + timedelta(days=45)
END = START + timedelta(days=6)
CHANGES = [{"room": "PRESTE", "start_date": str(START), "end_date": str(END), "price": "520"}]


async def test_a_new_server_process_answers_from_the_mirror_and_ledger_it_finds(
    sandbox: RunningSandbox, roomy_settings: Settings, webhook: Webhook
) -> None:
    booked = sandbox.control.create_booking(
        inv_code="FAMSTE", checkin=utc_today() + timedelta(days=150), guest_name="Zoë Ørsted"
    )
    async with connect(roomy_settings) as mcp:
        synced = await mcp.ok("get_reservations", limit=1)
        preview = await mcp.ok("update_calendar", changes=CHANGES)
        await mcp.ok("update_calendar", changes=CHANGES, plan_id=preview["plan_id"])
        checked = await mcp.ok("check_channel_results")
        assert checked["transactions"][0]["succeeded"] == 3
    sandbox.control.cancel_booking(str(booked["hr_number"]))
    sandbox.control.push(str(booked["hr_number"]), webhook.callback_url, "cancel").wait(10)  # while no server runs
    sandbox.control.clear_requests()

    env = stdio_env(sandbox, roomy_settings.data_dir, HOTELRUNNER_QUOTA_PER_MINUTE="1000")
    async with connect_stdio(env) as restarted:
        everything = await restarted.ok("get_reservations", limit=1)
        assert everything["sync"] is None and everything["quota_spent"] == 0  # still fresh: no backfill
        assert everything["matching"] == synced["matching"]
        found = await restarted.ok("get_reservations", guest="zoe orsted")
        assert [(r["hr_number"], r["state"]) for r in found["reservations"]] == [(booked["hr_number"], "canceled")]
        history = await restarted.changes_after(0)
        assert [(c["kind"], c["source"]) for c in history if c["hr_number"] == booked["hr_number"]] == [
            ("new", "sync"),
            ("updated", "push"),
        ]

        ledger = await restarted.ok("get_calendar", start_date=START, end_date=END, room="PRESTE")
        assert {(v["date"], v["value"]) for v in per_date(ledger["values"])} == {
            (str(START + timedelta(days=i)), "520.00") for i in range(7)
        }
        assert all(
            v["channel_results"] == dict.fromkeys(("bookingcom", "expedia", "online"), "succeeded")
            for v in per_date(ledger["values"])
        )
        again = await restarted.ok("update_calendar", changes=[{**CHANGES[0], "price": "480"}])
        assert again["changes"][0]["previous"] == [{"field": "price", "values": {"520.00": 7}, "unknown_dates": 0}]

    assert [(r.method, r.path) for r in upstream(sandbox)] == [("GET", "/rooms")]  # the new process's room list
