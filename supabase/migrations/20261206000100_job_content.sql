-- Job content: postings completed from their detail pages, annualised salaries, and the
-- salary filters of GET /jobs compared like with like.
--
-- - postings.list_hash: the fingerprint of the list entry a posting's stored detail belongs to;
--   postings.detail_pending: its last detail failed (or never came), so the next poll retries.
--   posting_fingerprints() hands a poller both, in one round trip, before it fetches details.
-- - postings.salary_year_min / salary_year_max: the stated range annualised (hour x 2080,
--   day x 260, week x 52, month x 12) by the sync; GET /jobs?salary_min= compares against it
--   (a range of unknown period as stated), and GET /jobs?salary_currency= filters by currency.
-- - sync_source_postings() is redefined with every behaviour of 20261125000100_jobs.sql kept;
--   what it adds: postings may carry "list_hash" and "detail" ("fetched", "failed",
--   "unchanged"). An unchanged entry whose detail the store holds keeps its stored row (only
--   seen-again bookkeeping); a failed detail stores the list's posting marked detail_pending,
--   keeping an earlier stored description. Neither changes what counts as complete: a detail
--   only enriches a posting, the list proves it live.

-- sources.list_digest: one hash over the list fingerprints of a source's active postings, null
-- while any of them waits for a detail. It travels in the poll request, so a poller whose
-- fetched list hashes to the same digest knows that no detail is due without asking.
alter table public.sources add column list_digest text;

alter table public.postings
    add column salary_year_min numeric,
    add column salary_year_max numeric,
    add column list_hash text,
    add column detail_pending boolean not null default false;

-- One period's pay over a year of full-time work: what scout.jobs.posting.PERIODS_PER_YEAR says.
create function private.annual_salary(p_amount numeric, p_period text) returns numeric
language sql immutable
set search_path = ''
as $$
    select p_amount * case p_period when 'year' then 1 when 'month' then 12 when 'week' then 52
                                    when 'day' then 260 when 'hour' then 2080 end
$$;

revoke all on function private.annual_salary(numeric, text) from public;
grant execute on function private.annual_salary(numeric, text) to service_role;

-- Rows stored before this migration, annualised as the sync now does it.
update public.postings set
    salary_year_min = private.annual_salary(salary_min, salary_period),
    salary_year_max = private.annual_salary(salary_max, salary_period)
where salary_period is not null and (salary_min is not null or salary_max is not null);


-- The digest scout.jobs.details.list_digest computes over a fetched list: md5 of
-- "external_id:list_hash" joined by commas in code-point order (collation "C"), over the
-- active postings that have a fingerprint; null when there is none or a detail is pending.
create function private.list_digest(p_source_id uuid) returns text
language sql stable
set search_path = ''
as $$
    select case when bool_or(p.detail_pending) then null
                else md5(string_agg(p.external_id || ':' || p.list_hash, ',' order by p.external_id collate "C"))
           end
    from public.postings p
    where p.source_id = p_source_id and p.archived_at is null and p.list_hash is not null
$$;

revoke all on function private.list_digest(uuid) from public;
grant execute on function private.list_digest(uuid) to service_role;

-- What a poller needs to poll a source without asking the database again, now with the digest.
create or replace function private.poll_request_json(s public.sources) returns jsonb
language sql stable
set search_path = ''
as $$
    -- Sources without a digest (kinds without detail pages) keep the request as it was.
    select jsonb_build_object('source_id', s.id, 'ats', s.ats, 'board', s.board)
        || case when s.list_digest is null then '{}'::jsonb
                else jsonb_build_object('list_digest', s.list_digest) end
$$;


