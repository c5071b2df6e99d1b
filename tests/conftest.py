"""Shared fixtures. `sandbox`: a HotelRunner sandbox on loopback with fresh state per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hotelrunner_mcp.sandbox import RunningSandbox, SandboxConfig, run_sandbox

GENEROUS_QUOTA = {"per_minute": 1000, "per_day": 100_000}


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[RunningSandbox]:
    """One sandbox server per test session; `sandbox` resets it before each test."""
    with run_sandbox(SandboxConfig(seed=7, **GENEROUS_QUOTA)) as running:
        yield running


@pytest.fixture
def sandbox(_sandbox_server: RunningSandbox) -> RunningSandbox:
    """A running sandbox with fresh seed state, no faults, an empty request log and a generous
    quota (tests about quota call `sandbox.control.set_quota(...)`)."""
    _sandbox_server.control.reset()
    return _sandbox_server


from client_rig import rig, stub, stub_rig  # noqa: E402,F401  (client-level fixtures, shared by test modules)
