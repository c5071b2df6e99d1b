"""Point the server at an embedded sandbox: `--sandbox`, the demo and the tests use this."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .config import Settings
from .sandbox import RunningSandbox, SandboxConfig, run_sandbox
from .sandbox.catalog import ROOM_TYPES


def sandbox_room_counts() -> dict[str, int]:
    """Physical rooms per room type of the sandbox's Villa Thaifa (12 rooms in 8 types)."""
    return {room.inv_code: room.rooms for room in ROOM_TYPES}


def settings_for(sandbox: RunningSandbox, base: Settings) -> Settings:
    """`base` aimed at this sandbox, labelled as sandbox, with its own data folder."""
    return base.for_sandbox(sandbox.base_url, sandbox.token, sandbox.hr_id, sandbox_room_counts())


@contextmanager
def embedded_sandbox(base: Settings, *, seed: int = 7, config: SandboxConfig | None = None) -> Iterator[tuple[RunningSandbox, Settings]]:
    """Start a sandbox on 127.0.0.1 (a free port) and yield it with settings pointing at it."""
    with run_sandbox(config or SandboxConfig(seed=seed)) as sandbox:
        yield sandbox, settings_for(sandbox, base)
