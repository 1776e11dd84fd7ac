-- Jobs API: the SQL functions behind /jobs, /companies, /sources and the pollers.
--
-- Each route or poller step is one call of one function here (one round trip). Lists are
-- keyset-paginated: a function returns {"items": [...], "next": {...} | null}, where "next"
-- is the position after the last item, which the API turns into an opaque cursor.

-- GET /companies groups and pages by company; /sources pages by company, then id.
create index sources_company_idx on public.sources (company, id);
-- The pollers claim enabled sources in next_poll_at order (sources_due_idx); scout poll --all
-- and the admin list need no more.


-- ---- JSON shapes ------------------------------------------------------------------------

-- A job as the API returns it: the normalised posting fields plus scout's own.
create function private.job_json(p public.postings, s public.sources) returns jsonb
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
        'first_seen_at', p.first_seen_at,
        'last_seen_at', p.last_seen_at,
        'archived_at', p.archived_at
    )
$$;

create function private.source_json(s public.sources) returns jsonb
language sql stable
set search_path = ''
as $$
    select jsonb_build_object(
        'id', s.id,
        'ats', s.ats,
        'board', s.board,
        'company', s.company,
        'enabled', s.enabled,
        'poll_interval_minutes', (extract(epoch from s.poll_interval) / 60)::integer,
        'active_postings', s.active_postings,
        'last_polled_at', s.last_polled_at,
        'last_success_at', s.last_success_at,
        'last_error', s.last_error,
        'consecutive_failures', s.consecutive_failures,
        'next_poll_at', s.next_poll_at,
        'created_at', s.created_at
    )
$$;

-- What a poller needs to poll a source without asking the database again.
create function private.poll_request_json(s public.sources) returns jsonb
language sql stable
set search_path = ''
as $$
    select jsonb_build_object('source_id', s.id, 'ats', s.ats, 'board', s.board)
$$;

create function private.check_page_limit(p_limit integer) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_limit is null or p_limit < 1 or p_limit > 100 then
        raise exception 'limit must be between 1 and 100' using errcode = '22023';
    end if;
end;
$$;


-- ---- public read: jobs and companies ----------------------------------------------------

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
    p_limit           integer default 20
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
        -- A posting qualifies when its advertised range reaches the amount (greatest()
        -- skips a missing bound); postings without a salary do not.
        v_conditions := array_append(v_conditions, 'greatest(p.salary_min, p.salary_max) >= $10');
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
          p_employment_type, p_posted_after, p_salary_min, p_after_sort_at, p_after_id, p_limit;

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

-- GET /jobs/{job_id}
create function public.get_job(p_job_id uuid) returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_job jsonb;
begin
    select private.job_json(p, s) into v_job
    from public.postings p join public.sources s on s.id = p.source_id
    where p.id = p_job_id;
    if v_job is null then
        raise exception 'job % does not exist', p_job_id using errcode = 'P0002';
    end if;
    return v_job;
end;
$$;

-- GET /companies: every company scout follows, with its active postings, by name.
create function public.list_companies(p_after_company text default null, p_limit integer default 50)
returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_rows jsonb;
begin
    perform private.check_page_limit(p_limit);
    select coalesce(jsonb_agg(to_jsonb(c) order by c.company), '[]'::jsonb) into v_rows
    from (
        select s.company, sum(s.active_postings)::integer as active_postings, count(*)::integer as sources
        from public.sources s
        where p_after_company is null or s.company > p_after_company
        group by s.company
        order by s.company
        limit p_limit + 1
    ) c;
    if jsonb_array_length(v_rows) > p_limit then
        return jsonb_build_object(
            'items', v_rows - p_limit,
            'next', jsonb_build_object('company', v_rows -> (p_limit - 1) ->> 'company'));
    end if;
    return jsonb_build_object('items', v_rows, 'next', null);
end;
$$;


-- ---- admin: sources ---------------------------------------------------------------------

