"""Point the server at an embedded sandbox: `--sandbox`, the demo and the tests use this."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox
from hotelrunner_mcp.sandbox.catalog import ROOM_TYPES


def sandbox_room_counts() -> dict[str, int]:
    """Physical rooms per room type of the sandbox's Villa Thaifa (12 rooms in 8 types)."""
    return {room.inv_code: room.rooms for room in ROOM_TYPES}


def server_env(sandbox: RunningSandbox, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment a user would give `hotelrunner-mcp serve` (or `webhook`) to use this sandbox:
    what Claude Desktop's `env` would hold, plus PATH and HOME (stdio clients pass little else)."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR") if name in os.environ}
    env.update(
        HOTELRUNNER_BASE_URL=sandbox.base_url,
        HOTELRUNNER_TOKEN=sandbox.token,
        HOTELRUNNER_HR_ID=sandbox.hr_id,
        HOTELRUNNER_SANDBOX="true",
        HOTELRUNNER_DATA_DIR=str(data_dir),
        HOTELRUNNER_ROOM_COUNTS=",".join(f"{code}:{rooms}" for code, rooms in sandbox_room_counts().items()),
    )
    env.update(settings)
    return env


def settings_for(sandbox: RunningSandbox, base: Settings) -> Settings:
    """`base` aimed at this sandbox, labelled as sandbox, with its own data folder."""
    return base.for_sandbox(sandbox.base_url, sandbox.token, sandbox.hr_id, sandbox_room_counts())


@contextmanager
def embedded_sandbox(
    base: Settings, *, seed: int = 7, config: SandboxConfig | None = None
) -> Iterator[tuple[RunningSandbox, Settings]]:
    """Start a sandbox on 127.0.0.1 (a free port) and yield it with settings pointing at it."""
    with run_sandbox(config or SandboxConfig(seed=seed)) as sandbox:
        yield sandbox, settings_for(sandbox, base)
