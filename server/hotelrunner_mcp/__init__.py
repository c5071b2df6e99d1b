"""hotelrunner-mcp: HotelRunner's channel manager as MCP tools, inside its quota."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hotelrunner-mcp")  # written once, in pyproject.toml
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
