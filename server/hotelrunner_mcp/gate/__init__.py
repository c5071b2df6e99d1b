"""The gate between this server and HotelRunner: the quota limiter (5 a minute, 250 a day, counted by
arrival and shared by every process on the data folder) and the audit log around every request.

May import: `errors`, `storage`, and `hotelrunner.redact`. Knows nothing of tools, reservations or calendars.
"""
