"""The per-user settings file is read wherever a client starts the server (issue 9): Claude Desktop starts
it in another folder, with no credentials in its environment, and setup-status names the file it read."""

from __future__ import annotations

import json
from pathlib import Path

from hotelrunner_mcp.sandbox import RunningSandbox

from .support import connect_stdio, stdio_env


async def test_credentials_in_the_user_file_work_from_any_folder(sandbox: RunningSandbox, tmp_path: Path) -> None:
    env = stdio_env(sandbox, tmp_path / "data")
    home = tmp_path / "home"
    user_file = home / ".config" / "hotelrunner-mcp" / "env"
    user_file.parent.mkdir(parents=True)
    secrets = {k: env.pop(k) for k in ("HOTELRUNNER_TOKEN", "HOTELRUNNER_HR_ID")}
    user_file.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()), encoding="utf-8")
    env.pop("XDG_CONFIG_HOME", None)
    env["HOME"] = str(home)
    async with connect_stdio(env) as mcp:  # started in its data folder, far from the user file
        status = json.loads(await mcp.resource("hotelrunner://setup-status"))
        rooms = await mcp.ok("get_rooms")
    assert status["ready"] is True and status["settings_files_read"] == [str(user_file)]
    assert rooms["room_types"]
