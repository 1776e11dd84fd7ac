-- Sync speed (issue 14): the sync of a large board touches only the rows that change.
-- Same parameters and behaviour as 20261206000100_job_content.sql, except that
-- * the incoming postings are indexed and analysed, so the joins are planned for their size;
-- * a posting seen again unchanged is not rewritten: an unchanged re-poll writes no posting
--   row. When it was last seen stays exact: a posting in the source's latest successful sync
--   (in_latest_sync) was last seen then (sources.last_success_at); only a posting that
--   changes, (re)appears or drops out of that sync is written, and one that drops out keeps
--   the time of the last sync that listed it in its own last_seen_at.

alter table public.postings add column in_latest_sync boolean not null default false;
comment on column public.postings.in_latest_sync is
    'Listed by the source''s latest successful sync: last seen at sources.last_success_at, '
    'else at last_seen_at.';

create or replace function public.sync_source_postings(p_source_id uuid, p_result jsonb) returns jsonb
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
        p.*, md5((e.value - 'list_hash' - 'detail')::text) as content_hash, false as keep_stored,
        -- Annualised here from the stated range, whatever the caller sent, so stored rows agree.
        private.annual_salary(p.salary_min, p.salary_period) as salary_year_min,
        private.annual_salary(p.salary_max, p.salary_period) as salary_year_max
    from jsonb_array_elements(v_postings) with ordinality as e(value, position)
    cross join lateral jsonb_to_record(e.value) as p(
        external_id text, title text, url text, apply_url text, location text, locations jsonb,
        workplace_type text, remote boolean, department text, team text, employment_type text,
        posted_at timestamptz, updated_at timestamptz, description_html text, description_text text,
        salary_min numeric, salary_max numeric, salary_currency text, salary_period text,
        list_hash text, detail text)
    order by p.external_id, e.position desc;

    -- The temporary table has no statistics: without them every join below against the
    -- 5,000 rows of a large board was planned as if it held a handful (measured: bench.search).
    create index on incoming (external_id);
    analyze incoming;

    -- A posting whose detail was not fetched because its list entry is the one stored keeps
    -- what its stored detail gave: the list alone would overwrite the description with nothing.
    -- Only when the store really holds that entry, with its detail, is the row left as it is.
    update incoming i set keep_stored = true
    from public.postings existing
    where i.detail = 'unchanged' and existing.source_id = p_source_id
      and existing.external_id = i.external_id and existing.list_hash = i.list_hash
      and not existing.detail_pending;

    -- A posting without its identity or title is an adapter bug; dropping it quietly would
    -- count it as missed and could archive a live role, so the whole sync is refused.
    if exists (select 1 from incoming where nullif(external_id, '') is null or nullif(title, '') is null) then
        raise exception 'every posting needs an external_id and a title' using errcode = '22023';
    end if;

    select count(*) into v_fetched from incoming;

    select count(*) filter (where existing.id is null or existing.archived_at is not null
                                  or (existing.content_hash <> incoming.content_hash and not incoming.keep_stored)),
           count(*) filter (where existing.archived_at is not null)
      into v_upserted, v_relisted
    from incoming
    left join public.postings existing
           on existing.source_id = p_source_id and existing.external_id = incoming.external_id;

    insert into public.postings as p (
        source_id, external_id, title, url, apply_url, location, locations, workplace_type, remote,
        department, team, employment_type, posted_at, updated_at, description_html, description_text,
        salary_min, salary_max, salary_currency, salary_period, salary_year_min, salary_year_max,
        content_hash, list_hash, detail_pending, in_latest_sync)
    select p_source_id, external_id, title, url, apply_url, location, coalesce(locations, '[]'::jsonb),
           workplace_type, remote, department, team, employment_type, posted_at, updated_at,
           description_html, description_text, salary_min, salary_max, salary_currency, salary_period,
           salary_year_min, salary_year_max, content_hash, list_hash,
           -- A failed detail, or an "unchanged" one the store turned out not to hold, is retried.
           coalesce(detail in ('failed', 'unchanged'), false), true
    from incoming i
    -- The same test as the conflict's where below, made first: an insert computes the row's
    -- search vectors before it finds the conflict, so each unchanged posting cost its four
    -- tsvectors for nothing (measured: bench.search --parts sync).
    where not i.keep_stored
      and not exists (
          select 1 from public.postings stored
          where stored.source_id = p_source_id and stored.external_id = i.external_id
            and stored.content_hash = i.content_hash and stored.archived_at is null
            and stored.detail_pending = coalesce(i.detail in ('failed', 'unchanged'), false))
    on conflict (source_id, external_id) do update set
        title = excluded.title, url = excluded.url, apply_url = excluded.apply_url,
        location = excluded.location, locations = excluded.locations,
        workplace_type = excluded.workplace_type, remote = excluded.remote,
        department = excluded.department, team = excluded.team,
        employment_type = excluded.employment_type, posted_at = excluded.posted_at,
        updated_at = excluded.updated_at,
        -- A detail that failed leaves the list's posting without a description: keep the one
        -- an earlier detail stored until the retry brings the new one.
        description_html = case when excluded.detail_pending
                                then coalesce(excluded.description_html, p.description_html)
                                else excluded.description_html end,
        description_text = case when excluded.detail_pending
                                then coalesce(excluded.description_text, p.description_text)
                                else excluded.description_text end,
        salary_min = excluded.salary_min,
        salary_max = excluded.salary_max, salary_currency = excluded.salary_currency,
        salary_period = excluded.salary_period, salary_year_min = excluded.salary_year_min,
        salary_year_max = excluded.salary_year_max, content_hash = excluded.content_hash,
        list_hash = excluded.list_hash, detail_pending = excluded.detail_pending,
        missed_runs = 0, last_seen_at = now(), archived_at = null, in_latest_sync = true
    -- Most polls return boards that did not change: rewriting every row would re-toast its
    -- description and rebuild its search entry for nothing (measured in docs/performance.md).
    where p.content_hash is distinct from excluded.content_hash or p.archived_at is not null
       or p.detail_pending is distinct from excluded.detail_pending;

    -- Seen again and unchanged (or kept with its stored detail): only the bookkeeping moves;
    -- a kept posting that had been archived is listed again. A posting already listed by the
    -- previous sync is not written at all (rewriting last_seen_at rewrote every row of an
    -- unchanged board): the source's last_success_at, set below, says when it was seen.
    update public.postings p
    set missed_runs = 0, last_seen_at = now(), archived_at = null, in_latest_sync = true
    from incoming i
    where p.source_id = p_source_id and p.external_id = i.external_id
      and (p.content_hash = i.content_hash or i.keep_stored)
      and (p.archived_at is not null or p.missed_runs <> 0 or not p.in_latest_sync);

    -- Not in this sync (whatever the guards decide below): last seen by the previous one.
    update public.postings p
    set in_latest_sync = false, last_seen_at = greatest(p.last_seen_at, v_source.last_success_at)
    where p.source_id = p_source_id and p.in_latest_sync
      and not exists (select 1 from incoming i where i.external_id = p.external_id);

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
        list_digest = private.list_digest(p_source_id),
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


