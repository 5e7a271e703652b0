"""Exit codes, and the errors that carry them to ``main`` (scripts branch on the code, people read the message).

0   success; ``watch``: the job COMPLETED
1   the API refused (unknown job, wrong state, bad input) or could not be reached; ``watch``: FAILED, REJECTED,
    CANCELLED
2   a usage error (bad flags or files); ``watch``: RESUBMISSION_REQUIRED (the owner must act)
3   authentication: not signed in, the session expired and cannot be refreshed, or the API answered 401/403
"""

from __future__ import annotations

OK = 0
FAILURE = 1
USAGE = 2
AUTH = 3
INTERRUPTED = 130

JOB_OUTCOMES: dict[str, int] = {
    "COMPLETED": OK,
    "FAILED": FAILURE,
    "REJECTED": FAILURE,
    "CANCELLED": FAILURE,
    "RESUBMISSION_REQUIRED": USAGE,
}
TERMINAL_STATUSES = frozenset(JOB_OUTCOMES)


def outcome_of(status: str) -> int | None:
    """The exit code of a job that is done in this status; None while it is still on its way."""
    return JOB_OUTCOMES.get(status)


class CliError(Exception):
    """A failure the user is told about on stderr, exiting with ``exit_code``."""

    exit_code = FAILURE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CliError):
    exit_code = USAGE


class AuthError(CliError):
    exit_code = AUTH


class ApiError(CliError):
    """The API's error envelope (``{"success": false, "error": {"code", "message", "field"}}``)."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, object] | None = None) -> None:
        super().__init__(message, AUTH if status in (401, 403) else FAILURE)
        self.status = status
        self.code = code
        self.body = body
