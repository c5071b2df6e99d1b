"""The room list, remembered for a while: every calendar write is checked against it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio

from hotelrunner_mcp.hotelrunner.models import Room


@dataclass(frozen=True)
class RoomSnapshot:
    """The rooms as fetched at `fetched_at`; `cached` says this call spent no request."""

    rooms: list[Room]
    fetched_at: datetime
    cached: bool

    def room_types(self) -> dict[str, list[Room]]:
        """Rates grouped by inv_code, in the order HotelRunner listed them."""
        grouped: dict[str, list[Room]] = {}
        for room in self.rooms:
            grouped.setdefault(room.inv_code, []).append(room)
        return grouped


class RoomCatalog:
    """Caches GET /rooms for `ttl_seconds`; concurrent callers share one fetch."""

    def __init__(self, fetch: Callable[[], Awaitable[list[Room]]], *, ttl_seconds: float) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._lock = anyio.Lock()
        self._rooms: list[Room] | None = None
        self._fetched_at: datetime | None = None
        self._fetched_mono = 0.0

    @property
    def fresh(self) -> bool:
        return self._rooms is not None and time.monotonic() - self._fetched_mono < self._ttl

    async def get(self, *, refresh: bool = False) -> RoomSnapshot:
        """The cached rooms if fresh (no request), else one GET /rooms."""
        async with self._lock:
            if not refresh and self.fresh:
                assert self._rooms is not None and self._fetched_at is not None
                return RoomSnapshot(self._rooms, self._fetched_at, cached=True)
            rooms = await self._fetch()
            self._rooms, self._fetched_at, self._fetched_mono = rooms, datetime.now(UTC), time.monotonic()
            return RoomSnapshot(rooms, self._fetched_at, cached=False)
