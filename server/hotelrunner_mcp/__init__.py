"""hotelrunner-mcp: HotelRunner's channel manager as MCP tools, inside its quota."""

__version__ = "0.1.0"
