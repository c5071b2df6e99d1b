"""surface/budget.py: what fits an answer, and what a cut answer says."""

from __future__ import annotations

import json

from hotelrunner_mcp.calendar.summary import ChangeGroup
from hotelrunner_mcp.surface.budget import fit, json_size


def test_a_list_is_cut_where_the_budget_ends_and_the_page_says_where_to_go_on() -> None:
    items = [{"n": i, "text": "x" * 90} for i in range(50)]  # 109 bytes each as compact JSON
    page = fit(items[10:], total=50, offset=10, budget=1_000)
    assert [i["n"] for i in page.items] == list(range(10, 19))
    assert page.next_offset == 19
    assert page.left_out("values") == "31 more values not shown (answer size budget): call again with offset=19"
    last = fit(items[45:], total=50, offset=45, budget=1_000)
    assert last.next_offset is None and last.left_out("values") is None


def test_one_item_is_kept_even_when_it_alone_is_over_the_budget() -> None:
    page = fit(["y" * 5_000, "z"], total=2, budget=100)
    assert page.items == ["y" * 5_000] and page.next_offset == 1


def test_sizes_are_those_of_the_compact_json_text() -> None:
    group = ChangeGroup.model_validate(
        {
            "room": "SUITE",
            "rate_code": None,
            "field": "price",
            "channels": [],
            "changes": 2,
            "dates": 9,
            "first": "2027-01-01",
            "last": "2027-01-09",
            "ranges": 1,
            "values": "150.00–189.00",
            "previous": {},
            "unknown_dates": 9,
            "warnings": 0,
        }
    )
    as_text = json.dumps([group.model_dump(mode="json")] * 3, ensure_ascii=False, separators=(",", ":"))
    assert json_size([group] * 3) == len(as_text.encode())
