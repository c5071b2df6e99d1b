"""Answer budgets: no tool answer takes more of an agent's context than it can use.

Every list a tool returns goes through `fit`: it keeps the items that fit the budget (at least one), and
the answer says what it left out and how to get the rest (`next_offset`). The budget counts the compact
JSON text, which is what an agent reads; the structured copy beside it is the same size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

ANSWER_BUDGET_BYTES = 16_000
"""About 4k tokens of text per answer (at ~4 bytes a token)."""

ITEMS_BUDGET_BYTES = ANSWER_BUDGET_BYTES - 2_000
"""What the listed items may take: the rest is for the fields every answer carries and its notes."""

T = TypeVar("T")


def json_size(item: Any) -> int:
    """Bytes of `item` as compact JSON, the way the answer's text carries it."""
    if isinstance(item, BaseModel):
        return len(item.model_dump_json().encode())
    if isinstance(item, list | tuple):
        return 2 + sum(json_size(i) for i in item) + max(len(item) - 1, 0)
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str).encode())


@dataclass(frozen=True)
class Page(Generic[T]):
    """The items of one answer, from `offset`, out of `total`."""

    items: list[T]
    offset: int
    total: int

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts, or None when this one reaches the end."""
        end = self.offset + len(self.items)
        return end if end < self.total else None

    def left_out(self, noun: str, *, how: str = "") -> str | None:
        """e.g. "18 more values not shown (answer size budget): call again with offset=62" (`how` is
        appended); None when nothing is left out."""
        if self.next_offset is None:
            return None
        more = self.total - self.next_offset
        return f"{more:,} more {noun} not shown (answer size budget): call again with offset={self.next_offset}{how}"


def fit(items: Iterable[T], *, total: int, offset: int = 0, budget: int = ITEMS_BUDGET_BYTES) -> Page[T]:
    """The leading `items` whose compact JSON fits `budget` (always at least one); `total` counts every item
    from offset 0, so the page can say how many it left out."""
    kept: list[T] = []
    used = 0
    for item in items:
        used += json_size(item) + 1
        if kept and used > budget:
            break
        kept.append(item)
    return Page(kept, offset, max(total, offset + len(kept)))
