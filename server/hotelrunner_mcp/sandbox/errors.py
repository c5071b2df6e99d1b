"""The one error type the sandbox raises: an HTTP status plus a HotelRunner-style JSON body."""

from __future__ import annotations


class SandboxError(Exception):
    """A refusal the sandbox answers as `{"status": "error", "code": ..., "message": ...}`."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, plain: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.plain = plain  # the documented `{"status": "error", "message": ...}` (no code)

    def body(self) -> dict[str, str]:
        if self.plain:
            return {"status": "error", "message": self.message}
        return {"status": "error", "code": self.code, "message": self.message}


def missing(name: str) -> SandboxError:
    return SandboxError(400, "missing_parameter", f"Parameter '{name}' is required.")


def invalid(message: str, code: str = "invalid_parameter") -> SandboxError:
    return SandboxError(422, code, message)


def not_found(message: str) -> SandboxError:
    return SandboxError(404, "not_found", message)


def answered_error(message: str, status: int = 200) -> SandboxError:
    """fire's documented refusal `{"status": "error", "message": "state_change_is_not_available"}`,
    whose HTTP status the docs never state: answered with 200 unless told otherwise."""
    return SandboxError(status, message, message, plain=True)
