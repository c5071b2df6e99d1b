"""The architecture, enforced: which package may import which (the equivalent of import-linter
contracts, read from every module's imports with `ast`).

- the sandbox imports nothing of ours (it stands for HotelRunner, not for our client);
- only the HotelRunner client and the gate touch an HTTP client library;
- the MCP surface never reaches the HotelRunner client: tools call services;
- nothing below the surface imports it (reservations, calendar, gate, storage, hotelrunner);
- storage depends on errors only; the gate on storage, errors and redaction only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "server" / "hotelrunner_mcp"
HTTP_LIBRARIES = ("httpx", "httpx2", "httpcore", "requests", "urllib3", "aiohttp")


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                package = _module(path).split(".")
                if path.name != "__init__.py":
                    package = package[:-1]
                found.add(".".join([*package[: len(package) - (node.level - 1)], node.module]))
            else:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _ours(imported: set[str]) -> set[str]:
    return {name for name in imported if name.split(".")[0] == "hotelrunner_mcp"}


def _violations(inside: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for module, imported in MODULES.items():
        if not _in(module, inside) or any(_in(module, a) for a in allowed):
            continue
        found += [f"{module} imports {name}" for name in imported if any(_in(name, f) for f in forbidden)]
    return found


def test_the_sandbox_imports_nothing_of_ours() -> None:
    leaks = [
        f"{m} imports {n}"
        for m, i in MODULES.items()
        if _in(m, "hotelrunner_mcp.sandbox")
        for n in _ours(i)
        if not _in(n, "hotelrunner_mcp.sandbox")
    ]
    assert leaks == []


def test_only_the_client_and_the_gate_touch_http() -> None:
    # surface.auth fetches an identity provider's signing keys (OAuth), never anything of HotelRunner's
    allowed = {"hotelrunner_mcp.hotelrunner.client", "hotelrunner_mcp.gate.gate", "hotelrunner_mcp.surface.auth"}
    users = sorted(
        m
        for m, i in MODULES.items()
        if not _in(m, "hotelrunner_mcp.sandbox") and any(n.split(".")[0] in HTTP_LIBRARIES for n in i)
    )
    assert set(users) <= allowed, users


@pytest.mark.parametrize(
    ("inside", "forbidden"),
    [
        # tools call services; only the quota-wait notices (a context variable of the gate) are wired from here
        (
            "hotelrunner_mcp.surface",
            (
                "hotelrunner_mcp.hotelrunner.client",
                "hotelrunner_mcp.gate.gate.Gate",
                "hotelrunner_mcp.gate.quota.QuotaLimiter",
            ),
        ),
        ("hotelrunner_mcp.reservations", ("hotelrunner_mcp.surface", "hotelrunner_mcp.commands")),
        ("hotelrunner_mcp.calendar", ("hotelrunner_mcp.surface", "hotelrunner_mcp.commands")),
        (
            "hotelrunner_mcp.hotelrunner",
            (
                "hotelrunner_mcp.surface",
                "hotelrunner_mcp.commands",
                "hotelrunner_mcp.reservations",
                "hotelrunner_mcp.calendar",
                "hotelrunner_mcp.services",
            ),
        ),
        (
            "hotelrunner_mcp.gate",
            (
                "hotelrunner_mcp.surface",
                "hotelrunner_mcp.commands",
                "hotelrunner_mcp.reservations",
                "hotelrunner_mcp.calendar",
                "hotelrunner_mcp.services",
                "hotelrunner_mcp.hotelrunner.client",
                "hotelrunner_mcp.hotelrunner.models",
                "hotelrunner_mcp.config",
            ),
        ),
        (
            "hotelrunner_mcp.storage",
            (
                "hotelrunner_mcp.surface",
                "hotelrunner_mcp.commands",
                "hotelrunner_mcp.reservations",
                "hotelrunner_mcp.calendar",
                "hotelrunner_mcp.services",
                "hotelrunner_mcp.hotelrunner",
                "hotelrunner_mcp.gate",
                "hotelrunner_mcp.config",
            ),
        ),
    ],
)
def test_each_layer_keeps_to_its_imports(inside: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(inside, forbidden) == []


def test_the_contracts_see_real_imports() -> None:
    """A guard against a scanner that finds nothing (and so passes everything)."""
    assert "hotelrunner_mcp.gate.gate" in MODULES["hotelrunner_mcp.hotelrunner.client"]
    assert any(_in(n, "hotelrunner_mcp.services") for n in MODULES["hotelrunner_mcp.surface.tools.runtime"])
