"""Errors from SQL functions, mapped once for both adapters.

A SQL function reports a domain failure with
``raise exception 'source % not found', id using errcode = 'no_data_found'``; the adapters
see the SQLSTATE (from Postgres, or as ``code`` in PostgREST's error body) and the MESSAGE,
and turn them into the same :mod:`scout.errors` exception.
"""

from __future__ import annotations

from scout.errors import BadRequest, Conflict, NotFound, ScoutError, UpstreamFailed

_DOMAIN_ERRORS: dict[str, type[ScoutError]] = {
    "P0002": NotFound,  # no_data_found
    "23505": Conflict,  # unique_violation
    # Values the caller supplied that Postgres or the function refused.
    "22023": BadRequest,  # invalid_parameter_value
    "22P02": BadRequest,  # invalid_text_representation (a bad uuid, integer, JSON ...)
    "23514": BadRequest,  # check_violation
    "22001": BadRequest,  # string_data_right_truncation
    "22003": BadRequest,  # numeric_value_out_of_range
    "22007": BadRequest,  # invalid_datetime_format
    "22008": BadRequest,  # datetime_field_overflow
}


def error_for(sqlstate: str | None, message: str | None, function: str) -> ScoutError:
    """The scout error for a failed call of ``function``.

    Domain errors carry the function's own MESSAGE. Anything else is the store failing:
    its message names the call and nothing of the SQL, which goes to the log instead.
    """
    kind = _DOMAIN_ERRORS.get(sqlstate or "")
    if kind is not None:
        return kind(message or f"{function} failed")
    return UpstreamFailed(f"the store could not complete {function}")
