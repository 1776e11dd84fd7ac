"""Every error scout reports: a stable ``code``, a sentence for people, an HTTP status.

:class:`ErrorInfo` is that pair wherever it travels (an HTTP error body, a scan result, a
poll run, a source's last error); :class:`ErrorBody` is what every HTTP error answers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(description="Stable and machine-readable, such as not_found or blocked_target.")
    message: str = Field(description="A sentence for people.")


class ErrorBody(BaseModel):
    """``{"error": {"code", "message"}}``: the body of every error scout answers over HTTP."""

    model_config = ConfigDict(title="Error")

    error: ErrorInfo


class ScoutError(Exception):
    code = "internal_error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(ScoutError):
    code = "bad_request"
    status = 400


class Unauthorized(ScoutError):
    code = "unauthorized"
    status = 401


class Forbidden(ScoutError):
    code = "forbidden"
    status = 403


class NotFound(ScoutError):
    code = "not_found"
    status = 404


class Conflict(ScoutError):
    code = "conflict"
    status = 409


class RateLimited(ScoutError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class UpstreamFailed(ScoutError):
    """A dependency (ATS, store, queue) failed; the request may be retried."""

    code = "upstream_failed"
    status = 502


class StoreUnavailable(UpstreamFailed):
    """The store cannot be reached now (refused, timed out, restarting, or the circuit is open).

    Answered at once rather than after a long wait, so a database outage costs callers
    about a second each instead of tying up every execution environment.
    """

    code = "store_unavailable"
    status = 503
    retry_after_seconds = 2


class InvalidCursor(BadRequest):
    """A ``cursor`` that is not the ``next_cursor`` of the list it was passed to."""

    code = "invalid_cursor"


class TrialFetchFailed(BadRequest):
    """A new source's board could not be fetched, so it was not added."""

    code = "trial_fetch_failed"


class QueueUnavailable(UpstreamFailed):
    """The poll queue is not configured, or did not take a message."""

    code = "queue_unavailable"
    status = 503


class InvalidUrl(BadRequest):
    """The URL is malformed, or not http(s)."""

    code = "invalid_url"


class BlockedTarget(BadRequest):
    """The URL resolves to an address scout may not reach (docs/egress.md)."""

    code = "blocked_target"


class DnsFailed(BadRequest):
    code = "dns_failed"


class UnsupportedAts(BadRequest):
    code = "unsupported_ats"


class InvalidBoard(BadRequest):
    """A board id that cannot belong to its ATS kind (checked before any request)."""

    code = "invalid_board"


class AtsError(UpstreamFailed):
    """A job board could not be fetched completely enough to be trusted."""

    code = "ats_unavailable"


class AtsNotFound(AtsError):
    """The ATS says the board does not exist (or no longer does)."""

    code = "ats_not_found"
    status = 404


class AtsUnavailable(AtsError):
    """The ATS kept failing (5xx, refused or dropped connections) after retries."""

    code = "ats_unavailable"


class AtsBadResponse(AtsError):
    """The ATS answered, but not with the documented shape (HTML, truncated JSON, garbage)."""

    code = "ats_bad_response"


class AtsTimeout(AtsError):
    code = "ats_timeout"
    status = 504


class AtsRateLimited(AtsError):
    code = "ats_rate_limited"
    status = 503

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