-- POST /sources. The API has already recognised the board and fetched it once; that trial
-- fetch (p_trial, in sync_source_postings' format) is synced in the same transaction, so a
-- new source's jobs are listed at once and its first run is recorded.
create function public.create_source(p_ats text, p_board text, p_company text, p_trial jsonb default null)
returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_source public.sources%rowtype;
begin
    insert into public.sources (ats, board, company)
    values (p_ats, p_board, btrim(p_company))
    on conflict (ats, board) do nothing
    returning * into v_source;
    if not found then
        raise exception 'scout already polls the % board %', p_ats, p_board using errcode = '23505';
    end if;
    if p_trial is not null then
        perform public.sync_source_postings(v_source.id, p_trial);
        select * into v_source from public.sources where id = v_source.id;
    end if;
    return private.source_json(v_source);
end;
$$;

-- GET /sources: by company, then id.
create function public.list_sources(
    p_after_company text default null,
    p_after_id      uuid default null,
    p_limit         integer default 50
) returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_rows jsonb;
    v_last jsonb;
begin
    perform private.check_page_limit(p_limit);
    if (p_after_company is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its company and its id' using errcode = '22023';
    end if;
    select coalesce(jsonb_agg(private.source_json(page) order by page.company, page.id), '[]'::jsonb)
      into v_rows
    from (
        select * from public.sources s
        where p_after_id is null or (s.company, s.id) > (p_after_company, p_after_id)
        order by s.company, s.id
        limit p_limit + 1
    ) page;
    if jsonb_array_length(v_rows) > p_limit then
        v_last := v_rows -> (p_limit - 1);
        return jsonb_build_object(
            'items', v_rows - p_limit,
            'next', jsonb_build_object('company', v_last -> 'company', 'id', v_last -> 'id'));
    end if;
    return jsonb_build_object('items', v_rows, 'next', null);
end;
$$;

create function public.get_source(p_source_id uuid) returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_source public.sources%rowtype;
begin
    select * into v_source from public.sources where id = p_source_id;
    if not found then
        raise exception 'source % does not exist', p_source_id using errcode = 'P0002';
    end if;
    return private.source_json(v_source);
end;
$$;

-- PATCH /sources/{source_id}. p_changes holds any of company, enabled, poll_interval_minutes;
-- the board itself never changes (another board is another source).
create function public.update_source(p_source_id uuid, p_changes jsonb) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_source   public.sources%rowtype;
    v_minutes  integer;
    v_unknown  text;
begin
    if jsonb_typeof(p_changes) is distinct from 'object' then
        raise exception 'changes must be an object' using errcode = '22023';
    end if;
    select string_agg(key, ', ') into v_unknown
    from jsonb_object_keys(p_changes) as key
    where key not in ('company', 'enabled', 'poll_interval_minutes');
    if v_unknown is not null then
        raise exception 'a source cannot change %', v_unknown using errcode = '22023';
    end if;
    v_minutes := (p_changes ->> 'poll_interval_minutes')::integer;
    if v_minutes is not null and (v_minutes < 5 or v_minutes > 10080) then
        raise exception 'poll_interval_minutes must be between 5 and 10080' using errcode = '22023';
    end if;

    update public.sources s set
        company = coalesce(btrim(p_changes ->> 'company'), s.company),
        enabled = coalesce((p_changes ->> 'enabled')::boolean, s.enabled),
        poll_interval = coalesce(make_interval(mins => v_minutes), s.poll_interval),
        -- A source switched back on is due now rather than whenever it was last scheduled.
        next_poll_at = case when not s.enabled and (p_changes ->> 'enabled')::boolean
                            then least(s.next_poll_at, now()) else s.next_poll_at end,
        updated_at = now()
    where s.id = p_source_id
    returning * into v_source;
    if not found then
        raise exception 'source % does not exist', p_source_id using errcode = 'P0002';
    end if;
    return private.source_json(v_source);
end;
$$;

-- DELETE /sources/{source_id}: the source, its postings and its runs.
create function public.delete_source(p_source_id uuid) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
begin
    delete from public.sources where id = p_source_id;
    if not found then
        raise exception 'source % does not exist', p_source_id using errcode = 'P0002';
    end if;
    return jsonb_build_object('id', p_source_id, 'deleted', true);
end;
$$;

-- GET /sources/{source_id}/runs: newest first.
create function public.list_source_runs(
    p_source_id        uuid,
    p_after_started_at timestamptz default null,
    p_after_id         uuid default null,
    p_limit            integer default 20
) returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_rows jsonb;
    v_last jsonb;
begin
    perform private.check_page_limit(p_limit);
    if (p_after_started_at is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its position and its id' using errcode = '22023';
    end if;
    if not exists (select 1 from public.sources where id = p_source_id) then
        raise exception 'source % does not exist', p_source_id using errcode = 'P0002';
    end if;
    select coalesce(jsonb_agg(to_jsonb(page) order by page.started_at desc, page.id desc), '[]'::jsonb)
      into v_rows
    from (
        select * from public.poll_runs r
        where r.source_id = p_source_id
          and (p_after_id is null or (r.started_at, r.id) < (p_after_started_at, p_after_id))
        order by r.started_at desc, r.id desc
        limit p_limit + 1
    ) page;
    if jsonb_array_length(v_rows) > p_limit then
        v_last := v_rows -> (p_limit - 1);
        return jsonb_build_object(
            'items', v_rows - p_limit,
            'next', jsonb_build_object('started_at', v_last -> 'started_at', 'id', v_last -> 'id'));
    end if;
    return jsonb_build_object('items', v_rows, 'next', null);
end;
$$;


-- ---- polling ----------------------------------------------------------------------------

-- The scheduler's claim: up to p_limit enabled sources that are due (or every enabled one,
-- for scout poll --all), oldest due first. Claimed sources are leased: their next_poll_at
-- moves p_lease_seconds ahead, so the next tick does not enqueue them again while their
-- message waits; the sync sets the real next poll time. SKIP LOCKED lets schedulers that
-- overlap claim disjoint sets instead of waiting on each other.
create function public.claim_due_sources(
    p_limit         integer,
    p_lease_seconds integer,
    p_due_only      boolean default true
) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_claimed jsonb;
begin
    if p_limit is null or p_limit < 1 or p_limit > 10000 then
        raise exception 'limit must be between 1 and 10000' using errcode = '22023';
    end if;
    if p_lease_seconds is null or p_lease_seconds < 1 then
        raise exception 'the lease must be at least one second' using errcode = '22023';
    end if;
    with due as (
        select s.id from public.sources s
        where s.enabled and (not coalesce(p_due_only, true) or s.next_poll_at <= now())
        order by s.next_poll_at, s.id
        limit p_limit
        for update skip locked
    ), claimed as (
        update public.sources s
        set next_poll_at = now() + make_interval(secs => p_lease_seconds)
        from due where s.id = due.id
        returning s.*
    )
    select coalesce(jsonb_agg(private.poll_request_json(claimed) order by claimed.id), '[]'::jsonb)
      into v_claimed
    from claimed;
    return v_claimed;
end;
$$;

-- Sources claimed but not enqueued (the queue refused them) become due again at once.
create function public.release_sources(p_source_ids jsonb) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_released integer;
begin
    if jsonb_typeof(p_source_ids) is distinct from 'array' then
        raise exception 'source ids must be an array' using errcode = '22023';
    end if;
    update public.sources s set next_poll_at = now()
    where s.id in (select value::uuid from jsonb_array_elements_text(p_source_ids))
      and s.next_poll_at > now();
    get diagnostics v_released = row_count;
    return jsonb_build_object('released', v_released);
end;
$$;

-- POST /sources/{source_id}/poll and scout poll --source: lease one source (enabled or not:
-- an admin asked for it) and return what the poller needs.
create function public.request_source_poll(p_source_id uuid, p_lease_seconds integer) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_source public.sources%rowtype;
begin
    if p_lease_seconds is null or p_lease_seconds < 1 then
        raise exception 'the lease must be at least one second' using errcode = '22023';
    end if;
    update public.sources s
    set next_poll_at = greatest(s.next_poll_at, now() + make_interval(secs => p_lease_seconds))
    where s.id = p_source_id
    returning * into v_source;
    if not found then
        raise exception 'source % does not exist', p_source_id using errcode = 'P0002';
    end if;
    return private.poll_request_json(v_source);
end;
$$;


-- Only the backend (service role) calls these; the foundation's default privileges say the
-- same, and saying it here keeps this file right on its own.
revoke all on function
    public.list_jobs(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                     timestamptz, uuid, integer),
    public.get_job(uuid),
    public.list_companies(text, integer),
    public.create_source(text, text, text, jsonb),
    public.list_sources(text, uuid, integer),
    public.get_source(uuid),
    public.update_source(uuid, jsonb),
    public.delete_source(uuid),
    public.list_source_runs(uuid, timestamptz, uuid, integer),
    public.claim_due_sources(integer, integer, boolean),
    public.release_sources(jsonb),
    public.request_source_poll(uuid, integer)
from public, anon, authenticated;
grant execute on function
    public.list_jobs(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                     timestamptz, uuid, integer),
    public.get_job(uuid),
    public.list_companies(text, integer),
    public.create_source(text, text, text, jsonb),
    public.list_sources(text, uuid, integer),
    public.get_source(uuid),
    public.update_source(uuid, jsonb),
    public.delete_source(uuid),
    public.list_source_runs(uuid, timestamptz, uuid, integer),
    public.claim_due_sources(integer, integer, boolean),
    public.release_sources(jsonb),
    public.request_source_poll(uuid, integer)
to service_role;
revoke all on function
    private.job_json(public.postings, public.sources),
    private.source_json(public.sources),
    private.poll_request_json(public.sources),
    private.check_page_limit(integer)
from public;
grant execute on function
    private.job_json(public.postings, public.sources),
    private.source_json(public.sources),
    private.poll_request_json(public.sources),
    private.check_page_limit(integer)
to service_role;
