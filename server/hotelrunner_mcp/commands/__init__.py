"""The command line: `hotelrunner-mcp [serve | check [--probe] | demo | sandbox | webhook]`, and how a
server is pointed at the embedded sandbox.

May import anything of the package: it is the outermost layer.
"""
