"""`python -m hotelrunner_mcp` is the `hotelrunner-mcp` command."""

import sys

from hotelrunner_mcp.commands.cli import main

sys.exit(main())
