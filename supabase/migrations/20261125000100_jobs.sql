-- Jobs: sources (job boards), their postings, and one row per poll run.
--
-- The heart of this file is sync_source_postings(): one call, one transaction, one round trip
-- per polled source. It upserts what the ATS returned, relists postings that reappear, counts
-- misses, and archives a posting only after K consecutive complete runs without it, with
-- guards that hold archiving back whenever the fetch looks suspicious.

create table public.sources (
    id                   uuid primary key default gen_random_uuid(),
    ats                  text not null
        check (ats in ('greenhouse', 'lever', 'ashby', 'workday', 'smartrecruiters', 'jsonld')),
    board                text not null check (length(board) between 1 and 2048),
    company              text not null check (length(company) between 1 and 200),
    enabled              boolean not null default true,
    poll_interval        interval not null default interval '15 minutes',
    next_poll_at         timestamptz not null default now(),
    last_polled_at       timestamptz,
    last_success_at      timestamptz,
    last_error           jsonb,
    consecutive_failures integer not null default 0,
    active_postings      integer not null default 0,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    unique (ats, board)
);

create index sources_due_idx on public.sources (next_poll_at) where enabled;

create table public.postings (
    id               uuid primary key default gen_random_uuid(),
    source_id        uuid not null references public.sources (id) on delete cascade,
    external_id      text not null check (length(external_id) between 1 and 512),
    title            text not null,
    url              text,
    apply_url        text,
    location         text,
    locations        jsonb not null default '[]'::jsonb,
    workplace_type   text check (workplace_type in ('remote', 'hybrid', 'onsite')),
    remote           boolean,
    department       text,
    team             text,
    employment_type  text
        check (employment_type in ('full_time', 'part_time', 'contract', 'temporary', 'intern')),
    posted_at        timestamptz,
    updated_at       timestamptz,
    description_html text,
    description_text text,
    salary_min       numeric,
    salary_max       numeric,
    salary_currency  text,
    salary_period    text check (salary_period in ('year', 'month', 'week', 'day', 'hour')),
    content_hash     text not null,
    missed_runs      integer not null default 0,
    first_seen_at    timestamptz not null default now(),
    last_seen_at     timestamptz not null default now(),
    archived_at      timestamptz,
    -- Newest first: a posting without a posted date sorts by when scout first saw it.
    sort_at          timestamptz generated always as (coalesce(posted_at, first_seen_at)) stored,
    search           tsvector generated always as (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(department, '') || ' ' || coalesce(team, '')), 'B')
        || setweight(to_tsvector('english', coalesce(location, '')), 'B')
        || setweight(to_tsvector('english', left(coalesce(description_text, ''), 100000)), 'C')
    ) stored,
    unique (source_id, external_id)
);

create index postings_search_idx on public.postings using gin (search);
create index postings_active_feed_idx on public.postings (sort_at desc, id desc) where archived_at is null;
create index postings_feed_idx on public.postings (sort_at desc, id desc);
create index postings_source_active_idx on public.postings (source_id) where archived_at is null;

create table public.poll_runs (
    id          uuid primary key default gen_random_uuid(),
    source_id   uuid not null references public.sources (id) on delete cascade,
    status      text not null check (status in ('succeeded', 'failed')),
    complete    boolean not null,
    fetched     integer not null default 0,
    upserted    integer not null default 0,
    archived    integer not null default 0,
    relisted    integer not null default 0,
    guard       text,
    error       jsonb,
    started_at  timestamptz not null,
    finished_at timestamptz not null default clock_timestamp()
);

create index poll_runs_source_idx on public.poll_runs (source_id, started_at desc, id desc);

-- Row-level security: postings and sources are public reading; everything else goes
-- through the service role (the API functions), which bypasses RLS on Supabase.
alter table public.sources enable row level security;
alter table public.postings enable row level security;
alter table public.poll_runs enable row level security;

create policy postings_public_read on public.postings for select to anon, authenticated using (true);
create policy sources_public_read on public.sources for select to anon, authenticated using (enabled);
grant select on public.postings, public.sources to anon, authenticated;
grant all on public.sources, public.postings, public.poll_runs to service_role;


-- How many consecutive complete runs must miss a posting before it is archived. Workday and
-- JSON-LD pages are scraped rather than read from an API, so they get one more chance.
create function public.archive_after_misses(p_ats text) returns integer
language sql immutable
set search_path = ''
as $$
    select case when p_ats in ('workday', 'jsonld') then 3 else 2 end
$$;


-- Sync one source's fetch result. p_result:
--   {"status": "succeeded" | "failed", "complete": bool, "postings": [normalised posting...],
--    "error": {"code", "message"} | null, "started_at": timestamptz}
-- Returns the poll run as JSON.
create function public.sync_source_postings(p_source_id uuid, p_result jsonb) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_source        public.sources%rowtype;
    v_status        text := coalesce(p_result ->> 'status', 'failed');
    v_complete      boolean := coalesce((p_result ->> 'complete')::boolean, false);
    v_started_at    timestamptz := coalesce((p_result ->> 'started_at')::timestamptz, now());
    v_postings      jsonb := coalesce(p_result -> 'postings', '[]'::jsonb);
    v_error         jsonb := p_result -> 'error';
    v_active_before integer;
    v_fetched       integer := 0;
    v_upserted      integer := 0;
    v_relisted      integer := 0;
    v_archived      integer := 0;
    v_candidates    integer := 0;
    v_guard         text;
    v_threshold     integer;
    v_run           public.poll_runs%rowtype;
