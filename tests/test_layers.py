"""The architecture, enforced: which package may import which (the equivalent of import-linter
contracts, read from every module's imports with `ast`).

- the sandbox imports nothing of ours (it stands for HotelRunner, not for our client);
- only the HotelRunner client and the gate touch an HTTP client library;
- the MCP surface never reaches the HotelRunner client: tools call services;
- nothing below the surface imports it (reservations, calendar, gate, storage, hotelrunner);
- storage depends on errors only; the gate on storage, errors and redaction only;
- async code never calls a SQLite-backed store on the event loop (see `off_loop_violations`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
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


# --------------------------------------------------------------------------- nothing blocks the event loop

STORES = frozenset({"store", "ledger", "plans", "acks", "limiter"})
"""The names the SQLite-backed stores go by, with or without leading underscores (services.store, self._store,
acks = services.acks): ReservationStore, CalendarLedger, PlanStore, DeliveryAcks, QuotaLimiter."""
NO_IO = frozenset({("limiter", "now"), ("limiter", "bounded_retry_after")})  # a clock and arithmetic
LOOP_FREE = ("hotelrunner_mcp.sandbox", "hotelrunner_mcp.commands")  # HotelRunner's stand-in; the CLI's own loops
Key = tuple[str, ...]  # (module, function) or (module, class, method)


def _own(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The nodes of a body, not those of the functions and lambdas defined in it (they run where they are passed)."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        yield node
        todo += [
            n
            for n in ast.iter_child_nodes(node)
            if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        ]


def _store_method(call: ast.Call) -> bool:
    """`<...>.store.get(...)`, `acks.claim()`, `self._ledger.query(...)`: a store's method called right here."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    holder = func.value.id if isinstance(func.value, ast.Name) else getattr(func.value, "attr", "")
    return holder.lstrip("_") in STORES and (holder.lstrip("_"), func.attr) not in NO_IO


