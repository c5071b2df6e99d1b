"""Settings meant for the sandbox never apply to a real HotelRunner (issue 12, Medium 8 and 9)."""

from __future__ import annotations

import pytest

from hotelrunner_mcp.config import ConfigError, Settings

LIVE = "https://app.hotelrunner.com/api/v2/apps"
SANDBOX = "http://127.0.0.1:8600/api/v2/apps"


def test_a_sandbox_label_on_the_live_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="must not be labelled SANDBOX"):
        Settings.from_mapping({"HOTELRUNNER_SANDBOX": "true", "HOTELRUNNER_BASE_URL": LIVE})
    assert Settings.from_mapping(
        {"HOTELRUNNER_SANDBOX": "true", "HOTELRUNNER_BASE_URL": SANDBOX}
    ).environment.startswith("SANDBOX")


@pytest.mark.parametrize("name", ["HOTELRUNNER_QUOTA_MINUTE_SECONDS", "HOTELRUNNER_QUOTA_DAY_SECONDS"])
def test_shortened_quota_windows_are_refused_against_the_live_url(name: str) -> None:
    with pytest.raises(ConfigError, match="sandbox only"):
        Settings.from_mapping({name: "1", "HOTELRUNNER_BASE_URL": LIVE})
    assert Settings.from_mapping({name: "1", "HOTELRUNNER_BASE_URL": SANDBOX}).base_url == SANDBOX


def test_overrides_are_held_to_the_same_rule() -> None:
    with pytest.raises(ConfigError):
        Settings(base_url=LIVE).with_overrides(minute_seconds=1.0)
