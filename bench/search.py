"""What GET /jobs costs at a million postings, and what the sync and the scheduler's claim cost.

An embedded Postgres in a temporary folder (removed afterwards) gets the schema of
``supabase/migrations`` and a generated job board (``bench.support.search_data``: 1,000,000
postings over 5,000 sources by default, made in SQL). Then:

- every query shape of GET /jobs, through the store (``catalog.search_jobs`` over
  ``PostgresStore``) and through the HTTP handler (the jobs API resolver, in-process), each
  ``--repetitions`` times after one warm-up: p50 / p95 against the targets (store <= 50 ms,
  handler <= 80 ms, page 50 <= 1.5 x page 2); the plans of the three slowest; index sizes;
  and, as the baseline, ordering the common query's matches by ``ts_rank_cd``;
- the poller's sync of a 5,000-posting source: first import, an unchanged re-poll, then 50
  changed and 20 gone (targets 1 s, 300 ms, 300 ms), the re-polls from a warm process; and,
  for comparison, an unchanged re-poll from a cold one (everything in full);
- one claim of due sources (a scheduler page, 100) with 5,000 and 50,000 sources (50 ms).

Results: ``bench/results/search.json`` and ``search.md``. The machine is shared: run it as
``flock /tmp/scout-bench.lock python -m bench.search``.

    python -m bench.search [--postings 1000000] [--sources 5000] [--repetitions 20]
                           [--parts jobs,sync,claim]

``--parts`` measures only the named parts while iterating; such a run is recorded as
``search-<parts>.md`` / ``.json`` beside the full run's ``search.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.support.polling_machine import load_average, machine_facts
from bench.support.recording import record as record_results
from bench.support.search_data import SENTENCES, add_sources, load_board
from bench.support.search_plans import explain_page
from bench.support.search_report import render_markdown
from scout import runtime
from scout.jobs import catalog
from scout.jobs.models import JobQuery
from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import record
from scout.jobs.store import JobStore
from scout.jobs.sync_payload import LAST_SYNCED, as_stored_where_unchanged, content_entries, with_fingerprints
from scout.store.embedded import EmbeddedPostgres
from scout.store.postgres import PostgresStore
from tests.support.http_events import http_event, json_body

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = PROJECT_ROOT / "supabase" / "migrations"

STORE_P95_MS = 50.0
HANDLER_P95_MS = 80.0
DEEP_PAGE_RATIO = 1.5
SYNC_TARGETS_MS = {"first_import": 1000.0, "unchanged_repoll": 300.0, "changed_50_removed_20": 300.0}
CLAIM_TARGET_MS = 50.0
CLAIM_PAGE = 100  # scout.jobs.scheduling.CLAIM_PAGE_SIZE
SYNC_POSTINGS = 5000
SYNC_REPETITIONS = 3
PARTS = ("jobs", "sync", "claim")
# One in fifteen sources due, as with 15-minute polls and a scheduler tick a minute.
DUE_FRACTION = 15

# Each shape is GET /jobs's query string; page_2 / page_50 get their cursor at run time.
SHAPES: dict[str, dict[str, str]] = {
    "no_filter": {},
    "q_common": {"q": "engineer"},
    "q_multi_word": {"q": "senior backend engineer"},
    "q_rare": {"q": "haskell"},
    "q_and_location": {"q": "engineer", "location": "berlin"},
    "location": {"location": "london"},
    "company": {"company": "globex robotics"},
    "salary": {"salary_min": "150000"},
    "remote": {"remote": "true"},
    "q_common_page_2": {"q": "engineer"},
    "q_common_page_50": {"q": "engineer"},
}

HANDLER_ENVIRONMENT = {
    "ALLOWED_HOSTS": "localhost",
    "ADMIN_SESSION_SECRET": "admin-secret-for-the-search-benchmark-0123",
    "SUPABASE_JWT_SECRET": "user-secret-for-the-search-benchmark-01234",
    "SCOUT_STORE": "postgres",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "scout",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_DEFAULT_REGION": "us-east-1",
}

TS_RANK_CD_BASELINE = """
select p.id from public.postings p
where p.archived_at is null and p.search @@ websearch_to_tsquery('english', 'engineer')
order by ts_rank_cd(p.search, websearch_to_tsquery('english', 'engineer'))
         / (1 + extract(epoch from now() - p.sort_at) / 2592000) desc, p.id desc
