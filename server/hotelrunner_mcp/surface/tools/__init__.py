"""The MCP tools, one module per group. Tools call services; they never talk HTTP."""
