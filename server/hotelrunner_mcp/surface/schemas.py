"""The tool schemas as published in tools/list: the same JSON Schema, without what pydantic repeats.

tools/list is read into every agent's context before its first question, so each byte counts:
- `title` on every property and model restates its name ("Start Date" for start_date);
- `anyOf: [{"type": "string", "maxLength": 200}, {"type": "null"}]` says `"type": ["string", "null"]`;
- `default: null` on an optional argument says what leaving it out already says;
- an output schema's defaults describe our code, not the answer.
Validation is unchanged: the SDK validates arguments and results with the pydantic models, not with
these published copies.
"""

from __future__ import annotations

from typing import Any

_NULL = {"type": "null"}


def lean_schema(schema: dict[str, Any], *, output: bool = False) -> dict[str, Any]:
    """`schema` without titles, `default: null` (every default, for an output), and nullable unions folded."""
    lean: dict[str, Any] = _lean(schema, output)
    return lean


def _lean(node: Any, output: bool) -> Any:
    if isinstance(node, list):
        return [_lean(item, output) for item in node]
    if not isinstance(node, dict):
        return node
    lean: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (output or value is None):
            continue
        if key in ("properties", "$defs"):  # names, not keywords: keep every one, lean their schemas
            lean[key] = {name: _lean(sub, output) for name, sub in value.items()}
        else:
            lean[key] = _lean(value, output)
    return _fold_union(lean)


def _fold_union(node: dict[str, Any]) -> dict[str, Any]:
    """anyOf of bare types -> a type list; anyOf of one typed schema and null -> that schema, nullable."""
    options = node.get("anyOf")
    if not isinstance(options, list):
        return node
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    if all(set(o) == {"type"} and isinstance(o["type"], str) for o in options):
        return {**rest, "type": [o["type"] for o in options]}
    others = [o for o in options if o != _NULL]
    if len(options) == 2 and len(others) == 1 and isinstance(others[0].get("type"), str):
        (typed,) = others
        if not set(typed) & set(rest) and "const" not in typed:
            folded = {**rest, **typed, "type": [typed["type"], "null"]}
            if "enum" in typed:  # an enum restricts every type: null must be one of its values
                folded["enum"] = [*typed["enum"], None]
            return folded
    return node
