-- Sync index (issue 14): a first import commits its postings without parsing their
-- descriptions; the poller indexes them in a second call right after (docs/jobs.md, "When a
-- new posting is found by its description"). Measured in docs/performance.md (Search).
--
-- * search, title_search and place_words stop being generated columns: a row trigger
--   (private.posting_search_vectors) computes them with the same expressions, the title and
--   the places folded and parsed once each instead of twice, the places' text made without
--   places_text's SQL function (~45 us a call); and a bulk load that disables user triggers may set them itself
--   (bench.support.search_data composes them from pre-parsed parts; a test checks that they
--   equal the trigger's).
-- * search_pending: the row's search vector lacks its description (weight D) for now. The
--   sync inserts new postings so; public.index_new_descriptions(source) completes them. A
--   posting that is updated (changed, relisted) gets its whole vector at once.
-- * The descriptions are stored out of line uncompressed (storage external): pglz-compressing
--   the two 1-2 KB descriptions of every row as it was inserted cost ~0.15 s of a first import
--   (docs/performance.md); the table grows by what pglz saved on them.
-- sync_source_postings keeps its parameters and behaviour (20261207000600_sync_payload.sql)
-- except that a new posting is written with search_pending.

alter table public.postings alter column search drop expression;
alter table public.postings alter column title_search drop expression;
alter table public.postings alter column place_words drop expression;
alter table public.postings add column search_pending boolean not null default false;
comment on column public.postings.search_pending is
    'The search vector lacks the description for now: index_new_descriptions completes it.';
alter table public.postings alter column description_html set storage external;
alter table public.postings alter column description_text set storage external;

-- A posting's places as private.places_text gives them, for the usual list of names
-- without its SQL function (~45 us a call: a subquery keeps it from being inlined).
create type private.place_names as (names text[]);

-- The expressions of 20261206000300_jobs_search.sql, each input folded and parsed once.
create function private.posting_search_vectors() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_title  tsvector := pg_catalog.to_tsvector('english', private.unaccented(coalesce(new.title, '')));
    v_places text;
begin
    if pg_catalog.jsonb_typeof(new.locations) = 'array'
       and not pg_catalog.jsonb_path_exists(new.locations, 'strict $[*] ? (@.type() != "string")') then
        v_places := pg_catalog.array_to_string(pg_catalog.array_remove(pg_catalog.array_prepend(
            new.location,
            coalesce((pg_catalog.jsonb_populate_record(null::private.place_names,
                          pg_catalog.jsonb_build_object('names', new.locations))).names, '{}')),
            null), ' ');
    else
        v_places := private.places_text(new.location, new.locations);
    end if;
    v_places := private.unaccented(v_places);
    new.title_search := case when new.title is not null then v_title end;
    new.place_words := pg_catalog.to_tsvector('simple', v_places);
    new.search := pg_catalog.setweight(v_title, 'A')
        || pg_catalog.setweight(pg_catalog.to_tsvector('english',
               private.unaccented(coalesce(new.department, '') || ' ' || coalesce(new.team, ''))), 'B')
        || pg_catalog.setweight(pg_catalog.to_tsvector('english', v_places), 'C')
        || case when new.search_pending then ''::tsvector
                else pg_catalog.setweight(pg_catalog.to_tsvector('english',
                         private.unaccented(pg_catalog.left(coalesce(new.description_text, ''), 100000))), 'D')
           end;
    return new;
end;
$$;

create trigger postings_search_vectors before insert or update of
    title, department, team, location, locations, description_text, search_pending
    on public.postings
    for each row execute function private.posting_search_vectors();

-- What index_new_descriptions looks for: a few rows, only between a sync and its follow-up.
create index postings_search_pending_idx on public.postings (source_id) where search_pending;

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
    v_resend        jsonb;
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

    create temporary table incoming on commit drop as
    select
        p.*, e.position,
        md5((e.value - array['list_hash', 'detail', 'fingerprint', 'as_stored'])::text) as content_hash,
        coalesce(p.as_stored, false) as keep_stored,
        -- Annualised here from the stated range, whatever the caller sent, so stored rows agree.
        -- (Called only where there is an amount: with its pinned search_path the function is
        -- not inlined, and 10,000 calls were a third of building this table for a re-poll.)
        case when p.salary_min is not null then private.annual_salary(p.salary_min, p.salary_period) end
            as salary_year_min,
        case when p.salary_max is not null then private.annual_salary(p.salary_max, p.salary_period) end
            as salary_year_max
    from jsonb_array_elements(v_postings) with ordinality as e(value, position)
    cross join lateral jsonb_to_record(e.value) as p(
        external_id text, title text, url text, apply_url text, location text, locations jsonb,
        workplace_type text, remote boolean, department text, team text, employment_type text,
        posted_at timestamptz, updated_at timestamptz, description_html text, description_text text,
        salary_min numeric, salary_max numeric, salary_currency text, salary_period text,
        list_hash text, detail text, fingerprint text, as_stored boolean);

    -- The temporary table has no statistics: without them every join below against the
    -- 5,000 rows of a large board was planned as if it held a handful (measured: bench.search).
    create index on incoming (external_id);

    -- The ATS's own id is the key; a board listing the same id twice keeps the last copy.
    -- (Deleted here, not by a distinct on above, which sorted every row with its content.)
    delete from incoming earlier using incoming later
    where later.external_id = earlier.external_id and later.position > earlier.position;
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
    if exists (select 1 from incoming
               where nullif(external_id, '') is null
                  or (nullif(title, '') is null and not coalesce(as_stored, false))) then
        raise exception 'every posting needs an external_id and a title' using errcode = '22023';
    end if;
    if exists (select 1 from incoming where as_stored and nullif(fingerprint, '') is null) then
        raise exception 'a posting sent as stored needs its fingerprint' using errcode = '22023';
    end if;

    -- A posting sent as stored is the claim "the row holds what this fingerprint's entry
    -- gave". Every claim is checked against the stored fingerprint; one that fails (a stale
    -- cache, another writer, a posting gone) makes the whole sync a no-op that names what to
    -- send in full: acting on the rest could archive or keep stale what the claim hid.
    select jsonb_agg(i.external_id order by i.external_id) into v_resend
    from incoming i
    where i.as_stored
      and not exists (select 1 from public.postings stored
                      where stored.source_id = p_source_id and stored.external_id = i.external_id
                        and stored.entry_fingerprint = i.fingerprint);
    if v_resend is not null then
        drop table incoming;
        return jsonb_build_object('resend', v_resend);
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
        content_hash, list_hash, detail_pending, in_latest_sync, entry_fingerprint, search_pending)
    select p_source_id, external_id, title, url, apply_url, location, coalesce(locations, '[]'::jsonb),
           workplace_type, remote, department, team, employment_type, posted_at, updated_at,
           description_html, description_text, salary_min, salary_max, salary_currency, salary_period,
           salary_year_min, salary_year_max, content_hash, list_hash,
           -- A failed detail, or an "unchanged" one the store turned out not to hold, is retried.
           coalesce(detail in ('failed', 'unchanged'), false), true, fingerprint,
           -- A new posting's description is indexed by index_new_descriptions, after this
           -- commits (parsing 5,000 descriptions was most of a first import).
           coalesce(description_text, '') <> ''
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
        missed_runs = 0, last_seen_at = now(), archived_at = null, in_latest_sync = true,
        entry_fingerprint = excluded.entry_fingerprint,
        -- A posting already listed keeps its description searchable: its vector is made whole
        -- at once (private.posting_search_vectors), never left waiting.
        search_pending = false
    -- Most polls return boards that did not change: rewriting every row would re-toast its
    -- description and rebuild its search entry for nothing (measured in docs/performance.md).
    where p.content_hash is distinct from excluded.content_hash or p.archived_at is not null
       or p.detail_pending is distinct from excluded.detail_pending;

    -- Seen again and unchanged (or kept with its stored detail): only the bookkeeping moves;
    -- a kept posting that had been archived is listed again. A posting already listed by the
    -- previous sync is not written at all (rewriting last_seen_at rewrote every row of an
    -- unchanged board): the source's last_success_at, set below, says when it was seen.
    -- Its entry's fingerprint is recorded (once) too: syncing that entry again changes nothing.
    update public.postings p
    set missed_runs = 0, last_seen_at = now(), archived_at = null, in_latest_sync = true,
        entry_fingerprint = coalesce(i.fingerprint, p.entry_fingerprint)
    from incoming i
    where p.source_id = p_source_id and p.external_id = i.external_id
      and (p.content_hash = i.content_hash or i.keep_stored)
      and (p.archived_at is not null or p.missed_runs <> 0 or not p.in_latest_sync
           or p.entry_fingerprint is distinct from coalesce(i.fingerprint, p.entry_fingerprint));

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


-- The follow-up the poller makes once a sync has committed: every posting of the source
-- still waiting gets its description into its search vector (the trigger above, as
-- search_pending turns false). It also completes what an earlier poll left waiting (a worker
-- lost between the two calls).
create function public.index_new_descriptions(p_source_id uuid) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_indexed integer;
begin
    update public.postings set search_pending = false
    where source_id = p_source_id and search_pending;
    get diagnostics v_indexed = row_count;
    return jsonb_build_object('indexed', v_indexed);
end;
$$;

revoke all on function public.index_new_descriptions(uuid) from public, anon, authenticated;
grant execute on function public.index_new_descriptions(uuid) to service_role;
revoke all on function private.posting_search_vectors() from public;
