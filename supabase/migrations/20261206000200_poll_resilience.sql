-- Polls are never lost: a claimed poll is a `running` run until its worker finishes it, and a
-- worker that dies leaves that run to be closed as `failed` (worker_lost).
--
-- The claim records the run (claim_due_polls, request_poll), so the worker still syncs in one
-- round trip (finish_source_poll). A redelivered message (its worker died, or its record
-- failed) closes the run of the attempt before it and records its own; a run whose message
-- never comes back is closed when the source is claimed again after its lease.
--
-- These wrap claim_due_sources, request_source_poll, release_sources and
-- sync_source_postings rather than redefining them, so every behaviour of those stays theirs.

alter table public.poll_runs drop constraint poll_runs_status_check;
alter table public.poll_runs
    add constraint poll_runs_status_check check (status in ('running', 'succeeded', 'failed'));
-- A running run has not finished; a finished one says when.
alter table public.poll_runs alter column finished_at drop not null;
alter table public.poll_runs
    add constraint poll_runs_finished_unless_running check ((status = 'running') = (finished_at is null));

create index poll_runs_running_idx on public.poll_runs (source_id, started_at) where status = 'running';


create function private.worker_lost_error() returns jsonb
language sql immutable
set search_path = ''
as $$
    select jsonb_build_object(
        'code', 'worker_lost',
        'message', 'The poll worker stopped before it recorded this poll; the poll was retried.')
$$;


-- Start a running run for each claimed poll request and add its id as run_id.
create function private.start_poll_runs(p_requests jsonb) returns jsonb
language sql
set search_path = ''
as $$
    with requests as (
        select request, position
        from jsonb_array_elements(p_requests) with ordinality as e(request, position)
    ), started as (
        insert into public.poll_runs (source_id, status, complete, started_at, finished_at)
        select (request ->> 'source_id')::uuid, 'running', false, now(), null from requests
        returning id, source_id
    )
    select coalesce(
        jsonb_agg(r.request || jsonb_build_object('run_id', s.id) order by r.position), '[]'::jsonb)
    from requests r
    join started s on s.source_id = (r.request ->> 'source_id')::uuid
$$;


-- The scheduler's claim (and scout poll --all): claim_due_sources, each request carrying the
-- run it started. A source claimed again after a whole lease with a run still running lost
-- its worker and its message: that run is closed first.
create function public.claim_due_polls(
    p_limit         integer,
    p_lease_seconds integer,
    p_due_only      boolean default true
) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_claimed jsonb := public.claim_due_sources(p_limit, p_lease_seconds, p_due_only);
begin
    update public.poll_runs r
    set status = 'failed', error = private.worker_lost_error(), finished_at = now()
    where r.status = 'running'
      and r.source_id in (select (e ->> 'source_id')::uuid from jsonb_array_elements(v_claimed) e)
      and r.started_at <= now() - make_interval(secs => p_lease_seconds);
    return private.start_poll_runs(v_claimed);
end;
$$;

-- POST /sources/{source_id}/poll and scout poll --source: request_source_poll plus its run.
create function public.request_poll(p_source_id uuid, p_lease_seconds integer) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
begin
    return private.start_poll_runs(
        jsonb_build_array(public.request_source_poll(p_source_id, p_lease_seconds))) -> 0;
end;
$$;

-- Polls claimed but not enqueued (the queue refused them): their runs never started, so they
-- are removed, and their sources are due again at once (release_sources).
create function public.release_polls(p_run_ids jsonb) returns jsonb
language plpgsql
set search_path = public, pg_temp
as $$
declare
    v_source_ids jsonb;
begin
    if jsonb_typeof(p_run_ids) is distinct from 'array' then
        raise exception 'run ids must be an array' using errcode = '22023';
    end if;
    with withdrawn as (
        delete from public.poll_runs r
        where r.status = 'running'
          and r.id in (select value::uuid from jsonb_array_elements_text(p_run_ids))
        returning r.source_id
    )
    select coalesce(jsonb_agg(distinct source_id), '[]'::jsonb) into v_source_ids from withdrawn;
    return public.release_sources(v_source_ids);
end;
$$;

-- The worker's one round trip: sync the fetch (sync_source_postings records it as a run),
-- and settle the run the claim started. A first delivery's run is replaced by the recorded
-- one. A redelivery (p_retry) means an earlier attempt took this run and never finished it:
-- that run is closed as failed, worker_lost, and this attempt's run stands on its own.
create function public.finish_source_poll(
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


revoke all on function
    public.claim_due_polls(integer, integer, boolean),
    public.request_poll(uuid, integer),
    public.release_polls(jsonb),
    public.finish_source_poll(uuid, uuid, jsonb, boolean)
from public, anon, authenticated;
grant execute on function
    public.claim_due_polls(integer, integer, boolean),
    public.request_poll(uuid, integer),
    public.release_polls(jsonb),
    public.finish_source_poll(uuid, uuid, jsonb, boolean)
to service_role;
revoke all on function private.worker_lost_error(), private.start_poll_runs(jsonb) from public;
grant execute on function private.worker_lost_error(), private.start_poll_runs(jsonb) to service_role;
