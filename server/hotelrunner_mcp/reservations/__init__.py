"""Reservations: the local mirror (every version kept), the incremental sync that feeds it, the push
receiver, the queries answered from it, the lookups that may reach HotelRunner, answering bookings that
await the property (confirm, cancel) and acknowledging deliveries.

May import: `errors`, `config`, `storage`, `gate.audit`, `hotelrunner` (models, and the client through
`services`), `calendar.plans` (answers share the calendar's plan ids). Never imports the MCP surface.
"""
