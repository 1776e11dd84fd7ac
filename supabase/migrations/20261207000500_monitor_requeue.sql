-- Re-sending a monitor run's scans that never reached the scan queue.
--
-- start_monitor_run records a run with one queued scan per page, and then the caller sends
-- each scan to the queue. If a send fails part way (or the process dies), the scans already
-- recorded stay queued with no message on the queue, and nothing would ever run them. So:
--
--   scans.enqueued_at          when the scan was last handed to the queue (null: never)
--   mark_scans_enqueued        the run start marks the scans it sent; a failed re-send
--                              unmarks the scans it could not send
--   claim_unsent_run_scans     the scheduler's tick: scans of running runs, still queued,
--                              never claimed, and unsent for longer than a threshold, marked
--                              as sent in the same statement (rows locked, skip locked), so
--                              two ticks never both re-send one scan
--
-- A scan sent twice anyway (a send that reached SQS but whose mark was lost) is harmless:
-- the FIFO queue drops a duplicate scan id within five minutes, and claim_scan runs a scan
-- only while it is queued, skipping one another live attempt holds.

alter table public.scans add column enqueued_at timestamptz;
create index scans_unsent_run_idx on public.scans (created_at)
    where monitor_run_id is not null and status = 'queued' and enqueued_at is null;

-- p_scan_ids: a JSON array of scan ids. p_sent true: handed to the queue now. p_sent false:
-- their send failed after claim_unsent_run_scans marked them, so unsent again for the next
-- tick, unless a worker has claimed one meanwhile. Answers {"marked": n}.
create or replace function public.mark_scans_enqueued(p_scan_ids jsonb, p_sent boolean)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    marked integer;
begin
    if p_scan_ids is null or jsonb_typeof(p_scan_ids) <> 'array' or p_sent is null then
        raise exception 'scan ids must be a JSON array, and sent true or false'
            using errcode = 'invalid_parameter_value';
    end if;
    update public.scans s set enqueued_at = case when p_sent then now() end
    where s.id in (select value::uuid from jsonb_array_elements_text(p_scan_ids))
      and (p_sent or (s.status = 'queued' and s.attempts = 0));
    get diagnostics marked = row_count;
    return jsonb_build_object('marked', marked);
end;
$$;

-- Answers [{id, target_host}] of at most p_limit scans, oldest first, now marked as sent.
create or replace function public.claim_unsent_run_scans(p_unsent_seconds integer, p_limit integer)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    claimed jsonb;
begin
    if p_limit is null or p_limit < 1 or p_limit > 1000 then
        raise exception 'limit must be between 1 and 1000' using errcode = 'invalid_parameter_value';
    end if;
    if p_unsent_seconds is null or p_unsent_seconds < 0 then
        raise exception 'the unsent time must be at least zero seconds' using errcode = 'invalid_parameter_value';
    end if;
    with unsent as (
        select s.id from public.scans s
        join public.monitor_runs r on r.id = s.monitor_run_id
        where r.status = 'running'
          and s.status = 'queued'
          and s.attempts = 0
          and s.enqueued_at is null
          and s.created_at <= now() - make_interval(secs => p_unsent_seconds)
        order by s.created_at, s.id
        limit p_limit
        for update of s skip locked
    ), marked as (
        update public.scans s set enqueued_at = now()
        from unsent where s.id = unsent.id
        returning s.id, s.target_host, s.created_at
    )
    select coalesce(
        jsonb_agg(jsonb_build_object('id', m.id, 'target_host', m.target_host) order by m.created_at, m.id),
        '[]'::jsonb
    ) into claimed
    from marked m;
    return claimed;
end;
$$;

revoke all on function public.mark_scans_enqueued(jsonb, boolean) from public, anon, authenticated;
grant execute on function public.mark_scans_enqueued(jsonb, boolean) to service_role;
revoke all on function public.claim_unsent_run_scans(integer, integer) from public, anon, authenticated;
grant execute on function public.claim_unsent_run_scans(integer, integer) to service_role;

-- `scout monitor run ID` on the developer's own machine names a monitor by id alone: whose
-- it is, or no_data_found. Answers {"owner": ...}.
create or replace function public.get_monitor_owner(p_monitor_id uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    found_owner text;
begin
    select m.owner into found_owner from public.monitors m where m.id = p_monitor_id;
    if not found then
        raise exception 'No monitor % here.', p_monitor_id using errcode = 'no_data_found';
    end if;
    return jsonb_build_object('owner', found_owner);
end;
$$;

revoke all on function public.get_monitor_owner(uuid) from public, anon, authenticated;
grant execute on function public.get_monitor_owner(uuid) to service_role;
