"""Set-up that works where clients start servers (issue 9): the per-user file is read wherever the server
starts, `--env-file` / HOTELRUNNER_ENV_FILE add one more, the environment still wins, `sources` names
what was read; `--version` and the token commands."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from hotelrunner_mcp.config import ConfigError, Settings


def write(path: Path, **values: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def test_files_are_read_in_order_and_the_environment_wins(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "elsewhere"
    user = write(home / ".config" / "hotelrunner-mcp" / "env", HOTELRUNNER_QUOTA_PER_DAY="100", HOTELRUNNER_HR_ID="1")
    local = write(cwd / ".env.local", HOTELRUNNER_QUOTA_PER_DAY="90")
    named = write(tmp_path / "named.env", HOTELRUNNER_QUOTA_PER_DAY="80", HOTELRUNNER_TIMEOUT_SECONDS="7")
    data = {"HOTELRUNNER_DATA_DIR": str(tmp_path / "data")}

    only_user = Settings.load({"HOME": str(home), **data}, cwd=tmp_path)
    assert (only_user.per_day, only_user.hr_id, only_user.sources) == (100, "1", (str(user),))

    layered = Settings.load({"HOME": str(home), "HOTELRUNNER_ENV_FILE": str(named), **data}, cwd=cwd)
    assert layered.per_day == 80 and layered.timeout_seconds == 7
    assert layered.sources == (str(user), str(local), str(named))

    flag = Settings.load({"HOME": str(home), "HOTELRUNNER_QUOTA_PER_DAY": "70", **data}, cwd=cwd, env_file=named)
    assert flag.per_day == 70  # the environment wins over every file

    xdg = write(tmp_path / "xdg" / "hotelrunner-mcp" / "env", HOTELRUNNER_QUOTA_PER_DAY="60")
    assert Settings.load({"XDG_CONFIG_HOME": str(tmp_path / "xdg"), **data}, cwd=tmp_path).sources == (str(xdg),)


def test_a_named_file_that_is_missing_is_an_error_not_silence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HOTELRUNNER_ENV_FILE names"):
        Settings.load({"HOTELRUNNER_ENV_FILE": str(tmp_path / "nope.env")}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="--env-file names"):
        Settings.load({}, cwd=tmp_path, env_file=tmp_path / "nope.env")


def run(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "HOTELRUNNER_DATA_DIR": str(home / "data")}
    return subprocess.run(
        [sys.executable, "-m", "hotelrunner_mcp", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_version_and_a_missing_env_file_on_the_command_line(tmp_path: Path) -> None:
    shown = run("--version", home=tmp_path, cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == f"hotelrunner-mcp {version('hotelrunner-mcp')}"
    missing = run("serve", "--env-file", str(tmp_path / "absent.env"), home=tmp_path, cwd=tmp_path)
    assert missing.returncode == 2 and "--env-file names" in missing.stderr


def test_tokens_are_shown_once_and_kept_only_as_hashes(tmp_path: Path) -> None:
    added = run("token", "add", "claude-laptop", home=tmp_path, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token.startswith("hrmcp_") and len(token) > 40 and "only time" in added.stderr
    assert run("token", "add", "auditor", "--read-only", home=tmp_path, cwd=tmp_path).returncode == 0
    assert run("token", "add", "claude-laptop", home=tmp_path, cwd=tmp_path).returncode == 2  # names are unique
    assert run("token", "add", "bad name!", home=tmp_path, cwd=tmp_path).returncode == 2

    stored = (tmp_path / "data" / "client-tokens.json").read_text(encoding="utf-8")
    assert token not in stored and token[6:] not in stored
    assert (tmp_path / "data" / "client-tokens.json").stat().st_mode & 0o077 == 0
    assert {t["name"]: t["read_only"] for t in json.loads(stored)["tokens"]} == {
        "claude-laptop": False,
        "auditor": True,
    }

    listed = run("token", "list", home=tmp_path, cwd=tmp_path).stdout
    assert "claude-laptop (read and write" in listed and "auditor (read-only" in listed and "hrmcp_" not in listed
    assert run("token", "revoke", "claude-laptop", home=tmp_path, cwd=tmp_path).returncode == 0
    assert run("token", "revoke", "claude-laptop", home=tmp_path, cwd=tmp_path).returncode == 1
