"""The server's long-lived parts, built once from the settings and shared by every tool and resource."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotelrunner_mcp.calendar.ledger import CalendarLedger
from hotelrunner_mcp.calendar.plans import PlanStore, plans_db_path
from hotelrunner_mcp.config import Settings, prepare_data_dir
from hotelrunner_mcp.errors import NotConfigured, RecordingUnavailable
from hotelrunner_mcp.gate.audit import AuditLog
from hotelrunner_mcp.gate.gate import Gate
from hotelrunner_mcp.gate.quota import QuotaLimiter, quota_db_path, quota_key
from hotelrunner_mcp.hotelrunner.catalog import CHANNELS_TTL_SECONDS, ChannelCatalog, RoomCatalog
from hotelrunner_mcp.hotelrunner.client import HotelRunnerClient
from hotelrunner_mcp.hotelrunner.models import ReservationPage
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.reservations.acknowledge import DeliveryAcks
from hotelrunner_mcp.reservations.mirror import ReservationStore
from hotelrunner_mcp.reservations.sync import ReservationSync
from hotelrunner_mcp.storage.data_folder import claim, folder_salt
from hotelrunner_mcp.storage.sqlite import mirror_db_path


@contextmanager
def data_file(path: Path) -> Iterator[None]:
    """Opening one SQLite file of the data folder: a corrupt file or a full disk is named, with what to do."""
    try:
        yield
    except (sqlite3.DatabaseError, OSError) as exc:
        raise RecordingUnavailable(
            f"{path} cannot be used ({type(exc).__name__}: {exc}). Free disk space if it is full; if the file is "
            f"damaged, move it aside (the server starts a new one: the mirror re-syncs, plans and the ledger restart "
            "empty). Nothing was sent."
        ) from None


@dataclass
class Services:
    """Everything a tool needs. `client` is None until HOTELRUNNER_TOKEN and HOTELRUNNER_HR_ID are set."""

    settings: Settings
    redactor: Redactor
    audit: AuditLog
    limiter: QuotaLimiter
    gate: Gate
    client: HotelRunnerClient | None
    catalog: RoomCatalog
    channels: ChannelCatalog
    plans: PlanStore
    store: ReservationStore
    ledger: CalendarLedger
    acks: DeliveryAcks
    sync: ReservationSync
    lookup_misses: dict[str, float] = field(default_factory=dict)  # number -> when HotelRunner said "unknown"

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Create the data folder and every service over it. Needs no credentials."""
        prepare_data_dir(settings.data_dir)
        claim(settings.data_dir, settings.base_url, settings.hr_id)
        salt = folder_salt(settings.data_dir)
        redactor = Redactor([settings.token, settings.hr_id])
        audit = AuditLog(settings.audit_file, redactor)
        with data_file(quota_db_path(settings.data_dir)):
            limiter = QuotaLimiter(
                quota_db_path(settings.data_dir),
                key=quota_key(settings.hr_id, settings.base_url, salt),
                per_minute=settings.per_minute,
                per_day=settings.per_day,
                minute_seconds=settings.minute_seconds,
                day_seconds=settings.day_seconds,
                max_wait_seconds=settings.max_quota_wait_seconds,
                request_timeout_seconds=settings.timeout_seconds,
            )
            if salt is not None:  # rows counted before keys were salted keep counting
                limiter.adopt(quota_key(settings.hr_id, settings.base_url))
        gate = Gate(limiter, audit, redactor)
        client = HotelRunnerClient(settings, gate) if settings.configured else None
        with data_file(mirror_db_path(settings.data_dir)):
            store = ReservationStore(mirror_db_path(settings.data_dir))
            ledger = CalendarLedger(mirror_db_path(settings.data_dir))
            acks = DeliveryAcks(mirror_db_path(settings.data_dir))  # after the mirror: its triggers watch it
        with data_file(plans_db_path(settings.data_dir)):
            plans = PlanStore(plans_db_path(settings.data_dir), ttl_seconds=settings.plan_ttl_seconds)
        return cls(
            settings=settings,
            redactor=redactor,
            audit=audit,
            limiter=limiter,
            gate=gate,
            client=client,
            catalog=RoomCatalog(lambda: cls._require(client).get_rooms(), ttl_seconds=settings.rooms_ttl_seconds),
            channels=ChannelCatalog(
                lambda: cls._require(client).get_connected_channels(),
                ttl_seconds=min(CHANNELS_TTL_SECONDS, settings.rooms_ttl_seconds),
            ),
            plans=plans,
            store=store,
            ledger=ledger,
            acks=acks,
            sync=ReservationSync(
                _LazyClient(client),
                store,
                max_age_seconds=settings.mirror_max_age_seconds,
                free_slots=lambda: limiter.status().left_this_minute,
            ),
        )

    def require_client(self) -> HotelRunnerClient:
        """The client, or NotConfigured with how to set credentials (nothing sent)."""
        return self._require(self.client)

    @staticmethod
    def _require(client: HotelRunnerClient | None) -> HotelRunnerClient:
        if client is None:
            raise NotConfigured(
                "HotelRunner credentials are not set, so nothing was sent. Set HOTELRUNNER_TOKEN and "
                "HOTELRUNNER_HR_ID (HotelRunner panel → Custom Apps → your app → 'Identifiants' tab) in the "
                "environment or in .env.local, then restart the server. Read the resource "
                "hotelrunner://setup-status for details, or start with --sandbox to rehearse on test data."
            )
        return client

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        for closable in (self.plans, self.store, self.ledger, self.acks, self.limiter):
            closable.close()


class _LazyClient:
    """Lets the sync be built without credentials; using it then raises NotConfigured."""

    def __init__(self, client: HotelRunnerClient | None) -> None:
        self._client = client

    async def get_reservations(self, **query: Any) -> ReservationPage:
        return await Services._require(self._client).get_reservations(**query)
