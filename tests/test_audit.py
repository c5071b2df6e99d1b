"""AuditLog: redacted JSON lines, 0600, atomic appends across processes, tool-call framing."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hotelrunner_mcp.errors import InvalidRequest, RecordingUnavailable
from hotelrunner_mcp.gate.audit import AuditLog, current_call, read_audit
from hotelrunner_mcp.hotelrunner.redact import Redactor

TOKEN = "tok-SECRET-4242"
HR_ID = "hr-778899"


def audit_log(path: Path) -> AuditLog:
    return AuditLog(path, Redactor([TOKEN, HR_ID]))


def test_lines_are_redacted_and_the_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.jsonl"
    log = audit_log(path)
    log.write(
        "upstream",
        url=f"https://app.hotelrunner.com/api/v2/apps/rooms?token={TOKEN}&hr_id={HR_ID}",
        params={"token": TOKEN, "hr_id": HR_ID, "inv_code": "DT"},
        error=f"ConnectError: cannot reach host for {TOKEN}",
        nested=[{"note": f"id {HR_ID}"}],
    )
    text = path.read_text()
    assert TOKEN not in text and HR_ID not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [line] = read_audit(path)
    assert line["event"] == "upstream" and line["params"]["inv_code"] == "DT"
    assert line["time"].endswith("Z") and isinstance(line["pid"], int)


def test_an_existing_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    path.chmod(0o644)
    audit_log(path).write("x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_tool_call_frames_upstream_lines_with_its_context(tmp_path: Path) -> None:
    log = audit_log(tmp_path / "a.jsonl")
    with log.tool_call("list_rooms", "claude-code", {"refresh": True}) as call:
        assert current_call() is call
        log.write("upstream", method="GET", path="/rooms")
        call.upstream_requests += 1  # what the gate does for each request it counts
    assert current_call() is None
    start, upstream, end = read_audit(tmp_path / "a.jsonl")
    assert (start["phase"], start["arguments"]) == ("start", {"refresh": True})
    assert upstream["tool"] == "list_rooms" and upstream["call_id"] == start["call_id"] == end["call_id"]
    assert upstream["client"] == "claude-code"
    assert (end["phase"], end["status"], end["upstream_requests"]) == ("end", "ok", 1)
    assert end["duration_ms"] >= 0


def test_a_failing_tool_call_records_the_error_code(tmp_path: Path) -> None:
    log = audit_log(tmp_path / "a.jsonl")
    with pytest.raises(InvalidRequest), log.tool_call("set_price", None, {"price": "-1"}):
        raise InvalidRequest("price must be positive")
    end = read_audit(tmp_path / "a.jsonl")[-1]
    assert (end["status"], end["error_code"]) == ("error", "invalid_request")


def test_an_unwritable_log_refuses_the_call(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = audit_log(blocker / "audit.jsonl")
    ran = []
    with pytest.raises(RecordingUnavailable, match="refused rather than made unrecorded"):
        with log.tool_call("list_rooms", None, {}):
            ran.append(True)
    assert ran == []
    with pytest.raises(RecordingUnavailable):
        log.ensure_writable()


def test_read_audit_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    audit_log(path).write("one")
    with path.open("a") as f:
        f.write('{"event": "tw')
    assert [r["event"] for r in read_audit(path)] == ["one"]
    assert read_audit(tmp_path / "missing.jsonl") == []


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from hotelrunner_mcp.gate.audit import AuditLog
    from hotelrunner_mcp.hotelrunner.redact import Redactor

    log = AuditLog(Path(sys.argv[1]), Redactor([sys.argv[3]]))
    for i in range(300):
        log.write("upstream", writer=sys.argv[2], seq=i, padding="x" * 5000, secret=sys.argv[3])
    """
)


def test_concurrent_processes_never_interleave_or_lose_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(n), TOKEN], stderr=subprocess.PIPE)
        for n in range(4)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err.decode()
    lines = path.read_text().splitlines()
    records = read_audit(path)
    assert len(lines) == len(records) == 1200  # every line parses: none torn or interleaved
    for n in range(4):
        assert [r["seq"] for r in records if r["writer"] == str(n)] == list(range(300))
    assert TOKEN not in path.read_text()


def test_a_numeric_hr_id_is_masked_where_it_stands_alone_and_lines_stay_json(tmp_path) -> None:
    """Prices, transaction ids and reservation numbers that contain the hr_id's digits stay readable."""
    from hotelrunner_mcp.gate.audit import AuditLog, read_audit
    from hotelrunner_mcp.hotelrunner.redact import Redactor

    class Url:
        def __str__(self) -> str:
            return "https://hr.example/rooms?token=SECRET-TOKEN-1&hr_id=4242"

    log = AuditLog(tmp_path / "audit.jsonl", Redactor(["SECRET-TOKEN-1", "4242"]))
    log.write("probe", transaction_id="424242", price=4242.5, note="property 4242 booked", url=Url(), count=4242)
    [line] = read_audit(tmp_path / "audit.jsonl")
    text = (tmp_path / "audit.jsonl").read_text()
    assert "SECRET-TOKEN-1" not in text and "hr_id=4242" not in text
    assert line["transaction_id"] == "424242" and line["price"] == 4242.5
    assert line["note"] == "property *** booked"
    assert "token=***" in line["url"]


def test_an_append_only_audit_file_is_kept_as_the_owner_set_it(tmp_path: Path) -> None:
    """`chattr +a` forbids chmod: the log must still be written, not refused."""
    import shutil
    import subprocess

    path = tmp_path / "audit.jsonl"
    path.touch(mode=0o600)
    if not shutil.which("chattr") or subprocess.run(["chattr", "+a", str(path)], capture_output=True).returncode:
        pytest.skip("chattr +a is not available on this file system")
    try:
        AuditLog(path, Redactor([])).write("test", ok=True)
        assert read_audit(path)[-1]["ok"] is True
    finally:
        subprocess.run(["chattr", "-a", str(path)], check=True)


def test_a_huge_argument_is_logged_as_its_start_and_size(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path, Redactor([])).write("tool_call", arguments={"guest": "x" * 10_000_000, "channels": ["a"] * 5000})
    assert path.stat().st_size < 20_000
    [line] = read_audit(path)
    assert (
        line["arguments"]["guest"].endswith("…(10000000 characters)")
        and line["arguments"]["channels"][-1] == "…(4800 more)"
    )
