"""The one-command start, stable credentials per seed, deterministic seed data, an injectable
clock, and the rule that the sandbox imports nothing else from hotelrunner_mcp."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx2

from hotelrunner_mcp.sandbox import Sandbox, SandboxConfig, run_sandbox


def read_settings(process: subprocess.Popen[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    assert process.stdout is not None
    while "SANDBOX_ADMIN_KEY" not in settings:
        line = process.stdout.readline()
        assert line, "the sandbox exited before printing its settings"
        key, _, value = line.strip().partition("=")
        settings[key] = value
    return settings


def test_cli_prints_settings_serves_and_stops_on_sigterm() -> None:
    command = [sys.executable, "-m", "hotelrunner_mcp.sandbox", "--seed", "7", "--port", "0", "--per-minute", "9"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        settings = read_settings(process)
        expected = SandboxConfig(seed=7)
        assert settings["HOTELRUNNER_TOKEN"] == expected.token
        assert settings["HOTELRUNNER_HR_ID"] == expected.hr_id
        assert settings["SANDBOX_ADMIN_KEY"] == expected.admin_key
        assert settings["HOTELRUNNER_SANDBOX"] == "true"
        assert settings["HOTELRUNNER_BASE_URL"].startswith("http://127.0.0.1:")
        auth = {"token": settings["HOTELRUNNER_TOKEN"], "hr_id": settings["HOTELRUNNER_HR_ID"]}
        assert httpx2.get(settings["HOTELRUNNER_BASE_URL"] + "/rooms", params=auth).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_credentials_follow_the_seed_unless_given() -> None:
    assert SandboxConfig(seed=7).token == SandboxConfig(seed=7).token != SandboxConfig(seed=8).token
    assert str(SandboxConfig(seed=7).token).startswith("sbx-") and str(SandboxConfig(seed=7).hr_id).isdigit()
    given = SandboxConfig(seed=7, token="t0k", hr_id="42")
    assert (given.token, given.hr_id) == ("t0k", "42")


def fixed_clock(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


def test_seed_data_is_deterministic_for_a_seed_and_a_date() -> None:
    now = datetime(2027, 4, 10, 9, 30, tzinfo=UTC)
    first = Sandbox(SandboxConfig(seed=11, clock=fixed_clock(now))).control.reservations()
    again = Sandbox(SandboxConfig(seed=11, clock=fixed_clock(now))).control.reservations()
    other = Sandbox(SandboxConfig(seed=12, clock=fixed_clock(now))).control.reservations()
    assert first == again
    assert first != other
    assert all("2027-03-" in r["completed_at"] or "2027-04-" in r["completed_at"] for r in first)


def test_listing_reaches_back_30_days_on_the_sandbox_clock() -> None:
    start = datetime(2027, 4, 10, 9, 30, tzinfo=UTC)
    now = [start]
    config = SandboxConfig(seed=11, clock=lambda: now[0], per_minute=100)
    with run_sandbox(config) as sb:
        auth = {"token": sb.token, "hr_id": sb.hr_id, "undelivered": "false", "from_date": "2000-01-01", "per_page": 1}
        everything = httpx2.get(sb.base_url + "/reservations", params=auth).json()["count"]
        assert everything == len(sb.control.reservations())
        now[0] = start + timedelta(days=15)  # half of the seed month falls out of the window
        cutoff = (now[0] - timedelta(days=30)).date().isoformat()
        expected = sum(r["completed_at"][:10] >= cutoff for r in sb.control.reservations())
        assert httpx2.get(sb.base_url + "/reservations", params=auth).json()["count"] == expected < everything


def test_sandbox_imports_nothing_else_from_the_package() -> None:
    code = (
        "import sys, hotelrunner_mcp.sandbox, hotelrunner_mcp.sandbox.runner;"
        "print(sorted(m for m in sys.modules if m.startswith('hotelrunner_mcp')"
        " and m != 'hotelrunner_mcp' and not m.startswith('hotelrunner_mcp.sandbox')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_cli_flags_for_the_documented_variants() -> None:
    from hotelrunner_mcp.sandbox.runner import build_parser, config_from_args

    default = config_from_args(build_parser().parse_args([]))
    assert (
        default.push_encoding,
        default.push_shape,
        default.ack_enabled,
        default.verbatim_bodies,
        default.requires_response_field,
    ) == (
        "multipart",
        "2026",
        True,
        False,
        False,
    )
    args = [
        "--push-encoding",
        "query",
        "--push-shape",
        "v1",
        "--ack-disabled",
        "--verbatim-bodies",
        "--requires-response",
    ]
    given = config_from_args(build_parser().parse_args(args))
    assert (
        given.push_encoding,
        given.push_shape,
        given.ack_enabled,
        given.verbatim_bodies,
        given.requires_response_field,
    ) == (
        "query",
        "v1",
        False,
        True,
        True,
    )