-- A job's last_seen_at as before: the latest sync that listed it (see in_latest_sync).
-- Otherwise as in 20261206000100_job_content.sql.

create or replace function private.job_json(p public.postings, s public.sources) returns jsonb
language sql stable
set search_path = ''
as $$
    select jsonb_build_object(
        'id', p.id,
        'source_id', p.source_id,
        'company', s.company,
        'ats', s.ats,
        'board', s.board,
        'external_id', p.external_id,
        'title', p.title,
        'url', p.url,
        'apply_url', p.apply_url,
        'location', p.location,
        'locations', p.locations,
        'workplace_type', p.workplace_type,
        'remote', p.remote,
        'department', p.department,
        'team', p.team,
        'employment_type', p.employment_type,
        'posted_at', p.posted_at,
        'updated_at', p.updated_at,
        'description_html', p.description_html,
        'description_text', p.description_text,
        'salary_min', p.salary_min,
        'salary_max', p.salary_max,
        'salary_currency', p.salary_currency,
        'salary_period', p.salary_period,
        'salary_year_min', p.salary_year_min,
        'salary_year_max', p.salary_year_max,
        'first_seen_at', p.first_seen_at,
        'last_seen_at', case when p.in_latest_sync then greatest(p.last_seen_at, s.last_success_at)
                             else p.last_seen_at end,
        'archived_at', p.archived_at
    )
$$;


-- The scheduler's claim orders due sources by (next_poll_at, id): with only next_poll_at
-- indexed, sources due at the same moment (a batch made due together) were all read and
-- sorted by id before the first page of 100 was taken (measured: bench.search --parts claim).
create index sources_due_order_idx on public.sources (next_poll_at, id) where enabled;
drop index public.sources_due_idx;
