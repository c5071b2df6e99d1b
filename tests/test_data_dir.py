"""The data folder holds guests' names and e-mails: whoever creates it first, only this user reads it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import anyio
import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.reservations.push import open_services
from hotelrunner_mcp.services import Services


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_webhook_creating_the_data_folder_keeps_it_private(tmp_path: Path) -> None:
    settings = Settings(token="t0k3n-abc", hr_id="4242", data_dir=tmp_path / "data")
    store, _ = open_services(settings)
    store.close()
    assert _mode(settings.data_dir) == 0o700
    assert _mode(settings.data_dir / "mirror.db") == 0o600


def test_the_server_creating_the_data_folder_keeps_every_file_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    services = Services.open(settings)
    services.limiter.status()  # the quota ledger opens lazily
    anyio.run(services.aclose)
    assert _mode(settings.data_dir) == 0o700
    for name in ("mirror.db", "plans.db", "quota.db"):
        assert _mode(settings.data_dir / name) == 0o600, name
