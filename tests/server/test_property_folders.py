"""Two properties never share a mirror, plans or quota (issue 12, Medium 3): each gets its own data
folder by default, and a folder that holds one property refuses another before anything is read or sent."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox

from .conftest import connect, upstream

LIVE = "https://app.hotelrunner.com/api/v2/apps"


async def test_a_folder_holding_one_property_refuses_another(settings: Settings, sandbox: RunningSandbox) -> None:
    change = [{"room": "SUITE", "start_date": "2027-05-01", "end_date": "2027-05-01", "price": "180"}]
    async with connect(settings) as mcp:
        plan_id = (await mcp.ok("update_calendar", changes=change))["plan_id"]
        listed = await mcp.ok("get_reservations", arriving_from="2020-01-01")
        assert listed["matching"] > 0
    other = settings.with_overrides(hr_id="999999")  # property B, same folder
    sent_before = len(upstream(sandbox))
    async with connect(other) as mcp:
        refused = await mcp.error("update_calendar", changes=change, plan_id=plan_id)
        listing = await mcp.error("get_reservations", arriving_from="2020-01-01")
        status = json.loads(await mcp.resource("hotelrunner://setup-status"))
    for text in (refused, listing, status["data_problem"]):
        assert "holds another HotelRunner property" in text and "999999" not in text
    assert len(upstream(sandbox)) == sent_before  # nothing sent for B


def test_each_property_gets_its_own_default_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    a = Settings.from_mapping({"HOTELRUNNER_TOKEN": "t", "HOTELRUNNER_HR_ID": "424242", "HOTELRUNNER_BASE_URL": LIVE})
    b = Settings.from_mapping({"HOTELRUNNER_TOKEN": "t", "HOTELRUNNER_HR_ID": "515151", "HOTELRUNNER_BASE_URL": LIVE})
    again = Settings.from_mapping(
        {"HOTELRUNNER_TOKEN": "t", "HOTELRUNNER_HR_ID": "424242", "HOTELRUNNER_BASE_URL": LIVE}
    )
    root = tmp_path / "hotelrunner-mcp"
    assert a.data_dir != b.data_dir and a.data_dir == again.data_dir
    assert a.data_dir.parent == root and a.data_dir.name.startswith("app.hotelrunner.com-")
    assert "424242" not in a.data_dir.name and "515151" not in b.data_dir.name


def test_a_folder_with_data_from_before_keeps_being_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    root = tmp_path / "hotelrunner-mcp"
    root.mkdir()
    (root / "mirror.db").write_bytes(b"")  # a data folder written before folders were per property
    legacy = Settings.from_mapping(
        {"HOTELRUNNER_TOKEN": "t", "HOTELRUNNER_HR_ID": "424242", "HOTELRUNNER_BASE_URL": LIVE}
    )
    assert legacy.data_dir == root


def test_the_quota_key_does_not_give_the_hr_id_away_and_old_rows_keep_counting(settings: Settings) -> None:
    """Issue 12, Low: sha256(hr_id, host) of a 6-digit hr_id was reversed in 0.7 s. The key is now keyed
    with the folder's secret salt; entries counted under the old key are adopted, not forgotten."""
    import hashlib
    import sqlite3

    from hotelrunner_mcp.gate.quota import QuotaLimiter, quota_db_path, quota_key
    from hotelrunner_mcp.services import Services

    settings.data_dir.mkdir(parents=True)
    old_key = quota_key(settings.hr_id, settings.base_url)
    legacy = QuotaLimiter(quota_db_path(settings.data_dir), key=old_key, per_minute=5, per_day=250)
    legacy.status()  # creates its tables
    with sqlite3.connect(quota_db_path(settings.data_dir)) as raw:
        raw.execute(
            "INSERT INTO quota_requests (key, at, label) VALUES (?, strftime('%s','now'), 'GET /rooms')", (old_key,)
        )
    legacy.close()
    services = Services.open(settings)
    try:
        key = services.limiter.key
        assert services.limiter.status().used_today == 1  # the old entry still counts
    finally:
        anyio.run(services.aclose)
    assert key != old_key
    # the brute force of the finding: every 6-digit hr_id through the unsalted formula never meets the key
    assert all(hashlib.sha256(f"{n}\n127.0.0.1".encode()).hexdigest()[:16] != key for n in range(100_000, 1_000_000))
    with sqlite3.connect(quota_db_path(settings.data_dir)) as raw:
        assert raw.execute("SELECT COUNT(*) FROM quota_requests WHERE key = ?", (old_key,)).fetchone()[0] == 0
