"""Errors from SQL functions, mapped once for both adapters.

A SQL function reports a domain failure with
``raise exception 'source % not found', id using errcode = 'no_data_found'``; the adapters
see the SQLSTATE (from Postgres, or as ``code`` in PostgREST's error body) and the MESSAGE,
and turn them into the same :mod:`scout.errors` exception.
"""

from __future__ import annotations

from scout.errors import BadRequest, Conflict, NotFound, ScoutError, StoreUnavailable, UpstreamFailed

_DOMAIN_ERRORS: dict[str, type[ScoutError]] = {
    "P0002": NotFound,  # no_data_found
    "23505": Conflict,  # unique_violation
    "23514": BadRequest,  # check_violation
    # Class 22 (data exception, e.g. 22P02 a bad uuid, 22008 a date out of range, 22021 a NUL
    # byte) is a value the caller supplied: a bad request, never the store failing. Division
    # by zero is the exception: no caller's value makes it, a function's arithmetic does.
    "22": BadRequest,
    "22012": UpstreamFailed,
    # The server is going away or not there: restarting (57P01-57P03), connection lost (08).
    "57P01": StoreUnavailable,  # admin_shutdown
    "57P02": StoreUnavailable,  # crash_shutdown
    "57P03": StoreUnavailable,  # cannot_connect_now (starting up)
    "08": StoreUnavailable,
}


def is_unavailable(sqlstate: str | None) -> bool:
    """Whether ``sqlstate`` says the server cannot be reached, rather than refusing a call."""
    return _kind(sqlstate) is StoreUnavailable


def _kind(sqlstate: str | None) -> type[ScoutError] | None:
    code = sqlstate or ""
    return _DOMAIN_ERRORS.get(code) or _DOMAIN_ERRORS.get(code[:2])


def error_for(sqlstate: str | None, message: str | None, function: str) -> ScoutError:
    """The scout error for a failed call of ``function``.

    Domain errors carry the function's own MESSAGE. Anything else is the store failing:
    its message names the call and nothing of the SQL, which goes to the log instead.
    """
    kind = _kind(sqlstate)
    if kind is UpstreamFailed:
        return UpstreamFailed(f"the store could not complete {function}")
    if kind is StoreUnavailable:
        return StoreUnavailable("the store is unreachable; try again shortly")
    if kind is not None:
        return kind(message or f"{function} failed")
    return UpstreamFailed(f"the store could not complete {function}")