def off_loop_violations(modules: Mapping[str, ast.Module]) -> list[str]:
    """Where an `async def` runs SQLite on the event loop instead of `await off_loop(fn, ...)` (storage/offloop.py):

    1. it calls a store's method without awaiting it (an awaited one is the store's own async API, which hops);
    2. it calls a sync function that does 1 (directly or through other such functions), named unambiguously:
       `self.method(...)` of its own class, or `f(...)` defined in its module or imported from our package;
    3. it reads a property that does 1 (ReservationSync.freshness);
    4. inside `finally:` or `except BaseException:` it awaits `off_loop`, which a cancellation skips: a cleanup
       there takes `off_loop_shielded`.
    Sync tools and resources are not checked: the MCP SDK runs them in worker threads.
    """
    functions: dict[Key, tuple[ast.FunctionDef, str | None]] = {}
    asyncs: list[tuple[str, str | None, ast.AsyncFunctionDef]] = []
    imported: dict[tuple[str, str], Key] = {}
    for module, tree in modules.items():
        owners = {id(m): top.name for top in tree.body if isinstance(top, ast.ClassDef) for m in top.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hotelrunner_mcp"):
                imported.update({(module, a.asname or a.name): (node.module, a.name) for a in node.names})
            elif isinstance(node, ast.AsyncFunctionDef):
                asyncs.append((module, owners.get(id(node)), node))
        for top in tree.body:
            members = [(top.name, m) for m in top.body] if isinstance(top, ast.ClassDef) else [(None, top)]
            for owner, member in members:
                if isinstance(member, ast.FunctionDef):
                    key = (module, member.name) if owner is None else (module, owner, member.name)
                    functions[key] = (member, owner)

    def callee(module: str, owner: str | None, call: ast.Call) -> Key | None:
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self" and owner:
            return (module, owner, func.attr)
        if isinstance(func, ast.Name):
            return (module, func.id) if (module, func.id) in functions else imported.get((module, func.id))
        return None

    touching: set[Key] = set()
    while True:  # the sync functions that reach a store, to a fixpoint
        more = {
            key
            for key, (fn, owner) in functions.items()
            if key not in touching
            and any(
                isinstance(n, ast.Call) and (_store_method(n) or callee(key[0], owner, n) in touching)
                for n in _own(fn.body)
            )
        }
        if not more:
            break
        touching |= more
    properties = {
        key[-1]
        for key in touching
        if any(isinstance(d, ast.Name) and d.id == "property" for d in functions[key][0].decorator_list)
    }

    found: list[str] = []
    for module, owner, fn in asyncs:
        nodes = list(_own(fn.body))
        awaited = {id(n.value) for n in nodes if isinstance(n, ast.Await)}
        cleanups: set[int] = set()
        for t in (n for n in nodes if isinstance(n, ast.Try)):
            bodies = [
                t.finalbody,
                *(h.body for h in t.handlers if h.type is None or ast.unparse(h.type) == "BaseException"),
            ]
            cleanups |= {id(n) for body in bodies for statement in body for n in ast.walk(statement)}
        for n in nodes:
            where = f"{module}:{getattr(n, 'lineno', '?')} async {fn.name}"
            calls = isinstance(n, ast.Call) and id(n) not in awaited
            if calls and (_store_method(n) or callee(module, owner, n) in touching):
                found.append(f"{where} calls {ast.unparse(n.func)}(...) on the event loop")
            if isinstance(n, ast.Attribute) and n.attr in properties and isinstance(n.ctx, ast.Load):
                found.append(f"{where} reads {ast.unparse(n)}, which reads a store, on the event loop")
            if isinstance(n, ast.Call) and id(n) in cleanups and ast.unparse(n.func) == "off_loop":
                found.append(f"{where}: a cleanup a cancellation would skip; use off_loop_shielded")
    return sorted(found)


def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def test_async_code_calls_no_store_on_the_event_loop() -> None:
    paths = {_module(p): p for p in PACKAGE.rglob("*.py")}
    trees = {m: _parsed(p) for m, p in paths.items() if not any(_in(m, free) for free in LOOP_FREE)}
    assert off_loop_violations(trees) == []


def test_the_off_loop_rule_sees_each_way_round_it() -> None:
    """A guard against a rule that finds nothing (and so passes everything)."""
    source = """
from hotelrunner_mcp.reservations.acknowledge import describe as acks_status

class Service:
    @property
    def fresh(self): return self._store.sync_state()

    def _count(self): return self._s.store.count()

    def _counted(self): return self._count() + 1

    async def bad(self, acks):
        self._s.ledger.query()
        acks.claim()
        self._counted()
        acks_status(self._s)
        return self.fresh

    async def cleanup(self):
        try:
            pass
        finally:
            await off_loop(self._s.plans.finish, "x")

    async def good(self):
        await off_loop(self._s.ledger.query)
        await off_loop(self._counted)
        await off_loop(lambda: self.fresh)
        await self._s.limiter.acquire("x")
        self._s.limiter.now()
        try:
            pass
        finally:
            await off_loop_shielded(self._s.plans.finish, "x")
"""
    acknowledge = _parsed(PACKAGE / "reservations" / "acknowledge.py")
    found = off_loop_violations({"example": ast.parse(source), "hotelrunner_mcp.reservations.acknowledge": acknowledge})
    assert [line.split(" ", 3)[2:] for line in found if line.startswith("example")] == [
        ["bad", "calls self._s.ledger.query(...) on the event loop"],
        ["bad", "calls acks.claim(...) on the event loop"],
        ["bad", "calls self._counted(...) on the event loop"],
        ["bad", "calls acks_status(...) on the event loop"],
        ["bad", "reads self.fresh, which reads a store, on the event loop"],
        ["cleanup:", "a cleanup a cancellation would skip; use off_loop_shielded"],
    ]
