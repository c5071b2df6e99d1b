"""The MCP surface: the server, its tools, resources and prompts, and the guide agents read.

May import: `services` and the service packages (`reservations`, `calendar`), `hotelrunner.models`,
`errors`, `config`. Never the HotelRunner client or an HTTP library: tools call services, services
call the client, the client calls the gate.
"""
