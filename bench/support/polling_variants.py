"""Three ways of polling the same sources, which the polling benchmark compares.

- ``scout``: production's poller, ``scout.jobs.polling.poll_sources``: sources concurrently
  (bounded), each fetched with ``fetch_board`` on the process's pooled clients and synced with
  exactly one ``sync_source_postings`` call (``JobStore.sync_source_postings``).
- ``client_per_request``: the naive baseline. Sources one after another, a new httpx client
  for every request (so a new TCP connection each time), and the sync as several SQL
  statements on one connection.
- ``two_phase_gather``: the pooled clients and concurrent sources like scout, but the sync
  split into four statements run as two phases of ``asyncio.gather`` over a connection pool
  (upsert postings + count misses, then archive + update the source and record the run).

The baselines fetch exactly as scout does (``fetch_within``, the poll deadline). Their SQL is
written here, against the real schema, and does the work of ``sync_source_postings`` minus
its guards other than completeness: if anything, that favours them.
``python -m bench.support.polling_variants`` runs one variant from a JSON job (a line on stdin)
and prints its measurements as JSON (the benchmark runs each run in its own process).

``scout_warm`` is scout in a process that has polled the same sources before, as the poll
Lambda stays warm between scheduled polls: the first poll (untimed) leaves the process's
memory of what it synced (``scout.jobs.sync_payload.LAST_SYNCED``), its HTTP clients are then
closed (a warm Lambda's connections idle out between polls, ``KEEPALIVE_EXPIRY_SECONDS``), the
child prints ``{"primed": true}`` and reads the sources again (with their new list digests) as
one more line on stdin once the benchmark has changed the boards; the second poll is timed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool

from bench.support.cpu_usage import busy_share, machine_jiffies
from scout import runtime
from scout.errors import ScoutError
from scout.jobs.clients import ats_api_client, careers_page_client
from scout.jobs.details import KnownPosting
from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import fetch_failed, fetch_within, fetched, poll_sources
from scout.settings import Settings, load_settings
from scout.store import Store, get_store
from tests.support.loopback_names import WORKDAY_HOSTS, resolving_to_loopback

VARIANTS = ("scout", "scout_warm", "client_per_request", "two_phase_gather")
# The Postgres store's own pool size, so the two-phase baseline gets as many connections.
DB_POOL_SIZE = 10


@dataclass(frozen=True)
class SourceRef:
    id: str
    ats: str
    board: str
    # What a claim hands the poller for kinds with detail pages (scout.jobs.details).
    list_digest: str | None = None


@dataclass
class PollTally:
    """What a variant did: sources by outcome and database round trips per source."""

    succeeded: int = 0
    failed: int = 0
    round_trips_by_source: Counter[str] = field(default_factory=Counter)
    succeeded_ids: set[str] = field(default_factory=set)
    # Sources that asked for their postings' fingerprints (details were due): one trip more.
    asked_fingerprints: set[str] = field(default_factory=set)

    def record(self, source: SourceRef, status: str) -> None:
        if status == "succeeded":
            self.succeeded += 1
            self.succeeded_ids.add(source.id)
        else:
            self.failed += 1

    def round_trips_per_source(self, *, succeeded: bool) -> dict[str, int]:
        """How many sources made how many round trips, e.g. ``{"1": 314}``."""
        counts = Counter(
            self.round_trips_by_source[source_id]
            for source_id in self.round_trips_by_source
            if (source_id in self.succeeded_ids) == succeeded
        )
        return {str(trips): sources for trips, sources in sorted(counts.items())}

    def round_trips_of_sources_needing_no_details(self) -> dict[str, int]:
        """Like ``round_trips_per_source`` for succeeded sources that did not ask for fingerprints."""
        counts = Counter(
            self.round_trips_by_source[source_id]
            for source_id in self.succeeded_ids
            if source_id not in self.asked_fingerprints
        )
        return {str(trips): sources for trips, sources in sorted(counts.items())}

    def round_trips_of_sources_needing_details(self) -> dict[str, int]:
        counts = Counter(
            self.round_trips_by_source[source_id]
            for source_id in self.succeeded_ids
            if source_id in self.asked_fingerprints
        )
        return {str(trips): sources for trips, sources in sorted(counts.items())}


# --- scout ----------------------------------------------------------------------------------


class CallsPerSource:
    """A store that counts the calls made for each source, then passes them on.

    Syncs overlap, so the store's own round-trip count cannot be split per source; counting
    calls per source here, and checking their total against the store's count and the wire's,
    shows that each source took exactly one round trip.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: Counter[str] = Counter()
        self.asked_fingerprints: set[str] = set()

    @property
    def round_trips(self) -> int:
        return self.store.round_trips

    @round_trips.setter
    def round_trips(self, value: int) -> None:
        self.store.round_trips = value

    async def call(self, function: str, /, **args: Any) -> Any:
        self.calls[str(args.get("p_source_id"))] += 1
        if function == "posting_fingerprints":
            self.asked_fingerprints.add(str(args.get("p_source_id")))
        return await self.store.call(function, **args)

    async def aclose(self) -> None:
        await self.store.aclose()


