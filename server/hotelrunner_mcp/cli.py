"""Command line: serve on stdio (default), check, demo, sandbox, webhook."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    print("not built yet", file=sys.stderr)
    return 1