-- What a poller needs to choose the details to fetch: {external_id: {list_hash, detail_pending}}
-- for every posting of the source that has a list fingerprint (archived ones too: a relisted
-- posting whose entry did not change keeps its stored detail).
create function public.posting_fingerprints(p_source_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
    select coalesce(jsonb_object_agg(p.external_id, jsonb_build_object(
               'list_hash', p.list_hash, 'detail_pending', p.detail_pending)), '{}'::jsonb)
    from public.postings p
    where p.source_id = p_source_id and p.list_hash is not null
$$;

revoke all on function public.posting_fingerprints(uuid) from public, anon, authenticated;
grant execute on function public.posting_fingerprints(uuid) to service_role;


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
        content_hash, list_hash, detail_pending)
    select p_source_id, external_id, title, url, apply_url, location, coalesce(locations, '[]'::jsonb),
           workplace_type, remote, department, team, employment_type, posted_at, updated_at,
           description_html, description_text, salary_min, salary_max, salary_currency, salary_period,
           salary_year_min, salary_year_max, content_hash, list_hash,
           -- A failed detail, or an "unchanged" one the store turned out not to hold, is retried.
           coalesce(detail in ('failed', 'unchanged'), false)
    from incoming
    where not keep_stored
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
        missed_runs = 0, last_seen_at = now(), archived_at = null
    -- Most polls return boards that did not change: rewriting every row would re-toast its
    -- description and rebuild its search entry for nothing (measured in docs/performance.md).
    where p.content_hash is distinct from excluded.content_hash or p.archived_at is not null
       or p.detail_pending is distinct from excluded.detail_pending;

    -- Seen again and unchanged (or kept with its stored detail): only the bookkeeping moves;
    -- a kept posting that had been archived is listed again.
    update public.postings p set missed_runs = 0, last_seen_at = now(), archived_at = null
    from incoming i
    where p.source_id = p_source_id and p.external_id = i.external_id
      and (p.content_hash = i.content_hash or i.keep_stored)
      and (p.archived_at is not null or p.last_seen_at < now());

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


-- ---- the API: annualised salaries in every job, and the salary filters ---------------------

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
        'last_seen_at', p.last_seen_at,
        'archived_at', p.archived_at
    )
$$;


-- GET /jobs gains p_salary_currency, and p_salary_min now compares against the annualised
-- range. Every other filter, the ordering and the paging are as in 20261125000200_jobs_api.sql.
-- A new parameter is a new signature: the old one is dropped so named calls stay unambiguous.
drop function public.list_jobs(text, text, text, text, text, boolean, text, text, timestamptz, numeric,
                               boolean, timestamptz, uuid, integer);

-- GET /jobs. Every filter is optional; the query is built from the filters given, so each
-- call is planned for its own filters (a full-text query uses postings_search_idx, a plain
-- feed walks postings_active_feed_idx) rather than one generic plan full of "x is null or".
-- Newest first: sort_at (posted, else first seen) then id, continuing after (p_after_sort_at,
-- p_after_id).
create function public.list_jobs(
    p_q               text default null,
    p_company         text default null,
    p_ats             text default null,
    p_location        text default null,
    p_workplace_type  text default null,
    p_remote          boolean default null,
    p_department      text default null,
    p_employment_type text default null,
    p_posted_after    timestamptz default null,
    p_salary_min      numeric default null,
    p_include_archived boolean default false,
    p_after_sort_at   timestamptz default null,
    p_after_id        uuid default null,
    p_limit           integer default 20,
    p_salary_currency text default null
) returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_query      tsquery;
    v_location   text;
    v_conditions text[] := array['true'];
    v_rows       jsonb;
    v_count      integer;
    v_last       jsonb;
