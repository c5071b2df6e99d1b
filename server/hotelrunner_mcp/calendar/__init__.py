"""The calendar: changes as an agent asks for them and their validation, the compiler that packs them into
the fewest requests, the ledger of what this server set, the plan ids that bind a preview to its apply,
and the service that runs preview → plan id → apply.

May import: `errors`, `config`, `storage`, `gate.audit`, `hotelrunner` (models, and the client through
`services`), `reservations` (for the prices guests pay). Never imports the MCP surface.
"""
