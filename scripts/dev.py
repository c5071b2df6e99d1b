#!/usr/bin/env python3
"""Set up the project in ./.venv if needed, then run the demo, the tests or any project command.

    python3 scripts/dev.py demo      # the real server, driven by a real MCP client, against the sandbox
    python3 scripts/dev.py test      # ruff, ruff format --check and mypy --strict, then the test suite
                                     # (extra arguments go to pytest)
    python3 scripts/dev.py bench     # the benchmarks under bench/
    python3 scripts/dev.py docs      # rewrite the docs the code defines (tool/settings tables, .env.example)
    python3 scripts/dev.py run ARGS  # `hotelrunner-mcp ARGS` inside the venv

Needs only Python 3.11+ with pip and venv. The install is redone only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


CHECKS = (
    ("ruff", "check", "server", "tests", "bench", "scripts"),
    ("ruff", "format", "--check", "server", "tests", "bench", "scripts"),
    ("mypy",),
)


def _say(message: str) -> None:
    print(f"[dev] {message}", file=sys.stderr, flush=True)


def ensure_venv() -> None:
    """Create .venv and install the project with its test extras, unless already up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what runs on an older Python to say so
        sys.exit(f"hotelrunner-mcp needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        _say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    _say("installing hotelrunner-mcp and its test tools (first run only)")
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", f"{ROOT}[test]"],
        check=True,
    )
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    ensure_venv()
    if command == "test":
        for check in CHECKS:  # fast, and failing the run: the habits are part of the tests
            _say("running " + " ".join(check))
            if subprocess.run([str(BIN / check[0]), *check[1:]], cwd=ROOT).returncode:
                _say(f"{check[0]} failed: fix what it reports (`ruff format` and `ruff check --fix` mend most of it)")
                return 1
        cmd = [str(PYTHON), "-m", "pytest", *rest]
    elif command == "docs":
        cmd = [str(PYTHON), "-m", "hotelrunner_mcp.commands.docs", *rest]
    elif command == "demo":
        cmd = [str(PYTHON), "-m", "hotelrunner_mcp", "demo", *rest]
    elif command == "bench":
        scripts = sorted((ROOT / "bench").glob("*.py"))
        code = 0
        for script in scripts:
            _say(f"running {script.relative_to(ROOT)}")
            code |= subprocess.run([str(PYTHON), str(script), *rest], cwd=ROOT).returncode
        return code
    elif command == "run":
        cmd = [str(PYTHON), "-m", "hotelrunner_mcp", *rest]
    else:
        print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    return subprocess.run(cmd, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
