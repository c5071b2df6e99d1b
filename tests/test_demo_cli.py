"""The README's demo and the CLI, run as a user would: real processes, real stdio, the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx2


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, from an empty folder (no developer's .env.local is read)."""
    with tempfile.TemporaryDirectory() as empty:
        return subprocess.run(
            [sys.executable, "-m", "hotelrunner_mcp", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            cwd=empty,
        )


def test_demo_tells_the_whole_story_without_leaking_the_token() -> None:
    done = _run("demo")
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for step in (
        "1. Rooms and rates",
        "2. This week's arrivals",
        "3. Next 30 nights",
        "4. A season of prices",
        "5. Apply the previewed plan",
        "6. What we set",
        "7. Quota and audit",
    ):
        assert step in out
    assert "2 requests instead of 360" in out
    assert "already applied" in out
    assert "token present: False" in out
    assert "the sandbox received 5 requests" in out


def test_check_without_credentials_says_what_is_missing(tmp_path: Path) -> None:
    done = _run("check", env={"HOTELRUNNER_DATA_DIR": str(tmp_path), "HOTELRUNNER_TOKEN": "", "HOTELRUNNER_HR_ID": ""})
    assert done.returncode == 1
    assert "HOTELRUNNER_TOKEN" in done.stderr and "Identifiants" in done.stderr


def test_check_against_the_sandbox_counts_rooms_and_quota(sandbox, tmp_path: Path) -> None:
    env = {
        "HOTELRUNNER_BASE_URL": sandbox.base_url,
        "HOTELRUNNER_TOKEN": sandbox.token,
        "HOTELRUNNER_HR_ID": sandbox.hr_id,
        "HOTELRUNNER_DATA_DIR": str(tmp_path),
    }
    done = _run("check", env=env)
    assert done.returncode == 0, done.stderr
    assert "9 room types and 20 rates" in done.stdout
    assert "1 of 250 requests used" in done.stdout
    assert sandbox.token not in done.stdout + done.stderr
    assert [r.path for r in sandbox.control.requests()] == ["/rooms"]


def test_bad_setting_is_named(tmp_path: Path) -> None:
    done = _run("check", env={"HOTELRUNNER_QUOTA_PER_DAY": "lots", "HOTELRUNNER_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert "HOTELRUNNER_QUOTA_PER_DAY" in done.stderr


def test_a_base_url_that_would_leak_the_token_is_refused(tmp_path: Path) -> None:
    for url, why in (
        ("http://hotelrunner.example/api/v2/apps", "https"),
        ("https://app.hotelrunner.com/api/v2/apps?token=abc", "query"),
        ("https://app.hotelrunner.com:99999/api", "not a valid URL"),
    ):
        done = _run("check", env={"HOTELRUNNER_BASE_URL": url, "HOTELRUNNER_DATA_DIR": str(tmp_path)})
        assert done.returncode == 2 and "HOTELRUNNER_BASE_URL" in done.stderr and why in done.stderr, done.stderr
        assert "abc" not in done.stderr


def test_check_probe_settles_the_listing_booleans_with_reads_only(sandbox, tmp_path: Path) -> None:
    """The sandbox reads only the literal `false` as false (as a strict HotelRunner would): the probe sees
    that `0` lists fewer bookings, says which reading is the default, keeps it, and never writes."""
    env = {
        "HOTELRUNNER_BASE_URL": sandbox.base_url,
        "HOTELRUNNER_TOKEN": sandbox.token,
        "HOTELRUNNER_HR_ID": sandbox.hr_id,
        "HOTELRUNNER_SANDBOX": "true",
        "HOTELRUNNER_DATA_DIR": str(tmp_path),
    }
    booking = sandbox.control.reservations(undelivered=True)[0]  # one delivery acknowledged, so the readings differ
    httpx2.put(
        f"{sandbox.base_url}/reservations/~",
        params={"token": sandbox.token, "hr_id": sandbox.hr_id, "message_uid": booking["message_uid"]},
    ).raise_for_status()
    sandbox.control.clear_requests()
    done = _run("check", "--probe", env=env)
    assert done.returncode == 0, done.stderr
    assert "read-only requests, no write" in done.stdout and sandbox.token not in done.stdout
    requests = sandbox.control.requests()
    assert [r.method for r in requests] == ["GET"] * len(requests) and 2 <= len(requests) <= 4
    assert [r.params.get("undelivered") for r in requests if r.path == "/reservations"][:2] == ["false", "0"]
    saved = json.loads((tmp_path / "probe.json").read_text())
    assert saved["requests"] <= 3 and saved["findings"]
