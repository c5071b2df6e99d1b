"""`hotelrunner-mcp sync` run as a user would: a real process against a sandbox seeded with a few hundred
bookings. It reads the whole listing once (ceil(N / 50) requests), stops cleanly at its cap, its reserve or
a Ctrl-C with the progress kept, continues the next time without reading a page twice, waits for a server
that holds the sync lease, and draws a progress bar on a terminal."""

from __future__ import annotations

import json
import math
import os
import pty
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hotelrunner_mcp.commands.sandbox_link import server_env
from hotelrunner_mcp.reservations.mirror import ReservationStore
from hotelrunner_mcp.reservations.sync import LEASE_NAME
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from hotelrunner_mcp.storage.sqlite import lease_owner, mirror_db_path
from server.test_listing_trust import NOW, booking
from server.test_sync_cost import listable
from stub_upstream import Answer, StubUpstream, query_of

BOOKINGS = 420
PAGE_SIZE = 50
FAST_MINUTE = "0.3"  # the server keeps 5 a "minute", of 0.3 s: the pacing is exercised, the test stays quick
PACED_MINUTE = "2"  # long enough that 5 requests surely fit in one: the 6th waits for the window


@pytest.fixture(scope="module")
def hotel() -> Iterator[RunningSandbox]:
    """The sandbox never refuses: the command's own quota limiter does the pacing."""
    with run_sandbox(SandboxConfig(seed=5, bookings=BOOKINGS, per_minute=100_000, per_day=100_000)) as running:
        yield running


@pytest.fixture
def env(hotel: RunningSandbox, tmp_path: Path) -> dict[str, str]:
    hotel.control.reset()
    return server_env(hotel, tmp_path / "data", HOTELRUNNER_QUOTA_MINUTE_SECONDS=FAST_MINUTE)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hotelrunner_mcp", "sync", *args]


def sync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(env["HOTELRUNNER_DATA_DIR"]).parent,
    )


def stub_env(stub: StubUpstream, tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOTELRUNNER_BASE_URL": stub.base_url,
        "HOTELRUNNER_TOKEN": "tok-sync-777",
        "HOTELRUNNER_HR_ID": "hr-777",
        "HOTELRUNNER_DATA_DIR": str(tmp_path / "data"),
        **more,
    }


def pages_read(sandbox: RunningSandbox) -> list[int]:
    return [int(r.params["page"]) for r in sandbox.control.requests() if r.path == "/reservations"]


def mirrored(env: dict[str, str]) -> int:
    with ReservationStore(mirror_db_path(Path(env["HOTELRUNNER_DATA_DIR"]))) as store:
        return store.count()


def test_sync_reads_the_whole_listing_once_and_then_has_nothing_to_do(
    hotel: RunningSandbox, env: dict[str, str]
) -> None:
    listed = len(listable(hotel))
    pages = math.ceil(listed / PAGE_SIZE)
    assert pages > 5  # more than one "minute" of quota: the run waits for the window
    env = {**env, "HOTELRUNNER_QUOTA_MINUTE_SECONDS": PACED_MINUTE}

    done = sync(env)
    assert done.returncode == 0, done.stderr
    assert f"sync complete: the mirror is current, {listed:,} reservations in the mirror" in done.stdout
    assert f"this run sent {pages} request(s)" in done.stdout
    assert pages_read(hotel) == list(range(1, pages + 1))  # ceil(N / 50) requests, no page twice
    assert mirrored(env) == listed
    assert "waiting" in done.stderr and "for the 5/min window" in done.stderr
    assert f"bookings {listed:,} of ~{listed:,} [####################]" in done.stderr
    assert f"{250 - pages} of 250 requests left today" in done.stdout  # counted by the quota ledger
    audit = Path(env["HOTELRUNNER_DATA_DIR"], "audit.jsonl").read_text()
    sent = [json.loads(line) for line in audit.splitlines() if '"event":"upstream"' in line]
    assert len(sent) == pages and {line["tool"] for line in sent} == {"sync_command"}  # every one audited
    assert hotel.token not in done.stdout + done.stderr + audit

    hotel.control.clear_requests()
    again = sync(env)
    assert again.returncode == 0, again.stderr
    assert "nothing to do, no request sent" in again.stdout
    assert hotel.control.requests() == []


