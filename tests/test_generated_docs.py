"""The docs the code defines do not drift: the README's tool and settings tables, the guide's cost table
and .env.example are what `python3 scripts/dev.py docs` writes, and every setting the server reads is
documented. Change a tool or a setting without regenerating, and this fails."""

from __future__ import annotations

import re
from pathlib import Path

from hotelrunner_mcp.commands.docs import render
from hotelrunner_mcp.config import SETTING_DOCS, read_env_file

CONFIG = Path(__file__).parents[1] / "server" / "hotelrunner_mcp" / "config.py"


def test_the_generated_docs_are_up_to_date() -> None:
    drifted = [str(path) for path, wanted in render().items() if path.read_text(encoding="utf-8") != wanted]
    assert drifted == [], f"run `python3 scripts/dev.py docs` and commit: {drifted} drifted from the code"


def test_every_setting_the_server_reads_is_documented() -> None:
    read = set(re.findall(r'reader\.[a-z_]+\("(HOTELRUNNER_[A-Z_]+)"', CONFIG.read_text(encoding="utf-8")))
    documented = {doc.env for doc in SETTING_DOCS}
    assert read - documented == set(), f"add these to config.SETTING_DOCS: {sorted(read - documented)}"


def test_the_env_example_reads_as_an_env_file(tmp_path: Path) -> None:
    """Uncommenting any line gives a usable value (no trailing comment glued to it)."""
    example = (Path(__file__).parents[1] / ".env.example").read_text(encoding="utf-8")
    uncommented = "\n".join(line.removeprefix("# ") for line in example.splitlines() if "=" in line)
    path = tmp_path / ".env"
    path.write_text(uncommented, encoding="utf-8")
    values = read_env_file(path)
    assert values["HOTELRUNNER_BASE_URL"] == "https://app.hotelrunner.com/api/v2/apps"
    assert values["HOTELRUNNER_QUOTA_PER_DAY"] == "250"