begin
    -- One sync per source at a time: concurrent polls of the same board queue up here.
    select * into v_source from public.sources where id = p_source_id for update;
    if not found then
        raise exception 'source % does not exist', p_source_id using errcode = 'P0002';
    end if;
    if v_status not in ('succeeded', 'failed') then
        raise exception 'status must be succeeded or failed' using errcode = '22023';
    end if;
    if jsonb_typeof(v_postings) <> 'array' then
        raise exception 'postings must be an array' using errcode = '22023';
    end if;

    if v_status = 'failed' then
        -- A failed fetch changes no posting. Back off exponentially (capped at a day) but
        -- never disable: one 404 or outage must not silently drop a board.
        update public.sources set
            last_polled_at = now(),
            last_error = coalesce(v_error, '{"code": "fetch_failed", "message": "The fetch failed."}'),
            consecutive_failures = consecutive_failures + 1,
            next_poll_at = now() + least(
                poll_interval * power(2, least(consecutive_failures + 1, 7)),
                interval '24 hours'),
            updated_at = now()
        where id = p_source_id;
        insert into public.poll_runs (source_id, status, complete, error, started_at)
        values (p_source_id, 'failed', false, v_error, v_started_at)
        returning * into v_run;
        return to_jsonb(v_run);
    end if;

    select count(*) into v_active_before
    from public.postings where source_id = p_source_id and archived_at is null;

    -- The ATS's own id is the key; a board listing the same id twice keeps the last copy.
    create temporary table incoming on commit drop as
    select distinct on (p.external_id)
        p.*, md5(e.value::text) as content_hash
    from jsonb_array_elements(v_postings) with ordinality as e(value, position)
    cross join lateral jsonb_to_record(e.value) as p(
        external_id text, title text, url text, apply_url text, location text, locations jsonb,
        workplace_type text, remote boolean, department text, team text, employment_type text,
        posted_at timestamptz, updated_at timestamptz, description_html text, description_text text,
        salary_min numeric, salary_max numeric, salary_currency text, salary_period text)
    order by p.external_id, e.position desc;

    -- A posting without its identity or title is an adapter bug; dropping it quietly would
    -- count it as missed and could archive a live role, so the whole sync is refused.
    if exists (select 1 from incoming where nullif(external_id, '') is null or nullif(title, '') is null) then
        raise exception 'every posting needs an external_id and a title' using errcode = '22023';
    end if;

    select count(*) into v_fetched from incoming;

    select count(*) filter (where existing.id is null or existing.content_hash <> incoming.content_hash
                                  or existing.archived_at is not null),
           count(*) filter (where existing.archived_at is not null)
      into v_upserted, v_relisted
    from incoming
    left join public.postings existing
           on existing.source_id = p_source_id and existing.external_id = incoming.external_id;

    insert into public.postings as p (
        source_id, external_id, title, url, apply_url, location, locations, workplace_type, remote,
        department, team, employment_type, posted_at, updated_at, description_html, description_text,
        salary_min, salary_max, salary_currency, salary_period, content_hash)
    select p_source_id, external_id, title, url, apply_url, location, coalesce(locations, '[]'::jsonb),
           workplace_type, remote, department, team, employment_type, posted_at, updated_at,
           description_html, description_text, salary_min, salary_max, salary_currency, salary_period,
           content_hash
    from incoming
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
        missed_runs = 0, last_seen_at = now(), archived_at = null
    -- Most polls return boards that did not change: rewriting every row would re-toast its
    -- description and rebuild its search entry for nothing (measured in docs/performance.md).
    where p.content_hash is distinct from excluded.content_hash or p.archived_at is not null;

    update public.postings p set missed_runs = 0, last_seen_at = now()
    from incoming i
    where p.source_id = p_source_id and p.external_id = i.external_id
      and p.content_hash = i.content_hash and p.archived_at is null and p.last_seen_at < now();

    -- Archiving is only ever considered after a complete, successful fetch, and the guards
    -- below hold it back (and stop miss counting) whenever the result looks suspicious.
    if not v_complete then
        v_guard := 'incomplete_fetch';
    elsif v_fetched = 0 and v_active_before > 0 then
        v_guard := 'empty_result';
    elsif v_fetched < ceil(0.7 * v_active_before) then
        v_guard := 'shrunk_result';
    else
        v_threshold := public.archive_after_misses(v_source.ats);
        select count(*) into v_candidates
        from public.postings p
        where p.source_id = p_source_id and p.archived_at is null and p.missed_runs + 1 >= v_threshold
          and not exists (select 1 from incoming i where i.external_id = p.external_id);
        if v_candidates * 2 > v_active_before then
            v_guard := 'mass_archive';
        end if;
    end if;

    if v_guard is null then
        update public.postings p set missed_runs = p.missed_runs + 1
        where p.source_id = p_source_id and p.archived_at is null
          and not exists (select 1 from incoming i where i.external_id = p.external_id);
        update public.postings p set archived_at = now()
        where p.source_id = p_source_id and p.archived_at is null and p.missed_runs >= v_threshold;
        get diagnostics v_archived = row_count;
    end if;

    update public.sources set
        last_polled_at = now(),
        last_success_at = now(),
        last_error = null,
        consecutive_failures = 0,
        next_poll_at = now() + poll_interval,
        active_postings = (select count(*) from public.postings
                           where source_id = p_source_id and archived_at is null),
        updated_at = now()
    where id = p_source_id;

    insert into public.poll_runs (source_id, status, complete, fetched, upserted, archived, relisted,
                                  guard, started_at)
    values (p_source_id, 'succeeded', v_complete, v_fetched, v_upserted, v_archived, v_relisted,
            v_guard, v_started_at)
    returning * into v_run;
    return to_jsonb(v_run);
end;
$$;

revoke all on function public.sync_source_postings(uuid, jsonb) from public, anon, authenticated;
grant execute on function public.sync_source_postings(uuid, jsonb) to service_role;
