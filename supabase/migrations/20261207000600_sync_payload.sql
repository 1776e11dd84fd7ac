-- Sync payload (issue 14): a re-poll sends content only for the postings that changed.
-- Same parameters and behaviour as 20261207000400_sync_speed.sql, except that
-- * an entry may carry "fingerprint": the poller's hash of the whole entry it sends
--   (scout.jobs.sync_payload). The row it lands in records it (entry_fingerprint), whether the
--   entry was written or found unchanged; an entry without one (an older caller, a trial
--   fetch) leaves a recorded fingerprint only where the content did not change;
-- * an entry may instead be {"external_id", "fingerprint", "as_stored": true}: the poller
--   claims the row already holds what that entry gave, and sends no content. Every claim is
--   checked against the row; if any fails (a stale cache in the poller, another writer, a
--   deleted posting) nothing is written and the answer is {"resend": [ids]}, so the poller
--   sends again with those in full (scout.jobs.polling sends the whole fetch). A verified claim counts as the posting seen
--   unchanged: it is listed (never missed or archived), relisted if archived, not rewritten.
-- * content_hash leaves "fingerprint" and "as_stored" out, so stored hashes stay valid.
-- finish_source_poll passes a "resend" answer on without settling its run.

-- Null until a sync that carries fingerprints has seen the row.
alter table public.postings add column entry_fingerprint text;
comment on column public.postings.entry_fingerprint is
    'The poller''s fingerprint of the entry last synced into this row: syncing it again changes '
    'nothing, so a later poll may send just the fingerprint ("as_stored").';

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
        content_hash, list_hash, detail_pending, in_latest_sync, entry_fingerprint)
    select p_source_id, external_id, title, url, apply_url, location, coalesce(locations, '[]'::jsonb),
           workplace_type, remote, department, team, employment_type, posted_at, updated_at,
           description_html, description_text, salary_min, salary_max, salary_currency, salary_period,
           salary_year_min, salary_year_max, content_hash, list_hash,
           -- A failed detail, or an "unchanged" one the store turned out not to hold, is retried.
           coalesce(detail in ('failed', 'unchanged'), false), true, fingerprint
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
        entry_fingerprint = excluded.entry_fingerprint
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


-- As in 20261206000200_poll_resilience.sql, except that a "resend" answer settles nothing:
-- the poller sends again, in the same poll, and that call settles the run.
create or replace function public.finish_source_poll(
    p_source_id uuid,
    p_run_id    uuid,
    p_result    jsonb,
    p_retry     boolean default false
) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_synced jsonb := public.sync_source_postings(p_source_id, p_result);
begin
    if v_synced ? 'resend' then
        return v_synced;
    end if;
    if coalesce(p_retry, false) then
        update public.poll_runs
        set status = 'failed', error = private.worker_lost_error(), finished_at = now()
        where id = p_run_id and source_id = p_source_id and status = 'running';
    else
        delete from public.poll_runs
        where id = p_run_id and source_id = p_source_id and status = 'running';
    end if;
    return v_synced;
end;
$$;
