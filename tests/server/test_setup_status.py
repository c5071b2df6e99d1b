"""The setup status resource and the unconfigured server: it starts, lists its tools, and every tool
and the status say what is missing and how to get it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotelrunner_mcp.calendar.changes import property_today
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import Session, connect
from .support import assert_tool_error

DAY = str(property_today() + timedelta(days=3))
EVERY_TOOL: dict[str, dict[str, Any]] = {
    "get_rooms": {},
    "get_reservations": {},
    "get_reservation_changes": {"since_change_id": 0},
    "get_occupancy": {"start": DAY, "end": DAY},
    "get_calendar": {"start_date": DAY, "end_date": DAY},
    "check_channel_results": {},
    "update_calendar": {"changes": [{"room": "DLXTRP", "start_date": DAY, "end_date": DAY, "price": "150"}]},
    "get_channels": {},
    "undo_calendar_change": {"transaction_ids": ["1"]},
    "respond_to_reservation": {"reservation": "R754208185", "action": "confirm"},
}


async def status_of(mcp: Session) -> dict[str, Any]:
    return json.loads(await mcp.resource("hotelrunner://setup-status"))


async def test_without_credentials_the_server_lists_its_tools(tmp_path: Path) -> None:
    async with connect(Settings(data_dir=tmp_path / "data")) as mcp:
        names = {t.name for t in (await mcp.client.list_tools()).tools}

    assert names == set(EVERY_TOOL)


@pytest.mark.parametrize("tool", list(EVERY_TOOL))
async def test_without_credentials_every_tool_says_what_to_set(tool: str, tmp_path: Path) -> None:
    async with connect(Settings(data_dir=tmp_path / "data")) as mcp:
        message = await mcp.error(tool, **EVERY_TOOL[tool])

    assert_tool_error(message, tool)
    assert "HOTELRUNNER_TOKEN" in message and "HOTELRUNNER_HR_ID" in message
    assert "nothing was sent" in message and "hotelrunner://setup-status" in message


async def test_without_credentials_the_status_says_what_is_missing_and_how_to_get_it(tmp_path: Path) -> None:
    async with connect(Settings(data_dir=tmp_path / "data", hr_id="12345")) as mcp:
        status = await status_of(mcp)

    assert status["ready"] is False
    assert status["credentials"] == {"HOTELRUNNER_TOKEN": "missing", "HOTELRUNNER_HR_ID": "set"}
    assert status["missing"] == ["HOTELRUNNER_TOKEN"]
    assert "Custom Apps" in status["how_to_fix"] and "HOTELRUNNER_TOKEN=" in status["how_to_fix"]
    assert "12345" not in json.dumps(status)
    assert status["environment"] == "live HotelRunner"


async def test_the_status_of_a_working_server(settings: Settings, sandbox: RunningSandbox) -> None:
    async with connect(settings) as mcp:
        before = await status_of(mcp)
        await mcp.ok("get_rooms")
        after = await status_of(mcp)

    assert before["ready"] is True and "missing" not in before
    assert before["environment"].startswith("SANDBOX")
    assert before["base_url"] == sandbox.base_url
    assert before["data_dir"] == str(settings.data_dir)
    assert before["audit_log"] == str(settings.audit_file)
    assert before["last_successful_call"] == "none since this server started"
    assert before["quota"]["per_minute"] == 5 and before["quota"]["per_day"] == 250
    assert after["quota"]["used_last_24h"] == 1 and after["quota"]["left_last_24h"] == 249
    assert datetime.fromisoformat(after["last_successful_call"]) > datetime.fromisoformat("2020-01-01T00:00:00+00:00")
    assert Path(after["audit_log"]).is_file()
    assert sandbox.token not in json.dumps(after)


async def test_an_unwritable_data_folder_refuses_calls_rather_than_going_unrecorded(
    settings: Settings, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    async with connect(settings.with_overrides(data_dir=blocker / "data")) as mcp:
        status = await status_of(mcp)
        message = await mcp.error("get_rooms")

    assert status["ready"] is False and "cannot be written" in status["data_problem"]
    assert "HOTELRUNNER_DATA_DIR" in message and "Nothing was sent" in message
    assert sandbox.control.requests() == []


async def test_an_unwritable_audit_log_refuses_calls(
    settings: Settings, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    folder = tmp_path / "audit-is-a-folder"
    folder.mkdir()
    async with connect(settings.with_overrides(audit_path=folder)) as mcp:
        status = await status_of(mcp)
        message = await mcp.error("get_rooms")

    assert status["audit_log"] == str(folder)
    assert_tool_error(message, "get_rooms")
    assert "recording_unavailable" in message
    assert sandbox.control.requests() == []


async def test_the_status_names_the_probe_and_its_findings(settings: Settings, sandbox: RunningSandbox) -> None:
    from hotelrunner_mcp.commands.probe import run_probe, save_probe
    from hotelrunner_mcp.services import Services

    async with connect(settings) as mcp:
        before = json.loads(await mcp.resource("hotelrunner://setup-status"))
    assert "check --probe" in before["docs_readings_probe"]
    services = Services.open(settings)
    try:
        report = await run_probe(services.require_client(), base_url=settings.base_url)
    finally:
        await services.aclose()
    save_probe(report, settings.data_dir)
    async with connect(settings) as mcp:
        after = json.loads(await mcp.resource("hotelrunner://setup-status"))
    assert after["docs_readings_probe"]["findings"] == report.findings and report.requests <= 3


@pytest.mark.parametrize("damaged", ["mirror.db", "plans.db", "quota.db"])
async def test_a_corrupt_data_file_is_named_and_the_status_still_answers(
    settings: Settings, sandbox: RunningSandbox, damaged: str
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / damaged).write_bytes(b"this is not a database, it was overwritten" * 100)
    async with connect(settings) as mcp:
        refused = await mcp.error("get_reservations", arriving_from="2027-01-01")
        status = json.loads(await mcp.resource("hotelrunner://setup-status"))
    assert damaged in refused and "move it aside" in refused
    assert status["ready"] is False and damaged in status["data_problem"]


async def test_the_instructions_state_the_configured_quota(settings: Settings) -> None:
    async with connect(settings.with_overrides(per_day=120, per_minute=3)) as mcp:
        instructions = mcp.client.instructions or ""
        version = mcp.client.server_info.version if mcp.client.server_info else None
    from importlib.metadata import version as installed

    assert "120 requests a day and 3 a minute" in instructions
    assert version == installed("hotelrunner-mcp")  # one version, from pyproject.toml
