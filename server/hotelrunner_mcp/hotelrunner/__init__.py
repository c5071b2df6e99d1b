"""HotelRunner's HR-v1 API as this server speaks it: the client (one method per endpoint), the payload
models, the typed errors' upstream mapping, redaction of the token and hr_id, and the remembered room list.

May import: `hotelrunner_mcp.errors`, `hotelrunner_mcp.config`, and `gate` (every request goes through it).
Only `client.py` holds an HTTP client; nothing else in the package talks HTTP to HotelRunner.
"""
