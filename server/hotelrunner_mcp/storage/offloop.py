"""The one way async code calls a SQLite-backed store: in a worker thread, so the event loop keeps serving.

The stores (the mirror, the calendar ledger, the plan store, the acknowledge queue, the quota limiter)
are synchronous: the CLI uses them as they are. Async code (tools, resources, services, the change
watcher, the push receiver) writes `await off_loop(store.method, ...)` instead of `store.method(...)`,
and `await off_loop_shielded(...)` for a write that records what already happened (how a send ended, a
lease to release in a `finally:`): a cancellation arriving just then must not skip it, as it could not
skip the same call made on the loop.
tests/test_layers.py fails on a direct call.

Several worker threads may use one store at once. That is safe because every store serialises its own
connection: each holds a lock around it (sqlite3: usable from another thread, never from two at once),
and the mirror's heavy reads each borrow a pooled read connection (WAL: they never block its writer). So
off_loop adds no lock of its own, and a store must never be called on the loop while a thread holds it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def off_loop(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in a worker thread; its result or its exception comes back to the caller.

    A cancelled caller still waits for the call to end (anyio's default): a write is never abandoned
    half-way, and the store's lock is released before anything else runs in that task."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


async def off_loop_shielded(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`off_loop`, run even when the caller is being cancelled: a record of what already happened upstream,
    or a cleanup in `finally:` / `except BaseException:`, is not skipped by that cancellation."""
    with anyio.CancelScope(shield=True):
        result = await off_loop(fn, *args, **kwargs)
    return result
