"""claim_due_sources takes a page of due sources without reading the whole backlog."""

from __future__ import annotations

import psycopg

from bench.support.search_data import add_sources


def test_a_claim_reads_one_page_of_a_backlog_due_at_the_same_moment(clean_database: str) -> None:
    # Given 5,000 sources, 1,000 of them made due at the same moment
    with psycopg.connect(clean_database, autocommit=True) as conn:
        add_sources(conn, 5000, first=1)
        conn.execute(
            """update public.sources set next_poll_at = case when board <= 'board-001000'
                   then now() - interval '1 minute' else now() + interval '10 minutes' end"""
        )
        conn.execute("vacuum (analyze) public.sources")
    with psycopg.connect(clean_database) as conn:
        # When one page of 100 is claimed
        claimed = conn.execute("select jsonb_array_length(public.claim_due_sources(100, 60))").fetchone()
        read = conn.execute(
            """select coalesce(sum(pg_stat_get_xact_tuples_returned(indexrelid)), 0)
               from pg_index where indrelid = 'public.sources'::regclass"""
        ).fetchone()
        conn.rollback()
    # Then it read about that page from the due index, not the 1,000 due (nor the table)
    assert claimed == (100,)
    assert read is not None
    assert read[0] <= 200, read
