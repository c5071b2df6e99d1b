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


def _list_tools(*, read_only: bool = False, output_schemas: bool = True) -> list[Tool]:
    async def listed() -> list[Tool]:
        with tempfile.TemporaryDirectory() as scratch:
            settings = Settings(data_dir=Path(scratch), read_only=read_only, output_schemas=output_schemas)
            async with Client(build_server(settings)) as client:
                return list((await client.list_tools()).tools)

    return anyio.run(listed)


TOOLS = {tool.name: tool for tool in _list_tools()}  # output schemas published: the snapshots keep them too
TOOLS_LIST_BUDGET_BYTES = 20_000


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
    paragraphs = [p.strip() for p in description.split("\n\n")]
    assert any(p.startswith("Cost:") for p in paragraphs), f"{name}: a paragraph must say what it costs ('Cost: ...')"
    assert "\n    " not in description, f"{name}: leftover docstring indentation"
    assert tool.annotations is not None and tool.annotations.read_only_hint is not None
    assert tool.annotations.destructive_hint is not None and tool.annotations.open_world_hint is not None
    models = {"": tool.input_schema, **tool.input_schema.get("$defs", {})}
    undescribed = [
        f"{model}.{p}".lstrip(".")
        for model, schema in models.items()
        for p, field in schema.get("properties", {}).items()
        if not field.get("description")
    ]
    assert undescribed == [], f"{name}: parameters without a description: {undescribed}"
    too_long = [p for p, field in tool.input_schema.get("properties", {}).items() if "\n" in field["description"]]
    assert too_long == [], f"{name}: a parameter's description is one line: {too_long}"
    assert tool.input_schema.get("additionalProperties") is False


def test_no_snapshot_is_left_for_a_tool_that_is_gone() -> None:
    stale = sorted(p.stem for p in SNAPSHOTS.glob("*.json") if p.stem not in TOOLS)
    assert stale == [], f"snapshots for tools that no longer exist: {stale}; delete them"


def test_read_only_mode_lists_only_tools_that_write_nothing() -> None:
    for tool in _list_tools(read_only=True):
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name


def test_tools_list_fits_its_budget_and_publishes_lean_schemas() -> None:
    """tools/list is read into every agent's context: at most 20 KB, as a client receives it (no output schemas
    unless HOTELRUNNER_OUTPUT_SCHEMAS), with none of pydantic's repeated titles or null defaults."""
    default = _list_tools(output_schemas=False)
    wire = json.dumps(
        [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in default], separators=(",", ":")
    )
    assert len(wire.encode()) <= TOOLS_LIST_BUDGET_BYTES, f"tools/list is {len(wire.encode()):,} bytes"
    assert {t.name for t in default} == set(TOOLS) and all(t.output_schema is None for t in default)
    assert all(t.output_schema for t in TOOLS.values())
    for tool in TOOLS.values():
        schemas = json.dumps([tool.input_schema, tool.output_schema])
        assert '"title"' not in schemas and '"default": null' not in schemas, tool.name
