"""Typed errors shared by the client, the gate and the tools.

Every message here is written for the agent that will read it: what happened and what to do next.
Messages must never contain the token or hr_id; build them from redacted text only.
"""

from __future__ import annotations


class HotelRunnerError(Exception):
    """Base of every error this package raises on purpose. `str(err)` is safe to show an agent."""

    code = "hotelrunner_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotConfigured(HotelRunnerError):
    """Credentials or settings are missing: nothing was sent."""

    code = "not_configured"


class InvalidRequest(HotelRunnerError):
    """The caller's input is wrong: nothing was sent, no quota spent."""

    code = "invalid_request"


class ReadOnlyMode(HotelRunnerError):
    """A write was asked for while HOTELRUNNER_READ_ONLY is on."""

    code = "read_only"


class RecordingUnavailable(HotelRunnerError):
    """The quota ledger or the audit log cannot be written, so the call was refused unrecorded."""

    code = "recording_unavailable"


class QuotaExhausted(HotelRunnerError):
    """The local daily quota is spent: refused before sending anything."""

    code = "quota_exhausted"

    def __init__(self, message: str, *, used: int, limit: int, next_free_at: str | None) -> None:
        super().__init__(message)
        self.used = used
        self.limit = limit
        self.next_free_at = next_free_at


class QuotaWaitTooLong(HotelRunnerError):
    """The per-minute slot would come later than the caller may wait: refused, nothing sent."""

    code = "quota_wait_too_long"


class UpstreamError(HotelRunnerError):
    """HotelRunner (or the network to it) failed. `status` is the HTTP status when there was one."""

    code = "upstream_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CredentialsRejected(UpstreamError):
    """401/403: the token or hr_id is wrong or revoked."""

    code = "credentials_rejected"


class RateLimited(UpstreamError):
    """429 from HotelRunner itself."""

    code = "rate_limited"


class UpstreamRejected(UpstreamError):
    """400/404/405/406/410/422: HotelRunner refused the request as sent."""

    code = "upstream_rejected"


class UpstreamUnavailable(UpstreamError):
    """5xx or maintenance."""

    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    """No answer in time (or the connection failed)."""

    code = "upstream_timeout"


class MalformedResponse(UpstreamError):
    """The answer was not the JSON HotelRunner documents."""

    code = "malformed_response"


class NotApplied(UpstreamError):
    """HotelRunner answered `try_again`: the update was NOT applied; send it again later."""

    code = "not_applied"


class OutcomeUnknown(UpstreamError):
    """A write got a 5xx or timed out: it may or may not have been applied. Never retried blindly."""

    code = "outcome_unknown"


class EndpointNotEnabled(UpstreamError):
    """HotelRunner refused an endpoint it enables per app on request (delivery acknowledgement: "To enable
    this endpoint, please contact us"). Not a credentials problem; nothing was applied."""

    code = "endpoint_not_enabled"


def range_problem(start_name: str, start: object, end_name: str, end: object) -> str | None:
    """The one wording of "this range ends before it starts" (None when it does not); ends are inclusive."""
    if start is None or end is None or not end < start:  # type: ignore[operator]
        return None
    return f"{end_name} ({end}) is before {start_name} ({start}); swap the two (the end is inclusive)"


def check_range(start_name: str, start: object, end_name: str, end: object) -> None:
    """Raise InvalidRequest (nothing sent) when the range ends before it starts."""
    problem = range_problem(start_name, start, end_name, end)
    if problem is not None:
        raise InvalidRequest(problem + ".")
