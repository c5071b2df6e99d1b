"""A faithful HotelRunner HR-v1 stand-in on loopback, for demos, tests and rehearsal.

It stands for HotelRunner, not for our client: nothing here imports the rest of hotelrunner_mcp.

    from hotelrunner_mcp.sandbox import SandboxConfig, run_sandbox
    with run_sandbox(SandboxConfig(seed=7)) as sb:
        sb.base_url, sb.token, sb.hr_id, sb.admin_url, sb.admin_key, sb.control
"""

from hotelrunner_mcp.sandbox.config import SandboxConfig
from hotelrunner_mcp.sandbox.control import SandboxControl
from hotelrunner_mcp.sandbox.core import Sandbox
from hotelrunner_mcp.sandbox.errors import SandboxError
from hotelrunner_mcp.sandbox.log import LoggedRequest
from hotelrunner_mcp.sandbox.push import PushHandle
from hotelrunner_mcp.sandbox.runner import RunningSandbox, main, run_sandbox

__all__ = [
    "LoggedRequest",
    "PushHandle",
    "RunningSandbox",
    "Sandbox",
    "SandboxConfig",
    "SandboxControl",
    "SandboxError",
    "main",
    "run_sandbox",
]
