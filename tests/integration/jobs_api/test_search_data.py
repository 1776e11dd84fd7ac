"""The search benchmark's generated board: its composed search vectors are the trigger's.

bench.support.search_data writes every posting's vectors itself (parsing each shared part
once, the row trigger bypassed); a query number means nothing if the index it reads differs
from what a sync would have written, so each vector is compared with the trigger's own.
"""

from __future__ import annotations

import psycopg

from bench.support.search_data import load_board

VECTORS = "title_search, place_words, search"


def test_generated_vectors_equal_what_the_trigger_computes(clean_database: str) -> None:
    # Given a generated board of 3,000 postings (every title shape, one to three places)
    load_board(clean_database, postings=3000, sources=100)
    with psycopg.connect(clean_database) as conn:
        conn.execute(f"create temporary table generated as select id, {VECTORS} from public.postings")
        # When the trigger computes every posting's vectors again (a write of its title)
        conn.execute("update public.postings set title = title")
        # Then every vector it computes is the one the generator composed
        differing = conn.execute(
            """select count(*) filter (where (p.title_search, p.place_words, p.search)
                                              is distinct from (g.title_search, g.place_words, g.search)),
                       count(*), count(*) filter (where g.search @@ 'join & us'::tsquery),
                       count(*) filter (where g.place_words is null or g.title_search is null)
                from public.postings p join generated g using (id)"""
        ).fetchone()
        conn.rollback()
    assert differing == (0, 3000, 3000, 0)
