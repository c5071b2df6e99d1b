"""A killed process's sync lease does not block a restarted server (issue 12, Medium 6)."""

from __future__ import annotations

import socket
import subprocess
import sys

import anyio

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.reservations.mirror import ReservationStore
from hotelrunner_mcp.reservations.sync import LEASE_NAME
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_a_lease_left_by_a_dead_process_is_taken_over_at_once(
    settings: Settings, sandbox: RunningSandbox
) -> None:
    settings.data_dir.mkdir(parents=True)
    with ReservationStore(settings.data_dir / "mirror.db") as store:
        # held for an hour by a process that was killed (kill -9) in the middle of its sync
        assert store.acquire_lease(LEASE_NAME, f"{socket.gethostname()}:{dead_pid()}-killed", 3600)
    async with connect(settings) as mcp:
        with anyio.fail_after(30):  # a guard against hanging for the lease's hour, not a timing assert
            answer = await mcp.ok("get_reservations", arriving_from="2020-01-01", refresh=True)
    assert answer["sync"]["mode"] == "backfill" and answer["matching"] > 0
    assert upstream(sandbox, "GET", "/reservations")
