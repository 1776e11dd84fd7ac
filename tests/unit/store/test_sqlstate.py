"""One mapping from SQLSTATE to scout errors, shared by both adapters."""

from __future__ import annotations

import pytest

from scout.errors import BadRequest, Conflict, NotFound, ScoutError, StoreUnavailable, UpstreamFailed
from scout.store.sqlstate import error_for


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("P0002", NotFound),
        ("23505", Conflict),
        ("22023", BadRequest),
        ("22P02", BadRequest),
        ("23514", BadRequest),
        ("22007", BadRequest),
        ("22008", BadRequest),  # a date out of range
        ("22009", BadRequest),  # a time zone offset Postgres does not take
        ("22021", BadRequest),  # a NUL byte
    ],
)
def test_a_domain_sqlstate_becomes_its_error_with_the_functions_message(
    sqlstate: str, kind: type[ScoutError]
) -> None:
    error = error_for(sqlstate, "source 42 not found", "get_source")
    assert type(error) is kind
    assert error.message == "source 42 not found"


@pytest.mark.parametrize("code", ["P0001", "42883", "23503", "PGRST202", "401", None])
def test_any_other_code_is_an_upstream_failure_naming_only_the_call(code: str | None) -> None:
    error = error_for(code, 'relation "secret" does not exist', "get_source")
    assert type(error) is UpstreamFailed
    assert error.message == "the store could not complete get_source"
    assert error.status == 502


@pytest.mark.parametrize("code", ["57P01", "57P03", "08006", "08001"])
def test_a_server_going_away_is_store_unavailable_503(code: str) -> None:
    error = error_for(code, "terminating connection due to administrator command", "get_source")
    assert type(error) is StoreUnavailable
    assert error.status == 503
    assert "administrator" not in error.message
