"""A HotelRunnerClient wired as the server wires it (gate, quota, audit), for client-level tests: against
the sandbox (`rig`) or the scriptable stub upstream (`stub`, `stub_rig`). Fixtures are re-exported by
tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.gate.audit import AuditLog, read_audit
from hotelrunner_mcp.gate.gate import Gate
from hotelrunner_mcp.gate.quota import QuotaLimiter
from hotelrunner_mcp.hotelrunner.client import HotelRunnerClient
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.sandbox import RunningSandbox
from stub_upstream import StubUpstream, run_stub


@dataclass
class Rig:
    client: HotelRunnerClient
    limiter: QuotaLimiter
    audit_path: Path
    secrets: tuple[str, ...]

    @property
    def used(self) -> int:
        return self.limiter.status().used_today

    def audit(self, event: str | None = None) -> list[dict]:
        return [r for r in read_audit(self.audit_path) if event is None or r["event"] == event]


def make_rig(tmp_path: Path, base_url: str, token: str | None, hr_id: str | None, **settings: object) -> Rig:
    config = Settings(token=token, hr_id=hr_id, base_url=base_url, data_dir=tmp_path, timeout_seconds=0.3, **settings)  # type: ignore[arg-type]
    redactor = Redactor([token, hr_id])
    limiter = QuotaLimiter(tmp_path / "quota.db", key="test", per_minute=100, per_day=250)
    gate = Gate(limiter, AuditLog(config.audit_file, redactor), redactor)
    return Rig(HotelRunnerClient(config, gate), limiter, config.audit_file, tuple(s for s in (token, hr_id) if s))


def assert_no_secret_on_disk(tmp_path: Path, secrets: tuple[str, ...]) -> None:
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(s.encode() in data for s in secrets), path


def assert_clean(error: BaseException, secrets: tuple[str, ...]) -> None:
    """No secret in the message, the repr, or anything chained to it."""
    seen: BaseException | None = error
    while seen is not None:
        for text in (str(seen), repr(seen)):
            assert not any(s in text for s in secrets), text
        seen = seen.__cause__ or seen.__context__


@pytest.fixture
async def rig(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Rig]:
    rig = make_rig(tmp_path, sandbox.base_url, sandbox.token, sandbox.hr_id)
    async with rig.client:
        yield rig
    assert_no_secret_on_disk(tmp_path, rig.secrets)  # whatever the test did


@pytest.fixture
def stub() -> Iterator[StubUpstream]:
    with run_stub() as upstream:
        yield upstream


@pytest.fixture
async def stub_rig(stub: StubUpstream, tmp_path: Path) -> AsyncIterator[Rig]:
    rig = make_rig(tmp_path, stub.base_url, "tok-SECRET-31337", "hr-424242")
    async with rig.client:
        yield rig
    assert_no_secret_on_disk(tmp_path, rig.secrets)
