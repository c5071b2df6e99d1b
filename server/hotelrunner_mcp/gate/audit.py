"""AuditLog: one redacted JSON line per tool call and per upstream request.

Each line is written with a single `os.write` on a file opened with O_APPEND, so lines from concurrent
processes never interleave. The file is created with mode 0600. A line that cannot be written raises
RecordingUnavailable: the caller refuses the call rather than make it unrecorded.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotelrunner_mcp.errors import RecordingUnavailable
from hotelrunner_mcp.hotelrunner.redact import Redactor
from hotelrunner_mcp.times import iso_z

FILE_MODE = 0o600
logger = logging.getLogger(__name__)


@dataclass
class ToolCallContext:
    """The tool call in progress; upstream lines written inside it carry its tool name and call id."""

    tool: str
    client: str | None
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    upstream_requests: int = 0  # counted by the gate: what this call spent of the quota


_current_call: ContextVar[ToolCallContext | None] = ContextVar("hotelrunner_audit_call", default=None)


def current_call() -> ToolCallContext | None:
    """The tool call this code runs under, if any."""
    return _current_call.get()


def utc_now_iso() -> str:
    return iso_z(datetime.now(UTC), timespec="milliseconds")


class AuditLog:
    """Append-only JSON-lines audit file; every value passes through the Redactor."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = Path(path)
        self._redactor = redactor

    def write(self, event: str, **fields: Any) -> None:
        """Append one line: time, event, pid, the current tool call, then `fields` (all redacted)."""
        record: dict[str, Any] = {"time": utc_now_iso(), "event": event, "pid": os.getpid()}
        call = _current_call.get()
        if call is not None:
            record.update(tool=call.tool, call_id=call.call_id, client=call.client)
        record.update(fields)
        line = json.dumps(
            bounded(self._redactor.value(record)),  # strings redacted here, other objects as they become text:
            ensure_ascii=False,
            default=lambda obj: self._redactor.text(str(obj)),
            separators=(",", ":"),
        )
        self._append((line + "\n").encode("utf-8"))

    def write_quietly(self, event: str, **fields: Any) -> None:
        """`write`, for lines about what already happened: if the file fails, warn on stderr instead of
        raising, so a logging fault cannot hide an outcome (the request left, the push was answered)."""
        try:
            self.write(event, **fields)
        except RecordingUnavailable as exc:
            logger.warning("audit line %r lost: %s", event, exc)

    def ensure_writable(self) -> None:
        """Raise RecordingUnavailable now if a line could not be appended (checked before a read is sent)."""
        self._append(b"")

    @contextmanager
    def tool_call(self, tool: str, client: str | None, arguments: dict[str, Any]) -> Iterator[ToolCallContext]:
        """Frame one tool call with a start line and an end line (status, error code, duration).

        The start line must be written, or RecordingUnavailable is raised and the tool does not run. A
        failing end line does not hide the tool's own result or error (it is reported on stderr).
        """
        call = ToolCallContext(tool=tool, client=client)
        self.write("tool_call", phase="start", tool=tool, call_id=call.call_id, client=client, arguments=arguments)
        token = _current_call.set(call)
        started = time.monotonic()
        outcome: dict[str, Any] = {"status": "ok"}
        try:
            yield call
        except BaseException as exc:
            outcome = {"status": "error", "error_code": getattr(exc, "code", type(exc).__name__)}
            raise
        finally:
            _current_call.reset(token)
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            self.write_quietly(
                "tool_call",
                phase="end",
                tool=tool,
                call_id=call.call_id,
                client=client,
                duration_ms=duration_ms,
                upstream_requests=call.upstream_requests,
                **outcome,
            )

    def _append(self, data: bytes) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
            try:
                if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:  # readable by others: guests' names inside
                    os.fchmod(fd, FILE_MODE)  # (a stricter or append-only file is left as the owner set it)
                written = os.write(fd, data) if data else 0
                if written != len(data):
                    os.write(fd, b"\n")  # end the torn fragment, so the next line still reads as JSON
                    raise OSError(f"short write, {written} of {len(data)} bytes (disk full?)")
            finally:
                os.close(fd)
        except OSError as exc:
            raise RecordingUnavailable(
                f"The audit log {self.path} cannot be written ({type(exc).__name__}: {exc.strerror or exc}), so "
                "the call was refused rather than made unrecorded. Check HOTELRUNNER_AUDIT_LOG / "
                "HOTELRUNNER_DATA_DIR permissions and free disk space."
            ) from None


MAX_LOGGED_TEXT = 2000  # characters of one string kept in an audit line
MAX_LOGGED_ITEMS = 200  # items of one list


def bounded(value: Any) -> Any:
    """A copy small enough for one audit line: a 10 MB argument is logged as its start and its size."""
    if isinstance(value, str) and len(value) > MAX_LOGGED_TEXT:
        return f"{value[:MAX_LOGGED_TEXT]}…({len(value)} characters)"
    if isinstance(value, dict):
        return {k: bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        kept = [bounded(v) for v in value[:MAX_LOGGED_ITEMS]]
        return [*kept, f"…({len(value) - MAX_LOGGED_ITEMS} more)"] if len(value) > MAX_LOGGED_ITEMS else kept
    return value


def read_audit(path: Path) -> list[dict[str, Any]]:
    """Every complete line of the audit file, oldest first; a missing file or a torn last line is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
