"""Conventions every migration keeps (docs/storage.md), checked on the migrated schema.

They hold for every migration, later ones included, because both adapters and the Supabase
API rely on them: functions in public are the API, called only by the backend.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

# Functions in public that are API functions (not trigger functions, not extension-owned).
API_FUNCTIONS = """
select p.oid, p.proname as name, p.oid::regprocedure::text as signature
from pg_proc p
where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'
  and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
  and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
"""


async def _all(db: psycopg.AsyncConnection[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    return await (await db.execute(query)).fetchall()


async def test_every_table_in_public_has_row_level_security(
    db: psycopg.AsyncConnection[dict[str, Any]],
) -> None:
    unguarded = await _all(
        db,
        """select c.relname from pg_class c
           where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
             and not c.relrowsecurity""",
    )
    assert unguarded == []


async def test_no_api_function_is_overloaded(db: psycopg.AsyncConnection[dict[str, Any]]) -> None:
    # PostgREST picks among overloads by argument names and may refuse to choose (PGRST203).
    overloaded = await _all(
        db, f"select name, count(*) from ({API_FUNCTIONS}) f group by name having count(*) > 1"
    )
    assert overloaded == []


async def test_every_api_function_returns_a_single_value(db: psycopg.AsyncConnection[dict[str, Any]]) -> None:
    # PostgREST answers a set as a JSON array and void as no content; the Postgres adapter
    # reads one value. A single value (jsonb by convention) renders alike through both.
    others = await _all(
        db,
        f"""select f.signature, format_type(p.prorettype, null) as returns, p.proretset
            from ({API_FUNCTIONS}) f join pg_proc p on p.oid = f.oid
            where p.proretset or p.prorettype in ('void'::regtype, 'record'::regtype)""",
    )
    assert others == []


async def test_no_api_function_takes_an_array_or_composite_parameter(
    db: psycopg.AsyncConnection[dict[str, Any]],
) -> None:
    # PostgREST turns a JSON array into a SQL array and an object into a row; the Postgres
    # adapter cannot. jsonb parameters carry structured values through both alike.
    others = await _all(
        db,
        f"""select f.signature, format_type(t.oid, null) as parameter
            from ({API_FUNCTIONS}) f join pg_proc p on p.oid = f.oid
            cross join unnest(p.proargtypes::oid[]) as arg(type) join pg_type t on t.oid = arg.type
            where t.typcategory = 'A' or t.typtype = 'c'""",
    )
    assert others == []


async def test_every_api_function_pins_its_search_path(db: psycopg.AsyncConnection[dict[str, Any]]) -> None:
    # The adapters call with different search paths (PostgREST: "public, extensions").
    unpinned = await _all(
        db,
        f"""select f.signature from ({API_FUNCTIONS}) f join pg_proc p on p.oid = f.oid
            where not exists (select from unnest(p.proconfig) c where c like 'search_path=%%')""",
    )
    assert unpinned == []


@pytest.mark.parametrize(
    ("role", "allowed"), [("anon", False), ("authenticated", False), ("service_role", True)]
)
async def test_only_the_service_role_may_call_api_functions(
    db: psycopg.AsyncConnection[dict[str, Any]], role: str, allowed: bool
) -> None:
    functions = await _all(
        db,
        f"select signature, has_function_privilege('{role}', oid, 'execute') as allowed"
        f" from ({API_FUNCTIONS}) f",
    )
    assert functions, "the foundation migration defines scout_ping"
    assert [f["signature"] for f in functions if f["allowed"] is not allowed] == []


async def test_the_supabase_api_roles_exist_as_on_supabase(
    db: psycopg.AsyncConnection[dict[str, Any]],
) -> None:
    roles = await _all(
        db,
        """select rolname, rolcanlogin, rolbypassrls from pg_roles
           where rolname in ('anon', 'authenticated', 'service_role') order by rolname""",
    )
    assert roles == [
        {"rolname": "anon", "rolcanlogin": False, "rolbypassrls": False},
        {"rolname": "authenticated", "rolcanlogin": False, "rolbypassrls": False},
        {"rolname": "service_role", "rolcanlogin": False, "rolbypassrls": True},
    ]
