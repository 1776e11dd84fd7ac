"""The search benchmark in small: at 20,000 generated postings every GET /jobs shape reads
postings through an index, never a scan of the whole table (plans only; timing is bench.search's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bench.search import SHAPES
from bench.support.search_data import load_board
from bench.support.search_plans import explain_page
from scout.jobs.models import JobQuery


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


@pytest.mark.parametrize("scale", [20_000])
def test_every_search_shape_reads_postings_through_an_index(clean_database: str, scale: int) -> None:
    # Given a generated board of 20,000 postings over 1,000 sources
    load_board(clean_database, postings=scale, sources=1000)
    scans: dict[str, list[str]] = {}
    with psycopg.connect(clean_database, autocommit=True) as conn:
        for name, query in SHAPES.items():
            # When each shape's page is planned as list_jobs runs it
            for step in explain_page(conn, JobQuery.model_validate(query), "format json"):
                (document,) = step["plan"]
                nodes = list(plan_nodes(document[0]["Plan"]))
                # Then no query reads postings by a sequential scan
                scans.setdefault(name, []).extend(
                    f"tier {step['rank']}"
                    for node in nodes
                    if node.get("Relation Name") == "postings" and node["Node Type"] == "Seq Scan"
                )
                assert any("Index" in node["Node Type"] for node in nodes), (name, step["rank"])
    assert {name: found for name, found in scans.items() if found} == {}
