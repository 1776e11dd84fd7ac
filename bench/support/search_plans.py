"""The queries list_jobs runs for one page, and their plans (bench.search and its plan test)."""

from __future__ import annotations

from typing import Any

import psycopg

from scout.jobs import catalog
from scout.jobs.models import JobQuery
from scout.jobs.store import list_jobs_arguments
from scout.store.arguments import encode_arguments, literal_text


def page_queries(conn: psycopg.Connection[Any], query: JobQuery) -> tuple[int, list[dict[str, Any]]]:
    """The page size and ``private.jobs_page_plan``'s queries for ``query``, best tier first."""
    arguments = list_jobs_arguments(query, catalog.jobs_position(query.cursor))
    limit = int(arguments.pop("p_limit"))
    encoded = {name: literal_text(value) for name, value in encode_arguments(arguments).items()}
    named = ", ".join(f"{name} => %({name})s" for name in encoded)
    row = conn.execute(f"select private.jobs_page_plan({named})", encoded).fetchone()
    assert row is not None
    return limit, row[0]["queries"]


def explain_page(conn: psycopg.Connection[Any], query: JobQuery, options: str) -> list[dict[str, Any]]:
    """``EXPLAIN (options)`` of each query list_jobs runs for the page, as it runs them: each
    with the rows the page still needs, until it is full. Each step: rank, rows, plan."""
    limit, queries = page_queries(conn, query)
    wanted = limit + 1
    explained = []
    for step in queries:
        conn.execute(f"prepare tier_query(integer) as {step['sql']}")
        try:
            fetched = len(conn.execute(f"execute tier_query({wanted})").fetchall())
            plan = conn.execute(f"explain ({options}) execute tier_query({wanted})").fetchall()
        finally:
            conn.execute("deallocate tier_query")
        explained.append({"rank": step["rank"], "rows": fetched, "plan": [line[0] for line in plan]})
        wanted -= fetched
        if wanted <= 0:
            break
    return explained
