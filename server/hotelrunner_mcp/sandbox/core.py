"""Sandbox: one HotelRunner stand-in (state, quota, faults, request log, pushes) and its ASGI app.
Serve `sandbox.app` with any ASGI server; `run_sandbox` does it with uvicorn on loopback."""

from __future__ import annotations

import threading

from starlette.applications import Starlette

from hotelrunner_mcp.sandbox.app import hotelrunner_routes
from hotelrunner_mcp.sandbox.config import SandboxConfig, Switches
from hotelrunner_mcp.sandbox.control import SandboxControl, admin_routes
from hotelrunner_mcp.sandbox.faults import Faults, make_fault
from hotelrunner_mcp.sandbox.log import RequestLog
from hotelrunner_mcp.sandbox.push import Pusher, PushHandle
from hotelrunner_mcp.sandbox.quota import Quota
from hotelrunner_mcp.sandbox.reservation import Reservation
from hotelrunner_mcp.sandbox.seed import populate
from hotelrunner_mcp.sandbox.state import SandboxState


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.stopping = threading.Event()  # set on shutdown: releases hanging requests
        self.log = RequestLog()
        self.quota = Quota(
            self.config.per_minute, self.config.per_day, self.config.minute_seconds, self.config.day_seconds
        )
        self.faults = Faults(self.config.seed)
        self.add_configured_faults()
        self.pusher = Pusher(self.config.push_timeout_seconds)
        self.callback_url = self.config.callback_url
        self.callback_duplicates = 0
        self.callback_encoding: str | None = None  # None: config.push_encoding
        self.callback_shape: str | None = None  # None: config.push_shape
        self.auto_pushes: list[PushHandle] = []
        self.switches = Switches.from_config(self.config)
        self.state = self.fresh_state()
        self.control = SandboxControl(self)
        self.app = Starlette(routes=[*admin_routes(self), *hotelrunner_routes(self)])

    def add_configured_faults(self) -> None:
        for spec in self.config.faults:
            self.faults.add(make_fault(**spec))

    def fresh_state(self) -> SandboxState:
        state = SandboxState(self.config.seed, self.config.clock, self.switches)
        if self.config.bookings is None:
            populate(state)
        else:  # a scale run: exactly N bookings, availability not checked
            populate(state, self.config.bookings, check_availability=False)
        state.listener = self.on_change
        return state

    def on_change(self, reservation: Reservation, reason: str) -> None:
        """Push a booking change to the callback URL, if one is set."""
        if self.callback_url is None:
            return
        cfg = self.config
        self.auto_pushes.append(
            self.pusher.push(
                self.callback_url,
                reservation.to_json(requires_response_field=self.switches.requires_response_field),
                reason,
                token=str(cfg.token),
                hr_id=str(cfg.hr_id),
                duplicates=self.callback_duplicates,
                retries=cfg.push_retries,
                backoff=cfg.push_backoff_seconds,
                encoding=self.callback_encoding or cfg.push_encoding,
                shape=self.callback_shape or cfg.push_shape,
            )
        )

    def reset(self) -> None:
        """Fresh seed state; quota, faults, switches and callback as configured; empty log and push list."""
        self.switches = Switches.from_config(self.config)
        self.state = self.fresh_state()
        cfg = self.config
        self.quota.configure(
            per_minute=cfg.per_minute,
            per_day=cfg.per_day,
            minute_seconds=cfg.minute_seconds,
            day_seconds=cfg.day_seconds,
        )
        self.quota.reset()
        self.faults.clear()
        self.add_configured_faults()
        self.callback_url, self.callback_duplicates = cfg.callback_url, 0
        self.callback_encoding = self.callback_shape = None
        self.auto_pushes.clear()
        self.log.clear()
