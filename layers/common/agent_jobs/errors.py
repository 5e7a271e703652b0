"""Domain errors. The API maps each to one HTTP status in one place (api/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the API turns into ``{"success": false, "error": {...}}``."""

    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequest(DomainError):
    status_code = 400
    code = "BAD_REQUEST"


class Unauthorized(DomainError):
    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    """Wrong state for the action, or a concurrent change won the race."""

    status_code = 409
    code = "CONFLICT"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsafeUrlError(BadRequest):
    """An outbound URL the SSRF guard refuses."""

    code = "UNSAFE_URL"


class AgentCallError(Exception):
    """The agent could not give a usable answer (after retries)."""


class JudgeUnavailable(Exception):
    """The judge gave no verdict (timeout, 5xx, unparsable answer). Never a pass."""


class ServiceUnavailable(DomainError):
    """A dependency (the judge, a queue) cannot answer now; the client may retry."""

    status_code = 503
    code = "SERVICE_UNAVAILABLE"
