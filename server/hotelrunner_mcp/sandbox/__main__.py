"""`python -m hotelrunner_mcp.sandbox [--host] [--port] [--seed] [--per-minute] [--per-day]`."""

import sys

from hotelrunner_mcp.sandbox.runner import main

sys.exit(main())
