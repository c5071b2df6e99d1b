"""Prompts: the two workflows a hotelier asks for most, written so they spend the least quota."""

from __future__ import annotations

from datetime import timedelta

from mcp.server.mcpserver import MCPServer

from hotelrunner_mcp.calendar.changes import property_today


def morning_briefing_text(read_only: bool = False) -> str:
    today = property_today()
    answer = (
        "they can only be answered in the HotelRunner panel (this server is read-only)"
        if read_only
        else "offer to answer each with respond_to_reservation: preview first (free), apply after my yes (1 request)"
    )
    week_end = today + timedelta(days=6)
    return f"""Give me this morning's briefing for the property (today is {today}, property time).

Use the HotelRunner tools, answering from the local mirror wherever you can:
1. get_reservation_changes since yesterday 00:00 UTC: what was booked, modified or canceled overnight.
2. get_reservations with awaiting_response=true: bookings still awaiting our confirm or cancel, oldest
   first (say who, which dates and how long each has waited); {answer}.
3. get_reservations arriving_from={today} arriving_to={today}, then departing_from/to={today}, then
   in_house_on={today}: names, rooms, nights, notes worth knowing (late arrival, allergies, transfers).
4. get_occupancy start={today} end={week_end} include_nights=false: occupancy, revenue and ADR this week.
Keep it short: a few lines per section, flag anything that needs a decision. Report the total quota
spent (the sum of quota_spent) at the end; it should be 0 to 2 requests."""


def change_prices_text(request: str) -> str:
    return f"""Change the calendar as follows: {request}

Work safely, this reaches Booking.com, Expedia and our website:
1. get_rooms (once) to find each room type's inv_code and which rate may change which field.
2. Put ALL the changes in ONE update_calendar call WITHOUT plan_id: it previews and sends nothing.
3. Show me the preview: each change in plain words, the previous values, any warnings, the number of
   requests it costs. Ask me to confirm. Do not apply without my explicit yes.
4. After my yes, call update_calendar again with exactly the same changes and the plan_id.
5. Tell me each request's status. If any is outcome_unknown or not_applied, explain what that means and
   do not resend on your own. A few minutes later, offer to run check_channel_results."""


def register(server: MCPServer, *, read_only: bool = False) -> None:
    """Add the morning_briefing prompt, and change_prices unless the server is read-only."""

    @server.prompt(
        title="Morning briefing",
        description="Overnight changes, bookings to confirm, today's arrivals and departures, this week's occupancy — for 0 to 2 requests.",
    )
    def morning_briefing() -> str:
        return morning_briefing_text(read_only)

    if read_only:
        return

    @server.prompt(
        title="Change prices safely",
        description="Preview a calendar change, confirm it with the user, then apply it with its plan id.",
    )
    def change_prices(request: str) -> str:
        """`request`: what to change, in plain words (e.g. "Suites +10 % every weekend in March")."""
        return change_prices_text(request)
