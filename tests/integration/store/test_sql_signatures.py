"""The typed stores and the migrations agree: every declared SQL function exists in ``pg_proc``
with exactly the argument names and types the Python side passes."""

from __future__ import annotations

import psycopg
import pytest

from scout.audit import store as audit_store
from scout.jobs import store as jobs_store
from scout.monitors import store as monitors_store
from scout.monitors import webhook_store
from scout.store.functions import SqlFunction

DECLARED = [
    value
    for module in (jobs_store, audit_store, monitors_store, webhook_store)
    for value in vars(module).values()
    if isinstance(value, SqlFunction)
]

SIGNATURES = """
select array(
    select format_type(t, null) from unnest(p.proargtypes::oid[]) with ordinality as a(t, n) order by n
) as types,
coalesce(p.proargnames[1:p.pronargs], '{}') as names
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'public' and p.proname = %s
"""


def signatures(database_url: str, name: str) -> list[tuple[tuple[str, str], ...]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(SIGNATURES, (name,)).fetchall()
    return [tuple(zip(names, types, strict=True)) for types, names in rows]


def test_every_typed_store_declares_its_functions() -> None:
    # Given the two typed stores, When their declarations are collected, Then none is missed
    names = {function.name for function in DECLARED}
    assert {"list_jobs", "claim_due_sources", "sync_source_postings"} <= names
    assert {"create_scan", "claim_scan", "finish_scan"} <= names
    assert {"create_monitor", "start_monitor_run", "list_monitor_runs"} <= names
    assert {"claim_outbox_events", "begin_webhook_delivery", "record_webhook_attempt"} <= names


@pytest.mark.parametrize("function", DECLARED, ids=lambda function: function.name)
def test_declared_function_matches_its_sql_signature(database_url: str, function: SqlFunction) -> None:
    # Given the migrated database, When the function's overloads are read from pg_proc
    found = signatures(database_url, function.name)
    # Then it exists, and one overload takes exactly the declared names and types, in order
    assert found, f"public.{function.name} does not exist after the migrations"
    assert function.arguments in found, (
        f"public.{function.name} takes {found}, the typed store passes {function.arguments}"
    )


def test_a_declaration_of_a_missing_function_is_caught(database_url: str) -> None:
    # Given a declaration naming no SQL function, When pg_proc is read, Then nothing matches
    assert signatures(database_url, "list_jobz") == []


def test_a_declaration_with_a_wrong_type_is_caught(database_url: str) -> None:
    # Given list_companies declared with its limit as text, When compared, Then it does not match
    found = signatures(database_url, "list_companies")
    assert (("p_after_company", "text"), ("p_limit", "text")) not in found
    assert (("p_after_company", "text"), ("p_limit", "integer")) in found
