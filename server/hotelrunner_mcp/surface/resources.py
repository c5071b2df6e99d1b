"""Resources: the setup status (what is configured, what is missing, quota) and the guide for agents."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from mcp.server.mcpserver import MCPServer

from hotelrunner_mcp.commands.probe import load_probe
from hotelrunner_mcp.errors import HotelRunnerError
from hotelrunner_mcp.gate.quota import iso_utc
from hotelrunner_mcp.reservations.acknowledge import describe as describe_acknowledgements
from hotelrunner_mcp.reservations.responses import PLAN_KIND as RESPONSE_PLAN
from hotelrunner_mcp.services import Services
from hotelrunner_mcp.surface.tools.runtime import ToolRuntime

SETUP_STATUS_URI = "hotelrunner://setup-status"
GUIDE_URI = "hotelrunner://guide"
CHANGES_URI = "hotelrunner://reservations/changes"
LATEST_CHANGES = 50

CREDENTIAL_HELP = (
    "In the HotelRunner panel open Custom Apps → your app (HR-v1) → the 'Identifiants' (credentials) tab, "
    "copy TOKEN and HR_ID, and put HOTELRUNNER_TOKEN=… and HOTELRUNNER_HR_ID=… in the environment of the "
    "MCP server (Claude Desktop's config 'env', `claude mcp add -e`, or a .env.local file), then restart it."
)


def guide_text() -> str:
    return files("hotelrunner_mcp.surface").joinpath("guide.md").read_text(encoding="utf-8")


def setup_status(runtime: ToolRuntime) -> dict[str, Any]:
    """Everything a person or agent needs to know to get the server working (no secrets)."""
    s = runtime.settings
    status: dict[str, Any] = {
        "ready": s.configured,
        "environment": s.environment,
        "credentials": {
            "HOTELRUNNER_TOKEN": "set" if s.token else "missing",
            "HOTELRUNNER_HR_ID": "set" if s.hr_id else "missing",
        },
        "base_url": s.base_url,
        "read_only": s.read_only,
        "apply_without_preview": s.apply_without_preview,
        "data_dir": str(s.data_dir),
        "audit_log": str(s.audit_file),
        "settings_files_read": list(s.sources),
        "room_counts": dict(s.room_counts) or "unknown: set HOTELRUNNER_ROOM_COUNTS for occupancy %",
    }
    if s.missing:
        status["missing"] = s.missing
        status["how_to_fix"] = CREDENTIAL_HELP
    probe = load_probe(s.data_dir)
    status["docs_readings_probe"] = (
        {"probed_at": probe.get("probed_at"), "findings": probe.get("findings")}
        if probe
        else "not run: `hotelrunner-mcp check --probe` settles, read-only, what HotelRunner's docs leave open"
    )
    try:
        services = runtime.services()
        _add_live_status(status, services)
    except HotelRunnerError as exc:
        status["ready"] = False
        status["data_problem"] = exc.message
    except Exception as exc:  # the status must always answer, and say what is broken
        status["ready"] = False
        status["data_problem"] = f"reading the data folder {s.data_dir} failed ({type(exc).__name__}: {exc})"
    return status


def _add_live_status(status: dict[str, Any], services: Services) -> None:
    """Quota, mirror and plans: what the data folder knows right now."""
    quota = services.limiter.status()
    status["quota"] = {
        "per_minute": quota.per_minute,
        "per_day": quota.per_day,
        "used_last_minute": quota.used_last_minute,
        "used_last_24h": quota.used_today,
        "left_last_24h": quota.left_today,
        "next_free_at": quota.next_free_at,
        "blocked_by_hotelrunner_until": quota.blocked_until,
    }
    last = services.gate.last_success_at
    status["last_successful_call"] = last.isoformat() if last else "none since this server started"
    unfinished = services.plans.interrupted()
    if unfinished:
        calendar = [p for p in unfinished if (p.summary or {}).get("kind") != RESPONSE_PLAN]
        answers = [p for p in unfinished if (p.summary or {}).get("kind") == RESPONSE_PLAN]
        if calendar:
            status["interrupted_calendar_changes"] = [
                f"plan {p.plan_id}, applied at {iso_utc(p.used_at)}: the server stopped before recording "
                "HotelRunner's answer, so its outcome is unknown; check get_calendar, check_channel_results or the "
                "HotelRunner panel"
                for p in calendar
            ]
        if answers:
            status["interrupted_booking_answers"] = [
                f"plan {p.plan_id} ({(p.summary or {}).get('action')} booking {(p.summary or {}).get('hr_number')}), "
                f"sent at {iso_utc(p.used_at)}: the server stopped before HotelRunner's answer was recorded, so its "
                "outcome is unknown; look the booking up (get_reservations with its number and refresh=true) before "
                "anything else"
                for p in answers
            ]
    status["reservation_mirror"] = {
        "reservations": services.store.count(),
        "freshness": services.sync.freshness.describe(),
    }
    status["delivery_acknowledgement"] = describe_acknowledgements(services)


def register(server: MCPServer, runtime: ToolRuntime) -> None:
    """Add the setup-status, guide and reservation-changes resources."""

    @server.resource(
        SETUP_STATUS_URI,
        name="setup-status",
        title="HotelRunner setup status",
        description="Credentials present or missing (and how to get them), live or sandbox, quota used and left, "
        "data and audit log paths, mirror freshness. Reading it costs no quota.",
        mime_type="application/json",
    )
    def read_setup_status() -> str:
        return json.dumps(setup_status(runtime), indent=2, default=str)

    @server.resource(
        GUIDE_URI,
        name="guide",
        title="How to use the HotelRunner tools well",
        description="What each tool costs, how to batch calendar changes, what reservation states mean.",
        mime_type="text/markdown",
    )
    def read_guide() -> str:
        return guide_text()

    @server.resource(
        CHANGES_URI,
        name="reservation-changes",
        title="Latest reservation changes",
        description="The 50 latest new or changed reservations seen (pushes, syncs, lookups). Updated when a push "
        "arrives; subscribe to be told. Costs no quota.",
        mime_type="application/json",
    )
    def read_changes() -> str:
        store = runtime.services().store
        events = store.latest_changes(LATEST_CHANGES)
        latest = events[-1].id if events else 0
        return json.dumps({"latest_change_id": latest, "changes": [e.__dict__ for e in events]}, indent=2, default=str)
