"""Reading HotelRunner's answers the way its documentation prints them.

Several documented bodies are not valid JSON: a trailing comma (`{"status": "ok",}` on the fire and
acknowledge pages), a missing comma between two members (the daily update's try_again), single-quoted
values (`"status": 'ok'` in the 2016 pages). If HotelRunner really answers so, a strict parser would
turn a plainly readable "ok" into "outcome unknown". `loads_lenient` mends exactly those slips and
nothing else; anything still unreadable is None.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_MISSING_COMMA = re.compile(r'("|\d|true|false|null|[}\]])(\s*\n\s*)(")')
_SINGLE_QUOTED = re.compile(r":\s*'([^'\\\n]*)'")
MAX_MENDED_BYTES = 1_000_000  # mending is for the docs' small status bodies, not for listings


def loads_lenient(content: bytes | str) -> Any:
    """Parsed JSON, or the documented slips mended, or None when neither reads."""
    try:
        return json.loads(content)
    except ValueError:
        pass
    if len(content) > MAX_MENDED_BYTES:
        return None
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    mended = _SINGLE_QUOTED.sub(lambda m: ": " + json.dumps(m.group(1)), text)
    mended = _MISSING_COMMA.sub(r"\1,\2\3", mended)
    mended = _TRAILING_COMMA.sub(r"\1", mended)
    try:
        return json.loads(mended)
    except ValueError:
        return None
