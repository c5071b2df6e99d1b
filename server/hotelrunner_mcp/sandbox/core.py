"""Sandbox: one HotelRunner stand-in (state, quota, faults, request log, pushes) and its ASGI app.
Serve `sandbox.app` with any ASGI server; `run_sandbox` does it with uvicorn on loopback."""

from __future__ import annotations

import threading

from starlette.applications import Starlette

from hotelrunner_mcp.sandbox.app import hotelrunner_routes
from hotelrunner_mcp.sandbox.config import SandboxConfig
from hotelrunner_mcp.sandbox.control import SandboxControl, admin_routes
from hotelrunner_mcp.sandbox.faults import Faults, make_fault
from hotelrunner_mcp.sandbox.log import RequestLog
from hotelrunner_mcp.sandbox.push import Pusher
from hotelrunner_mcp.sandbox.quota import Quota
from hotelrunner_mcp.sandbox.seed import populate
from hotelrunner_mcp.sandbox.state import SandboxState


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.stopping = threading.Event()  # set on shutdown: releases hanging requests
        self.log = RequestLog()
        self.quota = Quota(self.config.per_minute, self.config.per_day, self.config.minute_seconds, self.config.day_seconds)
        self.faults = Faults(self.config.seed)
        self.add_configured_faults()
        self.pusher = Pusher(self.config.push_timeout_seconds)
        self.state = self.fresh_state()
        self.control = SandboxControl(self)
        self.app = Starlette(routes=[*admin_routes(self), *hotelrunner_routes(self)])

    def add_configured_faults(self) -> None:
        for spec in self.config.faults:
            self.faults.add(make_fault(**spec))

    def fresh_state(self) -> SandboxState:
        state = SandboxState(self.config.seed, self.config.clock)
        populate(state)
        return state

    def reset(self) -> None:
        """Fresh seed state, quota back to the configured limits, only the configured faults, empty log."""
        self.state = self.fresh_state()
        cfg = self.config
        self.quota.configure(per_minute=cfg.per_minute, per_day=cfg.per_day, minute_seconds=cfg.minute_seconds, day_seconds=cfg.day_seconds)
        self.quota.reset()
        self.faults.clear()
        self.add_configured_faults()
        self.log.clear()
