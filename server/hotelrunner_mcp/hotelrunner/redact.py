"""Keep the token and hr_id out of every string, URL and parameter map that leaves the process."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
SECRET_PARAMS = frozenset({"token", "hr_id"})
_QUERY_SECRET = re.compile(r"(?i)\b(token|hr_id)=[^&\s#'\"]*")


class Redactor:
    """Masks known secret values and any `token=`/`hr_id=` query pair, whatever its value."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first so a secret containing another is masked whole; ignore trivial values. A numeric
        # secret (hr_id is a number) is masked only where it stands alone, so prices, transaction ids and
        # reservation numbers that happen to contain its digits stay readable.
        ordered = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)
        self._patterns = [re.compile(rf"(?<!\d){re.escape(s)}(?!\d)" if s.isdigit() else re.escape(s)) for s in ordered]

    def text(self, value: str) -> str:
        """Return `value` with every secret and secret query pair masked."""
        value = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", value)
        for pattern in self._patterns:
            value = pattern.sub(MASK, value)
        return value

    def params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Copy of a parameter map with secret keys dropped and secret values masked."""
        if not params:
            return {}
        return {k: self.value(v) for k, v in params.items() if k not in SECRET_PARAMS}

    def value(self, value: Any) -> Any:
        """Redact strings anywhere inside JSON-like data."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: (MASK if k in SECRET_PARAMS else self.value(v)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


HTTP_LOGGERS = ("httpx2", "httpcore2", "httpx", "httpcore", "h11", "h2")


class _RedactingFilter(logging.Filter):
    """Rewrites a record's message with the secrets masked (URLs carry the token)."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self.redactor = Redactor()

    def add_secrets(self, *secrets: str | None) -> None:
        self._secrets.update(s for s in secrets if s)
        self.redactor = Redactor(self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: drop the args rather than leak them
            message = str(record.msg)
        record.msg, record.args = self.redactor.text(message), None
        return True


_LOG_FILTER = _RedactingFilter()


def silence_http_logs(*secrets: str | None) -> None:
    """Keep the HTTP stack's request logs (URL with token) out of stderr: WARNING at least, redacted always."""
    _LOG_FILTER.add_secrets(*secrets)
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
        if _LOG_FILTER not in logger.filters:
            logger.addFilter(_LOG_FILTER)
