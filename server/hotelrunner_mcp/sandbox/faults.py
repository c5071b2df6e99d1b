"""Faults on demand: each fires always, for the next N matching calls, or at a rate (seeded).
Latency faults add a delay and let the call go on; other kinds replace the answer."""

from __future__ import annotations

import builtins
import random
import threading
from dataclasses import dataclass, field

FAULT_KINDS = ("latency", "500", "503", "hang", "malformed", "try_again", "429")


@dataclass
class Fault:
    kind: str
    times: int | None = None  # fire for the next N matching calls, then retire
    rate: float | None = None  # fire with this probability per matching call
    delay: float | None = None  # seconds, for latency (and the cap of a hang)
    paths: list[str] | None = None  # relative paths, e.g. ["/rooms/daily"]; None = every path
    id: int = 0
    fired: int = field(default=0)

    def to_json(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("id", "kind", "times", "rate", "delay", "paths", "fired")}


def make_fault(
    kind: str,
    *,
    times: int | None = None,
    rate: float | None = None,
    delay: float | None = None,
    paths: list[str] | None = None,
) -> Fault:
    if kind not in FAULT_KINDS:
        raise ValueError(f"Unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}.")
    if times is not None and times < 1:
        raise ValueError("times must be at least 1 (or None for always).")
    if rate is not None and not 0 <= rate <= 1:
        raise ValueError("rate must be between 0 and 1.")
    if kind == "latency" and (delay is None or delay < 0):
        raise ValueError("a latency fault needs delay=seconds (>= 0).")
    if paths is not None:
        paths = ["/" + p.strip("/") for p in paths]
    return Fault(kind, times, rate, delay, paths)


class Faults:
    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rng = random.Random(seed)
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def pick(self, path: str) -> builtins.list[Fault]:
        """The faults firing on this call: every firing latency, then at most one other kind."""
        with self._lock:
            firing: builtins.list[Fault] = []
            replaced = False
            for fault in list(self._faults):
                if fault.paths is not None and path not in fault.paths:
                    continue
                if fault.kind != "latency" and replaced:
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                fault.fired += 1
                firing.append(fault)
                replaced = replaced or fault.kind != "latency"
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
            return firing
