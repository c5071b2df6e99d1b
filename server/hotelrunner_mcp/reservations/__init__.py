"""Reservations: the local mirror (every version kept), the incremental sync that feeds it, the push
receiver, the queries answered from it, and the lookups that may reach HotelRunner.

May import: `errors`, `config`, `storage`, `gate.audit`, `hotelrunner` (models, and the client through
`services`). Never imports the MCP surface.
"""
