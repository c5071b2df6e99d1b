"""A first sync bigger than one question's max_sync_requests: every question continues the backfill
where the last one stopped, so a property of any size is mirrored after ceil(bookings / 50) requests
in total, and until then every answer (and setup-status) says how far it is and that it may miss some.
Seen through real MCP sessions against a sandbox seeded with 1,200 bookings."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotelrunner_mcp.commands.sandbox_link import settings_for
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox

from .conftest import connect, upstream
from .test_sync_cost import listable

BOOKINGS = 1200
PAGE_SIZE = 50


@pytest.fixture(scope="module")
def big_hotel() -> Iterator[RunningSandbox]:
    with run_sandbox(SandboxConfig(seed=11, bookings=BOOKINGS, per_minute=10_000, per_day=100_000)) as running:
        yield running


@pytest.fixture
def big_settings(big_hotel: RunningSandbox, tmp_path: Path) -> Settings:
    big_hotel.control.reset()
    base = Settings(data_dir=tmp_path / "data", timeout_seconds=5.0, per_minute=10_000, per_day=100_000)
    return settings_for(big_hotel, base)


async def test_a_backfill_continues_across_questions_and_reads_every_page_once(
    big_hotel: RunningSandbox, big_settings: Settings
) -> None:
    listed = len(listable(big_hotel))
    pages = math.ceil(listed / PAGE_SIZE)
    assert pages > 20  # more than two questions' worth at the default max_sync_requests (10)
    async with connect(big_settings) as mcp:
        answers = []
        while True:
            answer = await mcp.ok("get_reservations", limit=1)  # max_sync_requests: the default, 10
            answers.append(answer)
            if answer["sync"]["complete"]:
                break
            assert len(answers) < 10, "the backfill never finishes"
            # the answer says it may be incomplete, how far the backfill is and what is left
            fetched = sum(a["sync"]["new"] for a in answers)
            left = pages - fetched // PAGE_SIZE
            assert "PARTIAL" in answer["freshness"] and "INCOMPLETE" in answer["freshness"]
            assert f"has read {fetched:,} of ~{listed:,} bookings" in answer["freshness"]
            assert f"about {left:,} more request(s) to go" in answer["freshness"]
            assert answer["matching"] == fetched
            status = json.loads(await mcp.resource("hotelrunner://setup-status"))
            assert f"has read {fetched:,} of ~{listed:,} bookings" in status["reservation_mirror"]["freshness"]

        sent = upstream(big_hotel, "GET", "/reservations")
        assert len(answers) == math.ceil(pages / 10)
        assert [a["sync"]["requests"] for a in answers] == [10] * (len(answers) - 1) + [pages - 10 * (len(answers) - 1)]
        assert [int(r.params["page"]) for r in sent] == list(range(1, pages + 1))  # no page read twice
        assert len({r.params["from_date"] for r in sent}) == 1  # one listing, resumed
        assert answers[-1]["matching"] == listed
        assert "INCOMPLETE" not in answers[-1]["freshness"] and "PARTIAL" not in answers[-1]["freshness"]

        # done: a fresh mirror costs nothing, and the next sync is incremental from the backfill's start
        big_hotel.control.clear_requests()
        again = await mcp.ok("get_reservations", limit=1)
        assert again["sync"] is None and upstream(big_hotel) == []
        refreshed = await mcp.ok("get_reservations", limit=1, refresh=True)
        assert refreshed["sync"]["mode"] == "incremental" and refreshed["sync"]["new"] == 0


async def test_a_restarted_server_resumes_the_backfill_it_did_not_finish(
    big_hotel: RunningSandbox, big_settings: Settings
) -> None:
    async with connect(big_settings) as mcp:
        first = await mcp.ok("get_reservations", limit=1, max_sync_requests=3)
    assert first["sync"]["complete"] is False
    async with connect(big_settings) as mcp:  # a new server process on the same data folder
        second = await mcp.ok("get_reservations", limit=1, max_sync_requests=3)
    sent = upstream(big_hotel, "GET", "/reservations")
    assert [int(r.params["page"]) for r in sent] == [1, 2, 3, 4, 5, 6]
    assert second["matching"] == 6 * PAGE_SIZE