def test_a_capped_run_stops_and_the_next_one_finishes_without_rereading(
    hotel: RunningSandbox, env: dict[str, str]
) -> None:
    listed = len(listable(hotel))
    pages = math.ceil(listed / PAGE_SIZE)
    env = {**env, "HOTELRUNNER_READ_ONLY": "true"}  # a sync is a read

    capped = sync(env, "--max-requests", "3")
    assert capped.returncode == 3, capped.stderr
    assert "sync stopped: --max-requests 3 reached, after 3 request(s) in this run" in capped.stdout
    assert f"has read 150 of ~{listed:,} bookings" in capped.stdout
    assert f"about {pages - 3} more request(s) to go" in capped.stdout
    assert "Run `hotelrunner-mcp sync` again to continue" in capped.stdout
    assert mirrored(env) == 150

    rest = sync(env)
    assert rest.returncode == 0, rest.stderr
    assert f"this run sent {pages - 3} request(s)" in rest.stdout
    assert pages_read(hotel) == list(range(1, pages + 1))
    assert mirrored(env) == listed


def test_it_leaves_a_fifth_of_the_day_to_the_server(hotel: RunningSandbox, env: dict[str, str]) -> None:
    env = {**env, "HOTELRUNNER_QUOTA_PER_DAY": "6"}
    done = sync(env)
    assert done.returncode == 3, done.stderr
    assert "1 of today's 6 requests are left, kept for the server (--reserve 1)" in done.stdout
    assert "after 5 request(s) in this run" in done.stdout
    assert "the daily quota is a rolling 24 h window" in done.stdout
    assert pages_read(hotel) == [1, 2, 3, 4, 5]

    spent = sync(env, "--reserve", "0")  # the owner may give it the rest
    assert spent.returncode == 3
    assert "the daily quota is spent (6 of 6)" in spent.stdout
    assert pages_read(hotel) == [1, 2, 3, 4, 5, 6]


