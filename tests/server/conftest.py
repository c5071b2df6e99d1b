"""Fixtures for server tests: a real MCP Client session, in memory, against the server, which talks to
the sandbox over loopback HTTP. `settings` has a private data folder per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.types import Implementation

from hotelrunner_mcp.commands.sandbox_link import settings_for
from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.reservations.push import DEFAULT_PATH as WEBHOOK_PATH
from hotelrunner_mcp.reservations.push import create_webhook_app
from hotelrunner_mcp.reservations.push import open_services as open_webhook_services
from hotelrunner_mcp.sandbox import LoggedRequest, RunningSandbox, SandboxConfig, run_sandbox
from hotelrunner_mcp.surface.server import build_server
from loopback import serving


@pytest.fixture
def settings(sandbox: RunningSandbox, tmp_path: Path) -> Settings:
    """Server settings aimed at the sandbox, short timeouts, own data folder."""
    return settings_for(sandbox, Settings(data_dir=tmp_path / "data", timeout_seconds=2.0, max_quota_wait_seconds=5.0))


@dataclass
class ToolResult:
    """What an MCP client sees of a tool call."""

    is_error: bool
    text: str
    data: dict[str, Any] | None


class Session:
    """A connected MCP client with small helpers for assertions."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def call(self, tool: str, **arguments: Any) -> ToolResult:
        result = await self.client.call_tool(tool, arguments)
        text = "\n".join(getattr(c, "text", "") for c in result.content)
        return ToolResult(bool(result.is_error), text, result.structured_content)

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool that must succeed; return its structured answer."""
        result = await self.call(tool, **arguments)
        assert not result.is_error, result.text
        assert result.data is not None
        return result.data

    async def error(self, tool: str, **arguments: Any) -> str:
        """Call a tool that must fail; return the message the model reads."""
        result = await self.call(tool, **arguments)
        assert result.is_error, f"expected an error, got {result.data}"
        return result.text

    async def every(self, tool: str, key: str, **arguments: Any) -> list[Any]:
        """All items of a paged list answer (`key`), following next_cursor (or next_offset) as an agent would."""
        items: list[Any] = []
        while True:
            answer = await self.ok(tool, **arguments)
            items += answer[key]
            follow = "cursor" if "next_cursor" in answer else "offset"
            if answer.get(f"next_{follow}") is None:
                return items
            assert f"{follow}={answer[f'next_{follow}']}" in answer["left_out"], "a cut page says how to go on"
            arguments[follow] = answer[f"next_{follow}"]

    async def changes_after(self, change_id: int) -> list[dict[str, Any]]:
        """Every change after `change_id`, continuing from the last one shown while left_out says there are more."""
        changes: list[dict[str, Any]] = []
        while True:
            answer = await self.ok("get_reservation_changes", since_change_id=change_id, limit=500)
            changes += answer["changes"]
            if not answer["left_out"]:
                return changes
            change_id = answer["changes"][-1]["change_id"]
            assert f"since_change_id={change_id}" in answer["left_out"]

    async def resource(self, uri: str) -> str:
        read = await self.client.read_resource(uri)
        return read.contents[0].text  # type: ignore[union-attr]


def per_date(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """get_calendar's runs of dates (start_date..end_date) as one value per date, with `date`, in date order."""
    expanded = []
    for run in values:
        first, last = date.fromisoformat(run["start_date"]), date.fromisoformat(run["end_date"])
        for n in range((last - first).days + 1):
            expanded.append({**run, "date": str(first + timedelta(days=n))})
    return sorted(expanded, key=lambda v: v["date"])


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[Session]:
    """`async with connect(settings) as mcp:` — a session inside the test's own task (anyio needs that)."""
    async with Client(build_server(settings), client_info=Implementation(name="pytest-client", version="1")) as client:
        yield Session(client)


# --------------------------------------------------------------------------- upstream request counting


def upstream(sandbox: RunningSandbox, method: str | None = None, path: str | None = None) -> list[LoggedRequest]:
    """What the sandbox received on its HotelRunner paths, optionally only one method and path."""
    return [
        r
        for r in sandbox.control.requests()
        if (method is None or r.method == method) and (path is None or r.path == path)
    ]


@pytest.fixture
def roomy_settings(settings: Settings) -> Settings:
    """`settings` with a local quota large enough that no test waits for a per-minute slot."""
    return settings.with_overrides(per_minute=1000, per_day=100_000)


# --------------------------------------------------------------------------- the push receiver (issue 4)


@dataclass
class Webhook:
    """The push receiver running as its own server on the test's data folder."""

    callback_url: str
    audit_file: Path

    def post(self, data: str, *, token: str, hr_id: str) -> httpx2.Response:
        """A raw POST like HotelRunner's (form field `data`), with whatever credentials are given."""
        return httpx2.post(self.callback_url, params={"token": token, "hr_id": hr_id}, data={"data": data}, timeout=10)


@contextmanager
def run_webhook(settings: Settings) -> Iterator[Webhook]:
    """`hotelrunner-mcp webhook` in-process: uvicorn on a free port, sharing the server's mirror."""
    store, audit = open_webhook_services(settings)
    with store, serving(create_webhook_app(settings, store, audit)) as base_url:
        yield Webhook(base_url + WEBHOOK_PATH, settings.audit_file)


@pytest.fixture
def webhook(roomy_settings: Settings) -> Iterator[Webhook]:
    """The push receiver on the `roomy_settings` data folder."""
    with run_webhook(roomy_settings) as running:
        yield running


# --------------------------------------------------------------------------- a sandbox whose clock tests move


SEED_AGE = timedelta(days=3)


class ShiftedClock:
    """The wall clock moved by `offset`; `freeze()` stops it (several events in the same second)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen or datetime.now(UTC) + self.offset

    def freeze(self) -> None:
        self.frozen = self()

    def advance(self, **delta: float) -> None:
        """Move on (a frozen clock stays frozen, at the later time)."""
        self.offset += timedelta(**delta)
        if self.frozen is not None:
            self.frozen += timedelta(**delta)


@pytest.fixture(scope="session")
def hotel_clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture(scope="session")
def _hotel(hotel_clock: ShiftedClock) -> Iterator[RunningSandbox]:
    with run_sandbox(SandboxConfig(seed=7, clock=hotel_clock, per_minute=1000, per_day=100_000)) as running:
        yield running


@pytest.fixture
def hotel(_hotel: RunningSandbox, hotel_clock: ShiftedClock) -> RunningSandbox:
    """A sandbox whose seed bookings were all made and last updated three days ago; its clock is the
    wall clock again (tests may move or freeze it through `hotel_clock`)."""
    hotel_clock.frozen, hotel_clock.offset = None, -SEED_AGE
    _hotel.control.reset()
    hotel_clock.offset = timedelta(0)
    return _hotel


@pytest.fixture
def hotel_settings(hotel: RunningSandbox, tmp_path: Path) -> Settings:
    """Server settings aimed at `hotel`, with a local quota no test waits for."""
    base = Settings(data_dir=tmp_path / "data", timeout_seconds=5.0, per_minute=1000, per_day=100_000)
    return settings_for(hotel, base)


def utc_today() -> date:
    """Today as the sandbox sees it (UTC), whatever the machine's time zone."""
    return datetime.now(UTC).date()
