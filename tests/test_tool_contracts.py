"""Every tool's contract, checked the same way: annotations, a cost sentence, a description for every
parameter, and a schema snapshot (tests/__toolsnaps__/<tool>.json) that a change must update on purpose.

Changing a tool's signature, description or output without updating its snapshot fails here. To accept a
change: `UPDATE_TOOLSNAPS=1 python3 scripts/dev.py test tests/test_tool_contracts.py`, then review the diff.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import Tool

from hotelrunner_mcp.config import Settings
from hotelrunner_mcp.surface.server import build_server

SNAPSHOTS = Path(__file__).parent / "__toolsnaps__"
UPDATE = os.environ.get("UPDATE_TOOLSNAPS") == "1"


def _list_tools(read_only: bool = False) -> list[Tool]:
    async def listed() -> list[Tool]:
        with tempfile.TemporaryDirectory() as scratch:
            settings = Settings(data_dir=Path(scratch), read_only=read_only)
            async with Client(build_server(settings)) as client:
                return list((await client.list_tools()).tools)

    return anyio.run(listed)


TOOLS = {tool.name: tool for tool in _list_tools()}


def _snapshot(tool: Tool) -> dict[str, Any]:
    data = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        key: data[key]
        for key in ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
        if key in data
    }


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_the_tool_matches_its_snapshot(name: str) -> None:
    path = SNAPSHOTS / f"{name}.json"
    current = _snapshot(TOOLS[name])
    if UPDATE:
        path.write_text(json.dumps(current, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no snapshot for {name}: run with UPDATE_TOOLSNAPS=1 and review {path}"
    assert json.loads(path.read_text(encoding="utf-8")) == current, (
        f"{name} changed: if that is intended, run with UPDATE_TOOLSNAPS=1 and review the diff of {path}"
    )


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_the_tool_says_what_it_costs_and_describes_every_parameter(name: str) -> None:
    tool = TOOLS[name]
    description = tool.description or ""
    assert "Cost:" in description, f"{name}: its description must say what it costs in quota ('Cost: ...')"
    assert "\n    " not in description, f"{name}: leftover docstring indentation"
    assert tool.annotations is not None and tool.annotations.read_only_hint is not None
    assert tool.annotations.destructive_hint is not None and tool.annotations.open_world_hint is not None
    undescribed = [p for p, schema in tool.input_schema.get("properties", {}).items() if not schema.get("description")]
    assert undescribed == [], f"{name}: parameters without a description: {undescribed}"
    assert tool.input_schema.get("additionalProperties") is False


def test_no_snapshot_is_left_for_a_tool_that_is_gone() -> None:
    stale = sorted(p.stem for p in SNAPSHOTS.glob("*.json") if p.stem not in TOOLS)
    assert stale == [], f"snapshots for tools that no longer exist: {stale}; delete them"


def test_read_only_mode_lists_only_tools_that_write_nothing() -> None:
    for tool in _list_tools(read_only=True):
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
