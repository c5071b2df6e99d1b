"""The command line: `hotelrunner-mcp [serve | check [--probe] | sync | demo | sandbox | webhook | token]`, and how a
server is pointed at the embedded sandbox.

May import anything of the package: it is the outermost layer.
"""
