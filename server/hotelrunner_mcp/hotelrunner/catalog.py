"""Lists HotelRunner rarely changes, remembered for a while: the room list (every calendar write is
checked against it) and the connected channels with their distribution counts."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import anyio

from hotelrunner_mcp.hotelrunner.models import ConnectedChannel, Room

T = TypeVar("T")
CHANNELS_TTL_SECONDS = 300.0  # channel counts move with every update: remembered minutes, not a quarter hour


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """What was fetched at `fetched_at`; `cached` says this call spent no request."""

    value: T
    fetched_at: datetime
    cached: bool


class Remembered(Generic[T]):
    """One upstream read cached for `ttl_seconds`; concurrent callers share one fetch."""

    def __init__(self, fetch: Callable[[], Awaitable[T]], *, ttl_seconds: float) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._lock = anyio.Lock()
        self._value: Snapshot[T] | None = None
        self._fetched_mono = 0.0

    @property
    def fresh(self) -> bool:
        return self._value is not None and time.monotonic() - self._fetched_mono < self._ttl

    async def get(self, *, refresh: bool = False) -> Snapshot[T]:
        """The remembered value if fresh (no request), else one fetch."""
        async with self._lock:
            if not refresh and self.fresh and self._value is not None:
                return Snapshot(self._value.value, self._value.fetched_at, cached=True)
            value = await self._fetch()
            self._value, self._fetched_mono = Snapshot(value, datetime.now(UTC), cached=False), time.monotonic()
            return self._value


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
        self._remembered = Remembered(fetch, ttl_seconds=ttl_seconds)

    @property
    def fresh(self) -> bool:
        return self._remembered.fresh

    async def get(self, *, refresh: bool = False) -> RoomSnapshot:
        """The cached rooms if fresh (no request), else one GET /rooms."""
        found = await self._remembered.get(refresh=refresh)
        return RoomSnapshot(found.value, found.fetched_at, found.cached)


ChannelCatalog = Remembered[list[ConnectedChannel]]
"""GET /infos/connected_channels, remembered CHANNELS_TTL_SECONDS."""