begin
    perform private.check_page_limit(p_limit);
    if (p_after_sort_at is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its position and its id' using errcode = '22023';
    end if;
    if nullif(btrim(p_q), '') is not null then
        v_query := websearch_to_tsquery('english', p_q);
        -- A query of stop words only ("the") has no lexemes and would match nothing.
        if numnode(v_query) = 0 then
            v_query := null;
        end if;
    end if;
    if nullif(btrim(p_location), '') is not null then
        v_location := '%' || replace(replace(replace(btrim(p_location), '\', '\\'), '%', '\%'), '_', '\_') || '%';
    end if;

    if not coalesce(p_include_archived, false) then
        v_conditions := array_append(v_conditions, 'p.archived_at is null');
    end if;
    if v_query is not null then
        v_conditions := array_append(v_conditions, 'p.search @@ $1');
    end if;
    if p_company is not null then
        v_conditions := array_append(v_conditions, 'lower(s.company) = lower($2)');
    end if;
    if p_ats is not null then
        v_conditions := array_append(v_conditions, 's.ats = $3');
    end if;
    if v_location is not null then
        v_conditions := array_append(v_conditions, '(p.location ilike $4 or exists (
            select 1 from jsonb_array_elements_text(p.locations) as l(name) where l.name ilike $4))');
    end if;
    if p_workplace_type is not null then
        v_conditions := array_append(v_conditions, 'p.workplace_type = $5');
    end if;
    if p_remote is not null then
        v_conditions := array_append(v_conditions, 'p.remote = $6');
    end if;
    if p_department is not null then
        v_conditions := array_append(v_conditions, 'lower(p.department) = lower($7)');
    end if;
    if p_employment_type is not null then
        v_conditions := array_append(v_conditions, 'p.employment_type = $8');
    end if;
    if p_posted_after is not null then
        v_conditions := array_append(v_conditions, 'p.posted_at >= $9');
    end if;
    if p_salary_min is not null then
        -- A posting qualifies when its annualised range reaches the yearly amount (greatest()
        -- skips a missing bound). A range of unknown period cannot be annualised: it is
        -- compared as stated, as before this migration. Postings without a salary never match.
        v_conditions := array_append(v_conditions, 'coalesce(greatest(p.salary_year_min, p.salary_year_max),
            greatest(p.salary_min, p.salary_max)) >= $10');
    end if;
    if p_salary_currency is not null then
        v_conditions := array_append(v_conditions, 'p.salary_currency = upper($14)');
    end if;
    if p_after_id is not null then
        v_conditions := array_append(v_conditions, '(p.sort_at, p.id) < ($11, $12)');
    end if;

    -- One row more than asked says whether another page follows.
    execute format($query$
        select coalesce(jsonb_agg(
                   jsonb_build_object('sort_at', page.sort_at, 'item', private.job_json(page.p, page.s))
                   order by page.sort_at desc, page.id desc), '[]'::jsonb)
        from (
            select p.sort_at, p.id, p, s
            from public.postings p
            join public.sources s on s.id = p.source_id
            where %s
            order by p.sort_at desc, p.id desc
            limit $13 + 1
        ) page
    $query$, array_to_string(v_conditions, ' and '))
    into v_rows
    using v_query, p_company, p_ats, v_location, p_workplace_type, p_remote, p_department,
          p_employment_type, p_posted_after, p_salary_min, p_after_sort_at, p_after_id, p_limit,
          p_salary_currency;

    v_count := jsonb_array_length(v_rows);
    if v_count > p_limit then
        v_last := v_rows -> (p_limit - 1);
        return jsonb_build_object(
            'items', (select jsonb_agg(entry -> 'item' order by position)
                      from jsonb_array_elements(v_rows) with ordinality as r(entry, position)
                      where position <= p_limit),
            'next', jsonb_build_object('sort_at', v_last -> 'sort_at', 'id', v_last -> 'item' -> 'id'));
    end if;
    return jsonb_build_object(
        'items', (select coalesce(jsonb_agg(entry -> 'item' order by position), '[]'::jsonb)
                  from jsonb_array_elements(v_rows) with ordinality as r(entry, position)),
        'next', null);
end;
$$;

revoke all on function
    public.list_jobs(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                     timestamptz, uuid, integer, text)
from public, anon, authenticated;
grant execute on function
    public.list_jobs(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                     timestamptz, uuid, integer, text)
to service_role;