limit 21
"""


@dataclass(frozen=True)
class Options:
    postings: int
    sources: int
    claim_sources: int
    repetitions: int
    record: bool
    command: str
    parts: tuple[str, ...] = PARTS


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000, help="postings to generate (1000000)")
    parser.add_argument("--sources", type=int, default=5000, help="sources they belong to (5000)")
    parser.add_argument(
        "--claim-sources", type=int, default=50_000, help="sources of the large claim (50000)"
    )
    parser.add_argument("--repetitions", type=int, default=20, help="timed calls per shape and path (20)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave bench/results alone")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated parts to measure ({','.join(PARTS)})"
    )
    args = parser.parse_args(argv)
    parts = tuple(part.strip() for part in args.parts.split(",") if part.strip())
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        parser.error(f"--parts takes some of {', '.join(PARTS)}; got {args.parts!r}")
    command = "python -m bench.search" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    return Options(
        args.postings,
        args.sources,
        args.claim_sources,
        args.repetitions,
        not args.no_record,
        command.strip(),
        parts,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    # Stopped (kill, Ctrl-C), it still stops its Postgres and removes the data folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    started = time.perf_counter()
    load_before = load_average()
    folder = Path(tempfile.mkdtemp(prefix="scout-bench-search-pg-"))
    database = EmbeddedPostgres(folder / "data", MIGRATIONS)
    try:
        dsn = database.start()
        results = SearchBench(options, dsn).run()
        results["machine"] = machine_facts(dsn)
    finally:
        database.stop()
        shutil.rmtree(folder, ignore_errors=True)
    results["machine"]["load_average_before"] = load_before
    results["machine"]["load_average_after"] = load_average()
    results["suite_seconds"] = round(time.perf_counter() - started, 1)
    report = render_markdown(results)
    print(report)
    if options.record:
        # A run of some parts is kept beside the full record, never over it.
        record_results(
            "search" if options.parts == PARTS else "search-" + "-".join(options.parts), results, report
        )
    return 0 if results["targets_met"] else 1


def milliseconds(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def timed(call: Callable[[], Any], repetitions: int) -> list[float]:
    call()  # warm-up: plans, caches, pooled connections
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


class SearchBench:
    def __init__(self, options: Options, dsn: str) -> None:
        self.options = options
        self.dsn = dsn
        self.store = PostgresStore(dsn)

    def run(self) -> dict[str, Any]:
        print(f"search benchmark: generating {self.options.postings} postings ...", file=sys.stderr)
        loaded = load_board(self.dsn, postings=self.options.postings, sources=self.options.sources)
        print(f"generated in {sum(loaded.seconds.values()):.1f} s: {loaded.seconds}", file=sys.stderr)
        parts = self.options.parts
        results: dict[str, Any] = {
            "suite": "search",
            "command": self.options.command,
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "settings": {"repetitions": self.options.repetitions, "page_size": 20, "parts": list(parts)},
            "data": self.data_facts(loaded.seconds),
        }
        if "jobs" in parts:
            api = self.jobs_api()
            queries = self.shape_queries()
            shapes = {name: self.measure_shape(api, name, query) for name, query in queries.items()}
            baseline = milliseconds(timed(self.ts_rank_cd_baseline, max(3, self.options.repetitions // 4)))
            slowest = sorted(shapes, key=lambda name: shapes[name]["store"]["p95_ms"], reverse=True)[:3]
            results |= {
                "shapes": shapes,
                "ts_rank_cd_baseline": baseline | {"query": " ".join(TS_RANK_CD_BASELINE.split())},
                "plans": {name: self.explain(queries[name]) for name in slowest},
                "index_sizes": self.index_sizes(),
            }
        if "sync" in parts:
            results["sync"] = self.measure_sync()
        if "claim" in parts:
            results["claims"] = {
                str(count): self.measure_claim(count)
                for count in (self.options.sources, self.options.claim_sources)
            }
        runtime.run(self.store.aclose())
        results["targets"] = targets(results)
        results["targets_met"] = all(target["met"] for target in results["targets"])
        return results

    # ---- GET /jobs ------------------------------------------------------------------------

    def jobs_api(self) -> Any:
        # Set before anything builds the process's dependencies (scout.deps reads it then).
        os.environ.update(HANDLER_ENVIRONMENT | {"DATABASE_URL": self.dsn})
        import importlib

        return importlib.import_module("scout.jobs.api")

    def search(self, query: dict[str, str]) -> Any:
        return runtime.run(catalog.search_jobs(JobQuery.model_validate(query), store=self.store))

    def shape_queries(self) -> dict[str, dict[str, str]]:
        queries = {name: dict(query) for name, query in SHAPES.items()}
        cursor: str | None = None
        for page in range(1, 50):
            cursor = self.search(SHAPES["q_common"] | ({"cursor": cursor} if cursor else {})).next_cursor
            assert cursor is not None, f"q_common has fewer than {page + 1} pages"
            if page == 1:
                queries["q_common_page_2"]["cursor"] = cursor
        queries["q_common_page_50"]["cursor"] = cursor or ""
        return queries

    def measure_shape(self, api: Any, name: str, query: dict[str, str]) -> dict[str, Any]:
        first = self.search(query)

        def through_handler() -> None:
            response = api.app.resolve(http_event("GET", "/jobs", query=query), {})
            assert response["statusCode"] == 200, json_body(response)

        store = timed(lambda: self.search(query), self.options.repetitions)
        handler = timed(through_handler, self.options.repetitions)
        print(f"{name}: store p50 {statistics.median(store) * 1000:.1f} ms", file=sys.stderr)
        return {
            "query": {key: value for key, value in query.items() if key != "cursor"},
            "items": len(first.items),
            "store": milliseconds(store),
            "handler": milliseconds(handler),
        }

    def ts_rank_cd_baseline(self) -> None:
        with psycopg.connect(self.dsn) as conn:
            conn.execute(TS_RANK_CD_BASELINE).fetchall()

    def explain(self, query: dict[str, str]) -> list[dict[str, Any]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            steps = explain_page(conn, JobQuery.model_validate(query), "analyze, buffers")
        return [step | {"plan": "\n".join(step["plan"])} for step in steps]

    def index_sizes(self) -> list[dict[str, Any]]:
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                """select c.relname, i.relname, pg_relation_size(i.oid)
                   from pg_index x join pg_class i on i.oid = x.indexrelid
                   join pg_class c on c.oid = x.indrelid
                   where c.oid in ('public.postings'::regclass, 'public.sources'::regclass,
                                   'private.title_words'::regclass)
                   union all
                   select relname, '(table, with TOAST)', pg_total_relation_size(oid) - pg_indexes_size(oid)
                   from pg_class where oid = 'public.postings'::regclass
                   order by 3 desc"""
            ).fetchall()
        return [{"table": table, "index": index, "mb": round(size / 2**20, 1)} for table, index, size in rows]

    def data_facts(self, seconds: dict[str, float]) -> dict[str, Any]:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                """select count(*), count(*) filter (where archived_at is null),
                          count(*) filter (where salary_min is not null),
                          round(avg(length(description_text))),
                          count(*) filter (where archived_at is null and search @@ 'engin'::tsquery),
                          count(*) filter (where archived_at is null and search @@ 'haskel'::tsquery),
                          (select count(*) from public.sources),
                          (select count(*) from private.title_words)
                   from public.postings"""
            ).fetchone()
        assert row is not None
        keys = (
            "postings",
            "active",
            "with_salary",
            "description_chars_avg",
            "active_matching_engineer",
            "active_matching_haskell",
            "sources",
            "title_words",
        )
        facts = {key: int(value) for key, value in zip(keys, row, strict=True)}
        return facts | {"generation_seconds": {key: round(value, 1) for key, value in seconds.items()}}

    # ---- sync and claims --------------------------------------------------------------------

    def measure_sync(self) -> dict[str, Any]:
        """The poller's sync (``scout.jobs.polling.record``) of one board, as a warm process runs it.

        The first import finds nothing remembered, so it sends every posting in full; the
        re-polls send the postings the last sync sent unchanged as fingerprints. Then, as a
        cold process (a new Lambda environment) does, the unchanged board in full once more.
        """
        runs: dict[str, list[float]] = {
            name: [] for name in (*SYNC_TARGETS_MS, "unchanged_repoll_cold_process")
        }
        sent: dict[str, dict[str, int]] = {}
        jobs = JobStore(self.store)
        for repetition in range(SYNC_REPETITIONS):
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                row = conn.execute(
                    "insert into public.sources (ats, board, company) values ('greenhouse', %s, 'Sync Bench')"
                    " returning id",
                    [f"sync-bench-{repetition}"],
                ).fetchone()
            assert row is not None
            request = PollRequest(source_id=row[0], ats="greenhouse", board=f"sync-bench-{repetition}")
            board = [bench_posting(n) for n in range(SYNC_POSTINGS)]
            # Postings 0-19 gone, 20-69 changed: 50 changed + 20 removed.
            changed = [bench_posting(n, changed=n < 70) for n in range(20, SYNC_POSTINGS)]
            for name, postings in (
                ("first_import", board),
                ("unchanged_repoll", board),
                ("changed_50_removed_20", changed),
                ("unchanged_repoll_cold_process", changed),
            ):
                if name == "unchanged_repoll_cold_process":
                    LAST_SYNCED.forget(request.source_id)
                outcome = {
                    "status": "succeeded",
                    "complete": True,
                    "postings": postings,
                    "error": None,
                    "started_at": datetime.now(UTC).isoformat(),
                }
                remembered = LAST_SYNCED.get(request.source_id)
                started = time.perf_counter()
                run = runtime.run(record(jobs, request, with_fingerprints(outcome), retry=False))
                runs[name].append(time.perf_counter() - started)
                assert run.status == "succeeded", run
                payload = as_stored_where_unchanged(with_fingerprints(outcome), remembered)
                sent[name] = {
                    "postings": len(postings),
                    "with_content": content_entries(payload),
                    "payload_bytes": len(json.dumps(payload)),
                    "upserted": run.upserted,
                    "archived": run.archived,
                }
        return {
            name: milliseconds(samples) | {"runs": len(samples)} | sent[name]
            for name, samples in runs.items()
        }

    def measure_claim(self, count: int) -> dict[str, Any]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            have = conn.execute("select count(*) from public.sources").fetchone()
            assert have is not None
            if have[0] < count:
                add_sources(conn, count - have[0], first=have[0] + 1)
            # A fifteenth due (never fewer than two pages, so a small run claims full pages too).
            due = max(2 * CLAIM_PAGE, count // DUE_FRACTION)
            conn.execute(
                """with ranked as (
                       select id, row_number() over (order by hashtext(id::text), id) as n
                       from public.sources)
                   update public.sources s set next_poll_at = case
                       when r.n <= %(due)s then now() - interval '1 minute'
                       else now() + interval '10 minutes' end
                   from ranked r where r.id = s.id""",
                {"due": due},
            )
            conn.execute("vacuum (analyze) public.sources")
        samples = []
        for _ in range(self.options.repetitions + 1):
            started = time.perf_counter()
            claimed = runtime.run(
                self.store.call("claim_due_sources", p_limit=CLAIM_PAGE, p_lease_seconds=3600)
            )
            samples.append(time.perf_counter() - started)
            assert len(claimed) == CLAIM_PAGE, len(claimed)
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                # Due again, so every claim finds the same backlog (100 rows, not the table).
                conn.execute(
                    "update public.sources set next_poll_at = now() - interval '1 minute' where id = any(%s)",
                    [[item["source_id"] for item in claimed]],
                )
        return milliseconds(samples[1:]) | {"sources": count, "claimed": CLAIM_PAGE}


def bench_posting(n: int, *, changed: bool = False) -> dict[str, Any]:
    """A normalised posting of the sync benchmark's board, with a 1-2 KB description."""
    description = " ".join(SENTENCES[(n * 7 + k) % len(SENTENCES)] for k in range(12 + n % 9))
    if changed:
        description += " This role was updated."
    posted = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n)
    return {
        "external_id": f"sync-{n}",
        "title": f"Senior Backend Engineer {n}",
        "url": f"https://boards.example.com/sync/{n}",
        "apply_url": None,
        "location": "Berlin, Germany",
        "locations": ["Berlin, Germany", "Remote"] if n % 3 == 0 else ["Berlin, Germany"],
        "workplace_type": "hybrid",
        "remote": False,
        "department": "Engineering",
        "team": "Platform",
        "employment_type": "full_time",
        "posted_at": posted.isoformat(),
        "updated_at": None,
        "description_html": f"<p>{description}</p>",
        "description_text": description,
        "salary_min": 90000 if n % 3 == 0 else None,
        "salary_max": 120000 if n % 3 == 0 else None,
        "salary_currency": "EUR" if n % 3 == 0 else None,
        "salary_period": "year" if n % 3 == 0 else None,
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for name, shape in results.get("shapes", {}).items():
        checks.append(
            target(f"{name}: store p95 <= {STORE_P95_MS:g} ms", shape["store"]["p95_ms"], STORE_P95_MS)
        )
        checks.append(
            target(
                f"{name}: handler p95 <= {HANDLER_P95_MS:g} ms", shape["handler"]["p95_ms"], HANDLER_P95_MS
            )
        )
    shapes = results.get("shapes", {})
    for path in ("store", "handler") if shapes else ():
        ratio = shapes["q_common_page_50"][path]["p50_ms"] / shapes["q_common_page_2"][path]["p50_ms"]
        checks.append(
            target(f"page 50 / page 2 ({path}, p50) <= {DEEP_PAGE_RATIO:g}", round(ratio, 2), DEEP_PAGE_RATIO)
        )
    for name, limit in SYNC_TARGETS_MS.items() if "sync" in results else ():
        checks.append(target(f"sync {name} (median) <= {limit:g} ms", results["sync"][name]["p50_ms"], limit))
    for count, claim in results.get("claims", {}).items():
        checks.append(
            target(
                f"claim of {CLAIM_PAGE} at {count} sources (p95) <= {CLAIM_TARGET_MS:g} ms",
                claim["p95_ms"],
                CLAIM_TARGET_MS,
            )
        )
    return checks


def target(name: str, measured: float, limit: float) -> dict[str, Any]:
    return {"target": name, "measured": measured, "limit": limit, "met": measured <= limit}


if __name__ == "__main__":
    sys.exit(main())