async def poll_with_scout(
    sources: Sequence[SourceRef],
    *,
    store: Store,
    settings: Settings,
    concurrency: int,
    client: httpx.AsyncClient | None = None,
) -> PollTally:
    """Production's poller, as ``scout poll --all`` runs it (without claiming the sources).

    ``client`` None means the production clients: the pooled one for ATS APIs, the
    egress-guarded one for careers pages.
    """
    counted = CallsPerSource(store)
    by_id = {source.id: source for source in sources}
    requests = [
        PollRequest(
            source_id=UUID(source.id), ats=source.ats, board=source.board, list_digest=source.list_digest
        )
        for source in sources
    ]
    tally = PollTally()
    async for outcome in poll_sources(
        requests, store=counted, settings=settings, concurrency=concurrency, client=client
    ):
        # No run means the store failed: counted as a failure, which the benchmark reports.
        status = outcome.run.status if outcome.run is not None else "not_synced"
        tally.record(by_id[str(outcome.request.source_id)], status)
    tally.round_trips_by_source.update(counted.calls)
    tally.asked_fingerprints = counted.asked_fingerprints
    return tally


async def fetch_outcome(
    source: SourceRef,
    *,
    settings: Settings,
    client: httpx.AsyncClient | None,
    fingerprints: Callable[[SourceRef], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """One board fetched as the poller fetches it, in the sync's format.

    Kinds with detail pages learn which details are due as scout does (the list digest, else
    one ``posting_fingerprints`` statement through ``fingerprints``), so the baselines fetch
    exactly the details scout fetches.
    """
    started_at = datetime.now(UTC)

    async def known() -> dict[str, KnownPosting]:
        rows = await fingerprints(source)
        return {external_id: KnownPosting.model_validate(row) for external_id, row in rows.items()}

    try:
        result = await fetch_within(
            source.ats,
            source.board,
            deadline_seconds=settings.poll_deadline_seconds,
            settings=settings,
            client=client,
            known=known,
            known_digest=source.list_digest,
        )
    except ScoutError as exc:
        return fetch_failed(exc, started_at)
    return fetched(result, started_at)


# --- baselines: the sync as separate statements ---------------------------------------------

_POSTING_FIELDS = """
    external_id text, title text, url text, apply_url text, location text, locations jsonb,
    workplace_type text, remote boolean, department text, team text, employment_type text,
    posted_at timestamptz, updated_at timestamptz, description_html text, description_text text,
    salary_min numeric, salary_max numeric, salary_currency text, salary_period text,
    list_hash text, detail text
"""

UPSERT_POSTINGS = f"""
insert into public.postings as p (
    source_id, external_id, title, url, apply_url, location, locations, workplace_type, remote,
    department, team, employment_type, posted_at, updated_at, description_html, description_text,
    salary_min, salary_max, salary_currency, salary_period, content_hash, list_hash)
select %(source_id)s, r.external_id, r.title, r.url, r.apply_url, r.location, coalesce(r.locations, '[]'),
       r.workplace_type, r.remote, r.department, r.team, r.employment_type, r.posted_at, r.updated_at,
       r.description_html, r.description_text, r.salary_min, r.salary_max, r.salary_currency,
       r.salary_period, md5(e.value::text), r.list_hash
from jsonb_array_elements(%(postings)s::jsonb) as e(value)
cross join lateral jsonb_to_record(e.value) as r({_POSTING_FIELDS})
-- A posting whose detail was not fetched (its list entry is the stored one) keeps its row.
where r.detail is distinct from 'unchanged'
on conflict (source_id, external_id) do update set
    title = excluded.title, url = excluded.url, apply_url = excluded.apply_url,
    location = excluded.location, locations = excluded.locations,
    workplace_type = excluded.workplace_type, remote = excluded.remote,
    department = excluded.department, team = excluded.team,
    employment_type = excluded.employment_type, posted_at = excluded.posted_at,
    updated_at = excluded.updated_at, description_html = excluded.description_html,
    description_text = excluded.description_text, salary_min = excluded.salary_min,
    salary_max = excluded.salary_max, salary_currency = excluded.salary_currency,
    salary_period = excluded.salary_period, content_hash = excluded.content_hash,
    list_hash = excluded.list_hash, missed_runs = 0, last_seen_at = now(), archived_at = null
"""

COUNT_MISSES = """
update public.postings set missed_runs = missed_runs + 1
where source_id = %(source_id)s and archived_at is null and not (external_id = any(%(seen)s))
"""

ARCHIVE_MISSING = """
update public.postings set archived_at = now()
where source_id = %(source_id)s and archived_at is null
  and missed_runs >= public.archive_after_misses(%(ats)s)
"""

RECORD_SUCCESS = """
with source as (
    update public.sources set
        last_polled_at = now(), last_success_at = now(), last_error = null,
        consecutive_failures = 0, next_poll_at = now() + poll_interval,
        active_postings = (select count(*) from public.postings
                           where source_id = %(source_id)s and archived_at is null),
        updated_at = now()
    where id = %(source_id)s
    returning id
)
insert into public.poll_runs (source_id, status, complete, fetched, upserted, archived, relisted, started_at)
select id, 'succeeded', %(complete)s, %(fetched)s, %(fetched)s, %(archived)s, 0, %(started_at)s from source
"""

RECORD_FAILURE = """
with source as (
    update public.sources set
        last_polled_at = now(), last_error = %(error)s::jsonb,
        consecutive_failures = consecutive_failures + 1,
        next_poll_at = now() + poll_interval, updated_at = now()
    where id = %(source_id)s
    returning id
)
insert into public.poll_runs (source_id, status, complete, error, started_at)
select id, 'failed', false, %(error)s::jsonb, %(started_at)s from source
"""

Execute = Callable[[str, dict[str, Any]], Awaitable[int]]


FINGERPRINTS = "select public.posting_fingerprints(%(source_id)s) as fingerprints"

Query = Callable[[str, dict[str, Any]], Awaitable[Any]]


class StatementSync:
    """The sync as separate statements; ``execute`` runs one and answers its row count."""

    def __init__(self, execute: Execute, tally: PollTally, query: Query) -> None:
        self._execute = execute
        self._query = query
        self.tally = tally

    async def fingerprints(self, source: SourceRef) -> dict[str, Any]:
        self.tally.round_trips_by_source[source.id] += 1
        self.tally.asked_fingerprints.add(source.id)
        rows: dict[str, Any] = await self._query(FINGERPRINTS, {"source_id": source.id})
        return rows

    async def run(self, source: SourceRef, outcome: dict[str, Any], *, two_phases: bool) -> None:
        if outcome["status"] != "succeeded":
            await self._statement(source, RECORD_FAILURE, self._failure(source, outcome))
            self.tally.record(source, "failed")
            return
        postings = outcome["postings"]
        base = {"source_id": source.id, "ats": source.ats}
        upsert = self._statement(source, UPSERT_POSTINGS, {**base, "postings": json.dumps(postings)})
        record = {
            **base,
            "complete": outcome["complete"],
            "fetched": len(postings),
            "started_at": outcome["started_at"],
        }
        if not outcome["complete"]:
            # Nothing may be archived after an incomplete fetch: upsert and record only.
            await upsert
            await self._statement(source, RECORD_SUCCESS, {**record, "archived": 0})
        elif two_phases:
            seen = [posting["external_id"] for posting in postings]
            await asyncio.gather(upsert, self._statement(source, COUNT_MISSES, {**base, "seen": seen}))
            # Run side by side, the run record cannot know what archiving did.
            await asyncio.gather(
                self._statement(source, ARCHIVE_MISSING, base),
                self._statement(source, RECORD_SUCCESS, {**record, "archived": 0}),
            )
        else:
            seen = [posting["external_id"] for posting in postings]
            await upsert
            await self._statement(source, COUNT_MISSES, {**base, "seen": seen})
            archived = await self._statement(source, ARCHIVE_MISSING, base)
            await self._statement(source, RECORD_SUCCESS, {**record, "archived": archived})
        self.tally.record(source, "succeeded")

    async def _statement(self, source: SourceRef, statement: str, params: dict[str, Any]) -> int:
        self.tally.round_trips_by_source[source.id] += 1
        return await self._execute(statement, params)

    @staticmethod
    def _failure(source: SourceRef, outcome: dict[str, Any]) -> dict[str, Any]:
        return {
            "source_id": source.id,
            "error": json.dumps(outcome["error"]),
            "started_at": outcome["started_at"],
        }


class ClientPerRequest(httpx.AsyncBaseTransport):
    """Sends each request with an httpx client made for it and closed after it (no reuse)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncClient(trust_env=False) as client:
            response = await client.send(request)
        headers = [
            (name, value) for name, value in response.headers.multi_items() if name != "content-encoding"
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=response.content, request=request
        )


async def poll_client_per_request(sources: Sequence[SourceRef], *, dsn: str, settings: Settings) -> PollTally:
    tally = PollTally()
    async with (
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn,
        httpx.AsyncClient(transport=ClientPerRequest()) as client,
    ):

        async def execute(statement: str, params: dict[str, Any]) -> int:
            cursor = await conn.execute(statement.encode(), params)
            return cursor.rowcount

        async def query(statement: str, params: dict[str, Any]) -> Any:
            row = await (await conn.execute(statement.encode(), params)).fetchone()
            return row[0] if row else None

        sync = StatementSync(execute, tally, query)
        for source in sources:
            outcome = await fetch_outcome(
                source, settings=settings, client=client, fingerprints=sync.fingerprints
            )
            await sync.run(source, outcome, two_phases=False)
    return tally


async def poll_two_phase_gather(
    sources: Sequence[SourceRef], *, dsn: str, settings: Settings, concurrency: int
) -> PollTally:
    tally = PollTally()
    async with AsyncConnectionPool(
        dsn, min_size=1, max_size=DB_POOL_SIZE, kwargs={"autocommit": True}, open=False
    ) as pool:

        async def execute(statement: str, params: dict[str, Any]) -> int:
            async with pool.connection() as conn:
                cursor = await conn.execute(statement.encode(), params)
                return cursor.rowcount

        async def query(statement: str, params: dict[str, Any]) -> Any:
            async with pool.connection() as conn:
                row = await (await conn.execute(statement.encode(), params)).fetchone()
                return row[0] if row else None

        sync = StatementSync(execute, tally, query)
        slots = asyncio.Semaphore(concurrency)

        async def poll(source: SourceRef) -> None:
            async with slots:
                outcome = await fetch_outcome(
                    source, settings=settings, client=None, fingerprints=sync.fingerprints
                )
                await sync.run(source, outcome, two_phases=True)

        await asyncio.gather(*(poll(source) for source in sources))
    return tally


# --- one run in this process, for the benchmark --------------------------------------------


async def run_variant(job: dict[str, Any]) -> dict[str, Any]:
    settings = load_settings()
    assert settings.database_url is not None
    dsn = settings.database_url.get_secret_value()
    sources = [SourceRef(*item) for item in job["sources"]]
    variant = job["variant"]
    concurrency = int(job["concurrency"])
    store = get_store(settings) if variant in ("scout", "scout_warm") else None
    if store is not None:
        store.round_trips = 0  # a warm process's store has counted its first poll's
    machine_before, cpu_before = machine_jiffies(), time.process_time()
    started = time.perf_counter()
    if store is not None:
        tally = await poll_with_scout(sources, store=store, settings=settings, concurrency=concurrency)
    elif variant == "client_per_request":
        tally = await poll_client_per_request(sources, dsn=dsn, settings=settings)
    elif variant == "two_phase_gather":
        tally = await poll_two_phase_gather(sources, dsn=dsn, settings=settings, concurrency=concurrency)
    else:
        raise ValueError(f"unknown variant {variant!r} (one of {', '.join(VARIANTS)})")
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    return {
        "variant": variant,
        "sources": len(sources),
        "succeeded": tally.succeeded,
        "failed": tally.failed,
        "wall_seconds": wall,
        "client_cpu_seconds": cpu,
        "machine_cpu_busy": busy_share(machine_before, machine_jiffies()),
        "client_round_trips": sum(tally.round_trips_by_source.values()),
        "store_round_trips": store.round_trips if store is not None else None,
        "round_trips_per_succeeded_source": tally.round_trips_per_source(succeeded=True),
        "round_trips_per_failed_source": tally.round_trips_per_source(succeeded=False),
        "round_trips_of_sources_needing_no_details": tally.round_trips_of_sources_needing_no_details(),
        "round_trips_of_sources_needing_details": tally.round_trips_of_sources_needing_details(),
    }


async def prime(job: dict[str, Any]) -> None:
    """A warm process's poll before the timed one (module docstring), its clients closed after."""
    settings = load_settings()
    sources = [SourceRef(*item) for item in job["sources"]]
    await poll_with_scout(
        sources, store=get_store(settings), settings=settings, concurrency=int(job["concurrency"])
    )
    await ats_api_client().aclose()
    await careers_page_client(settings).aclose()


def main() -> int:
    job = json.loads(sys.stdin.readline())
    # The farm serves each Workday tenant under its own host name (bench.support.ats_farm).
    with resolving_to_loopback(WORKDAY_HOSTS):
        if job["variant"] == "scout_warm":
            runtime.run(prime(job))
            print(json.dumps({"primed": True}), flush=True)
            job["sources"] = json.loads(sys.stdin.readline())["sources"]
        result = runtime.run(run_variant(job))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