def test_it_waits_for_a_server_that_holds_the_sync_lease(hotel: RunningSandbox, env: dict[str, str]) -> None:
    assert sync(env, "--max-requests", "1").returncode == 3
    owner = lease_owner()  # this test process plays a server in the middle of a sync
    with ReservationStore(mirror_db_path(Path(env["HOTELRUNNER_DATA_DIR"]))) as store:
        assert store.acquire_lease(LEASE_NAME, owner, 60)
        running = subprocess.Popen(command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert running.stderr is not None
            for line in running.stderr:
                if "holds the sync lease" in line:
                    break
            assert pages_read(hotel) == [1]  # nothing sent while the other process syncs
            store.release_lease(LEASE_NAME, owner)
            out, _ = running.communicate(timeout=60)
        finally:
            running.kill()
    assert running.returncode == 0
    assert "sync complete" in out
    assert pages_read(hotel) == list(range(1, math.ceil(len(listable(hotel)) / PAGE_SIZE) + 1))


def test_ctrl_c_during_a_wait_stops_at_once_and_the_progress_is_kept(
    hotel: RunningSandbox, env: dict[str, str]
) -> None:
    env = {**env, "HOTELRUNNER_QUOTA_MINUTE_SECONDS": "60"}  # a real minute: the 6th request waits for it
    running = subprocess.Popen(command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert running.stderr is not None
        for line in running.stderr:
            if "waiting" in line:
                break
        running.send_signal(signal.SIGINT)
        out, _ = running.communicate(timeout=30)
    finally:
        running.kill()
    assert running.returncode == 130
    assert "sync stopped: interrupted (Ctrl-C) between requests, after 5 request(s) in this run" in out
    assert "has read 250 of" in out
    assert pages_read(hotel) == [1, 2, 3, 4, 5]
    assert mirrored(env) == 250


def test_on_a_terminal_the_progress_is_one_line_redrawn(hotel: RunningSandbox, env: dict[str, str]) -> None:
    env = {**env, "HOTELRUNNER_QUOTA_MINUTE_SECONDS": PACED_MINUTE}
    controller, terminal = pty.openpty()
    running = subprocess.Popen(command(), env=env, stdout=subprocess.PIPE, stderr=terminal, text=True)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the command closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    out, _ = running.communicate(timeout=60)
    assert running.returncode == 0, shown.decode()
    screen = shown.decode()
    assert "\r\x1b[Kbookings 50 of ~" in screen  # redrawn in place, not one line per page
    assert "for the 5/min window" in screen
    assert screen.count("\n") == 1, screen  # the opening note; every update redraws the same line
    assert "sync complete" in out


def test_without_credentials_it_says_what_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "HOTELRUNNER_DATA_DIR": str(tmp_path), "HOTELRUNNER_TOKEN": "", "HOTELRUNNER_HR_ID": ""}
    done = sync(env)
    assert done.returncode == 1
    assert "HOTELRUNNER_TOKEN" in done.stderr


@pytest.mark.parametrize("order", ["newest first", "no order"])
def test_a_listing_in_any_order_is_read_to_the_end_without_skipping(
    stub: StubUpstream, tmp_path: Path, order: str
) -> None:
    """HotelRunner's docs never say in which order it lists bookings. Newest first resumes page by page (such a
    listing only grows at its front: a later page may repeat a booking, never skip one); a listing in no order
    cannot be resumed, so the command reads it in one pass. Either way every booking lands, once."""
    listed = [
        {**booking("confirmed", NOW - timedelta(hours=n)), "hr_number": f"R9{n:08d}", "completed_at": stamp}
        for n in range(100)
        if (stamp := (NOW - timedelta(hours=n)).isoformat())
    ]
    if order == "no order":
        listed = listed[1::2] + listed[0::2]  # page 1: odd hours, page 2: even ones, neither sorted
        listed[0], listed[1] = listed[1], listed[0]
    pages = [
        Answer(body={"count": 100, "pages": 2, "current_page": p + 1, "reservations": listed[p * 50 : (p + 1) * 50]})
        for p in (0, 1)
    ]
    # no order: the first page shows it, and the listing is then read again in one pass from page 1
    asked = ["1", "2"] if order == "newest first" else ["1", "1", "2"]
    stub.script("/reservations", *(pages[int(p) - 1] for p in asked))
    env = stub_env(stub, tmp_path)
    done = sync(env)
    assert done.returncode == 0, done.stderr
    assert [query_of(r)["page"][0] for r in stub.requests("/reservations")] == asked
    with ReservationStore(mirror_db_path(tmp_path / "data")) as store:
        assert store.count() == 100


def test_a_listing_in_no_order_longer_than_the_cap_is_not_started(stub: StubUpstream, tmp_path: Path) -> None:
    """A pass that the cap would cut is not begun: one request shows the disorder, the run says what a pass
    needs, and nothing more is spent."""
    shuffled = [
        {
            **booking("confirmed", NOW),
            "hr_number": f"R9{n:08d}",
            "completed_at": (NOW - timedelta(hours=(n * 37) % 150)).isoformat(),
        }
        for n in range(150)
    ]
    pages = [
        Answer(body={"count": 150, "pages": 3, "current_page": p + 1, "reservations": shuffled[p * 50 : (p + 1) * 50]})
        for p in range(3)
    ]
    stub.pages("/reservations", *pages)
    env = stub_env(stub, tmp_path)
    done = sync(env, "--max-requests", "3")
    assert done.returncode == 3, done.stderr
    assert "one pass of 3 request(s)" in done.stdout and "2 are allowed now" in done.stdout
    assert [query_of(r)["page"][0] for r in stub.requests("/reservations")] == ["1"]


def unordered_pages(pages: int) -> list[Answer]:
    n = pages * 50
    shuffled = [
        {
            **booking("confirmed", NOW),
            "hr_number": f"R9{i:08d}",
            "completed_at": (NOW - timedelta(hours=(i * 37) % n)).isoformat(),
        }
        for i in range(n)
    ]
    return [
        Answer(
            body={"count": n, "pages": pages, "current_page": p + 1, "reservations": shuffled[p * 50 : (p + 1) * 50]}
        )
        for p in range(pages)
    ]


def test_a_listing_in_no_order_longer_than_a_minute_of_quota_is_read_in_one_paced_pass(
    stub: StubUpstream, tmp_path: Path
) -> None:
    """Seven pages at 5 a minute: the pass waits for the next minute's slots, even where a question may not
    wait that long (here 1 s), instead of giving up at page 6 and starting again from page 1."""
    stub.pages("/reservations", *unordered_pages(7))
    env = stub_env(stub, tmp_path, HOTELRUNNER_QUOTA_MINUTE_SECONDS="2", HOTELRUNNER_MAX_QUOTA_WAIT_SECONDS="1")
    done = sync(env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [query_of(r)["page"][0] for r in stub.requests("/reservations")] == ["1", "1", "2", "3", "4", "5", "6", "7"]
    with ReservationStore(mirror_db_path(tmp_path / "data")) as store:
        assert store.count() == 350


def test_a_one_pass_read_cut_short_is_tried_again_only_within_the_cap(stub: StubUpstream, tmp_path: Path) -> None:
    """A 429 on the pass's last page: the next attempt is sized from what was really spent, so the run stops at
    --max-requests instead of starting a whole new pass on top of it."""
    stub.pages("/reservations", *unordered_pages(4))
    stub.script("/reservations", *unordered_pages(4)[:1], *unordered_pages(4)[:3])
    stub.script("/reservations", Answer(status=429, body={"error": "slow down"}, headers={"Retry-After": "1"}))
    done = sync(stub_env(stub, tmp_path, HOTELRUNNER_QUOTA_MINUTE_SECONDS="2"), "--max-requests", "6")
    assert done.returncode == 3, done.stdout + done.stderr
    assert len(stub.requests("/reservations")) <= 6
    assert "one pass of 4 request(s)" in done.stdout


def test_a_listing_remembered_as_in_no_order_is_looked_at_again_before_giving_up(
    stub: StubUpstream, tmp_path: Path
) -> None:
    """An earlier run found seven pages in no order; HotelRunner now lists one ordered page. The remembered
    length is too long for the cap, so the run looks at page 1 again rather than stop on an old figure."""
    from datetime import UTC, date, datetime

    from hotelrunner_mcp.reservations.mirror import SyncProgress

    env = stub_env(stub, tmp_path)
    earlier = datetime.now(UTC) - timedelta(hours=2)
    with ReservationStore(mirror_db_path(tmp_path / "data")) as store:
        store.set_sync_progress(
            SyncProgress(
                mode="backfill",
                from_date=date.today() - timedelta(days=30),
                from_last_update_date=None,
                started_at=earlier,
                next_page=1,
                pages=7,
                count=350,
                fetched=0,
                requests=0,
                saved_at=earlier,
                unordered=True,
            )
        )
    one_page = [
        {
            **booking("confirmed", NOW),
            "hr_number": f"R9{i:08d}",
            "completed_at": (NOW - timedelta(hours=40 - i)).isoformat(),
        }
        for i in range(40)
    ]
    stub.pages("/reservations", Answer(body={"count": 40, "pages": 1, "current_page": 1, "reservations": one_page}))
    done = sync(env, "--max-requests", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [query_of(r)["page"][0] for r in stub.requests("/reservations")] == ["1"]
