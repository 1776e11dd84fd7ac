-- Monitors' SQL functions (the tables are in 20261207000100_monitors.sql).
--
--   create_monitor   the API: a monitor of an owner, with the webhook secret made by the caller
--   get_monitor, list_monitors, delete_monitor  the API: an owner's own monitors only; another
--                    owner's monitor is reported exactly like a missing one
--   update_monitor   the API: PATCH, the given fields only (urls and sitemap replace each other)
--   start_monitor_run  the API and the scheduler: a run with the pages already planned and a
--                    queued scan for each (one round trip), or failed with the planning error
--   list_monitor_runs  the API: a monitor's runs, newest first, keyset paged
--   claim_due_monitors  the scheduler: due monitors, leased (next_run_at moved past the lease)
--   scans_count_in_run  a trigger: a scan of a run that ends (finish_scan, or claim_scan giving
--                    up) counts towards its run in the same transaction, and the run's last
--                    scan closes it (once: the run row is locked)

-- A monitor as the API shows it: never the webhook secret.
create or replace function private.monitor_json(m public.monitors)
returns jsonb
language sql
immutable
set search_path = ''
as $$
    select jsonb_build_object(
        'id', m.id,
        'owner', m.owner,
        'name', m.name,
        'urls', m.urls,
        'sitemap', m.sitemap,
        'max_pages', m.max_pages,
        'include', m.include,
        'exclude', m.exclude,
        'device', m.device,
        'runs', m.runs,
        'budget', m.budget,
        'schedule', m.schedule,
        'next_run_at', m.next_run_at,
        'webhook_url', m.webhook_url,
        'webhook_disabled_at', m.webhook_disabled_at,
        'created_at', m.created_at,
        'updated_at', m.updated_at
    )
$$;

-- p_monitor holds the fields of a validated MonitorRequest (budget as its limits);
-- p_next_run_at is when its schedule first makes it due (null without a schedule). Answers
-- the monitor and, this once, its webhook secret.
create or replace function public.create_monitor(
    p_owner text,
    p_monitor jsonb,
    p_webhook_secret text,
    p_next_run_at timestamptz
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    created public.monitors;
begin
    if jsonb_typeof(p_monitor) is distinct from 'object' then
        raise exception 'a monitor is a JSON object' using errcode = 'invalid_parameter_value';
    end if;
    insert into public.monitors (
        owner, name, urls, sitemap, max_pages, include, exclude, device, runs, budget, schedule,
        next_run_at, webhook_url, webhook_secret
    ) values (
        p_owner,
        p_monitor ->> 'name',
        nullif(p_monitor -> 'urls', 'null'::jsonb),
        p_monitor ->> 'sitemap',
        coalesce((p_monitor ->> 'max_pages')::integer, 50),
        coalesce(nullif(p_monitor -> 'include', 'null'::jsonb), '[]'::jsonb),
        coalesce(nullif(p_monitor -> 'exclude', 'null'::jsonb), '[]'::jsonb),
        coalesce(p_monitor ->> 'device', 'mobile'),
        coalesce((p_monitor ->> 'runs')::integer, 1),
        nullif(p_monitor -> 'budget', 'null'::jsonb),
        p_monitor ->> 'schedule',
        case when p_monitor ->> 'schedule' is null then null else p_next_run_at end,
        p_monitor ->> 'webhook_url',
        p_webhook_secret
    )
    returning * into created;
    return private.monitor_json(created) || jsonb_build_object('webhook_secret', created.webhook_secret);
end
$$;

create or replace function public.get_monitor(p_monitor_id uuid, p_owner text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    m public.monitors;
begin
    select * into m from public.monitors where id = p_monitor_id and owner = p_owner;
    if not found then
        raise exception 'No monitor % here.', p_monitor_id using errcode = 'no_data_found';
    end if;
    return private.monitor_json(m);
end
$$;

-- The arguments of a keyset page (list_monitors, list_monitor_runs), refused as list_scans refuses them.
create or replace function private.check_keyset_arguments(
    p_limit integer,
    p_after_created_at timestamptz,
    p_after_id uuid
)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_limit is null or p_limit < 1 or p_limit > 100 then
        raise exception 'limit must be between 1 and 100' using errcode = 'invalid_parameter_value';
    end if;
    if (p_after_created_at is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its time and its id' using errcode = 'invalid_parameter_value';
    end if;
end
$$;

-- An owner's monitors, newest first, keyset paged like list_scans.
create or replace function public.list_monitors(
    p_owner text,
    p_limit integer,
    p_after_created_at timestamptz,
    p_after_id uuid
)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    items jsonb;
begin
    perform private.check_keyset_arguments(p_limit, p_after_created_at, p_after_id);
    select coalesce(jsonb_agg(private.monitor_json(c) order by c.created_at desc, c.id desc), '[]'::jsonb)
    into items
    from (
        select * from public.monitors m
        where m.owner = p_owner
          and (p_after_created_at is null or (m.created_at, m.id) < (p_after_created_at, p_after_id))
        order by m.created_at desc, m.id desc
        limit p_limit + 1
    ) c;
    return private.keyset_page(items, p_limit);
end
$$;

-- p_changes: the fields a validated MonitorPatch gave (null clears schedule, budget and
-- webhook_url). Giving urls drops the sitemap and the other way round; a new schedule takes
-- p_next_run_at as its first due time; a new webhook_url turns a disabled webhook back on.
create or replace function public.update_monitor(
    p_monitor_id uuid,
    p_owner text,
    p_changes jsonb,
    p_next_run_at timestamptz
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    m public.monitors;
begin
    if jsonb_typeof(p_changes) is distinct from 'object' then
        raise exception 'changes are a JSON object' using errcode = 'invalid_parameter_value';
    end if;
    update public.monitors set
        name = coalesce(p_changes ->> 'name', name),
        urls = case when p_changes ? 'urls' then p_changes -> 'urls'
                    when p_changes ? 'sitemap' then null else urls end,
        sitemap = case when p_changes ? 'sitemap' then p_changes ->> 'sitemap'
                       when p_changes ? 'urls' then null else sitemap end,
        max_pages = coalesce((p_changes ->> 'max_pages')::integer, max_pages),
        include = coalesce(p_changes -> 'include', include),
        exclude = coalesce(p_changes -> 'exclude', exclude),
        device = coalesce(p_changes ->> 'device', device),
        runs = coalesce((p_changes ->> 'runs')::integer, runs),
        budget = case when p_changes ? 'budget' then nullif(p_changes -> 'budget', 'null'::jsonb) else budget end,
        schedule = case when p_changes ? 'schedule' then p_changes ->> 'schedule' else schedule end,
        next_run_at = case when not p_changes ? 'schedule' then next_run_at
                           when p_changes ->> 'schedule' is null then null
                           else p_next_run_at end,
        webhook_url = case when p_changes ? 'webhook_url' then p_changes ->> 'webhook_url' else webhook_url end,
        webhook_disabled_at = case when p_changes ? 'webhook_url' then null else webhook_disabled_at end,
        webhook_disabled_reason = case when p_changes ? 'webhook_url' then null else webhook_disabled_reason end,
        updated_at = now()
    where id = p_monitor_id and owner = p_owner
    returning * into m;
    if not found then
        raise exception 'No monitor % here.', p_monitor_id using errcode = 'no_data_found';
    end if;
    return private.monitor_json(m);
end
$$;

-- Its runs, events and deliveries go with it (on delete cascade); its scans stay, unlinked.
create or replace function public.delete_monitor(p_monitor_id uuid, p_owner text)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
    delete from public.monitors where id = p_monitor_id and owner = p_owner;
    if not found then
        raise exception 'No monitor % here.', p_monitor_id using errcode = 'no_data_found';
    end if;
    return jsonb_build_object('deleted', true);
end
$$;

create or replace function private.monitor_run_json(r public.monitor_runs)
returns jsonb
language sql
immutable
set search_path = ''
as $$
    select jsonb_build_object(
        'id', r.id,
        'monitor_id', r.monitor_id,
        'trigger', r.trigger,
        'status', r.status,
        'error', r.error,
        'pages', r.pages,
        'pages_planned', r.pages_planned,
        'pages_scanned', r.pages_scanned,
        'pages_failed', r.pages_failed,
        'budget_passed', r.budget_passed,
        'budget_failed', r.budget_failed,
        'regressions', r.regressions,
        'created_at', r.created_at,
        'started_at', r.started_at,
        'finished_at', r.finished_at
    )
$$;

-- p_pages: [{"url", "target_host"}] as planned (normalised, deduplicated, capped); p_error:
-- the planning error ({code, message}) or null. With an error the run is failed and nothing
-- else is written; otherwise each page gets a queued scan with the monitor's device, runs and
-- budget, and the answer lists them for the queue: {"run": ..., "scans": [{"id", "target_host"}]}.
-- A plan of no pages finishes the run at once. p_next_run_at (when not null) is the monitor's
-- next due time from its schedule.
create or replace function public.start_monitor_run(
    p_monitor_id uuid,
    p_owner text,
    p_trigger text,
    p_pages jsonb,
    p_error jsonb,
    p_next_run_at timestamptz
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    m public.monitors;
    r public.monitor_runs;
    queued jsonb;
    planned integer;
begin
    if jsonb_typeof(coalesce(p_pages, '[]'::jsonb)) <> 'array' then
        raise exception 'pages must be a JSON array' using errcode = 'invalid_parameter_value';
    end if;
    select * into m from public.monitors where id = p_monitor_id and owner = p_owner for update;
    if not found then
        raise exception 'No monitor % here.', p_monitor_id using errcode = 'no_data_found';
    end if;
    if p_next_run_at is not null and m.schedule is not null then
        update public.monitors set next_run_at = p_next_run_at where id = m.id;
    end if;
    if p_error is not null then
        insert into public.monitor_runs (monitor_id, owner, trigger, status, error, started_at, finished_at)
        values (m.id, m.owner, p_trigger, 'failed', p_error, now(), now())
        returning * into r;
        return jsonb_build_object('run', private.monitor_run_json(r), 'scans', '[]'::jsonb);
    end if;
    planned := jsonb_array_length(coalesce(p_pages, '[]'::jsonb));
    insert into public.monitor_runs (
        monitor_id, owner, trigger, status, pages, pages_planned, started_at, finished_at
    ) values (
        m.id, m.owner, p_trigger,
        case when planned = 0 then 'finished' else 'running' end,
        (select coalesce(jsonb_agg(page -> 'url' order by n), '[]'::jsonb)
         from jsonb_array_elements(coalesce(p_pages, '[]'::jsonb)) with ordinality as p(page, n)),
        planned, now(),
        case when planned = 0 then now() end
    )
    returning * into r;
    with created as (
        insert into public.scans (owner, url, target_host, device, runs, budget_limits, monitor_run_id)
        select m.owner, page ->> 'url', page ->> 'target_host', m.device, m.runs, m.budget, r.id
        from jsonb_array_elements(coalesce(p_pages, '[]'::jsonb)) as p(page)
        returning id, target_host, url
    )
    select coalesce(jsonb_agg(jsonb_build_object('id', id, 'target_host', target_host, 'url', url)), '[]'::jsonb)
    into queued from created;
    return jsonb_build_object('run', private.monitor_run_json(r), 'scans', queued);
end
$$;

create or replace function public.list_monitor_runs(
    p_monitor_id uuid,
    p_owner text,
    p_limit integer,
    p_after_created_at timestamptz,
    p_after_id uuid
)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    items jsonb;
begin
    perform private.check_keyset_arguments(p_limit, p_after_created_at, p_after_id);
    if not exists (select from public.monitors where id = p_monitor_id and owner = p_owner) then
        raise exception 'No monitor % here.', p_monitor_id using errcode = 'no_data_found';
    end if;
    select coalesce(jsonb_agg(private.monitor_run_json(c) order by c.created_at desc, c.id desc), '[]'::jsonb)
    into items
    from (
        select * from public.monitor_runs r
        where r.monitor_id = p_monitor_id
          and (p_after_created_at is null or (r.created_at, r.id) < (p_after_created_at, p_after_id))
        order by r.created_at desc, r.id desc
        limit p_limit + 1
    ) c;
    return private.keyset_page(items, p_limit);
end
$$;

-- Why a page regressed between two scans of it, as scout/audit/diffs.py judges it: a score drop
-- beyond 0.05 (scores are stored 0-100) or a new critical or serious violation, by rule id
-- and element. [] when nothing regressed.
create or replace function private.page_regressions(sc public.scans, earlier public.scans)
returns jsonb
language sql
immutable
set search_path = ''
as $$
    select coalesce((
        select jsonb_agg(reason) from (
            select jsonb_build_object(
                'kind', 'score',
                'key', key,
                'delta', round((after_score - before_score) / 100.0, 6),
                'message', format('%s fell from %s to %s, more than the threshold of 0.05.',
                                  key, round(before_score / 100.0, 2), round(after_score / 100.0, 2))
            ) as reason
            from unnest(array['performance', 'accessibility', 'best-practices', 'seo']) as key,
                 lateral (select (earlier.lighthouse -> 'scores' ->> key)::numeric as before_score,
                                 (sc.lighthouse -> 'scores' ->> key)::numeric as after_score) scores
            where before_score is not null and after_score is not null
              and (before_score - after_score) / 100.0 > 0.05 + 1e-9
            union all
            select jsonb_build_object(
                'kind', 'violation',
                'key', v ->> 'id',
                'impact', v ->> 'impact',
                'target', n -> 'target',
                'message', format('new %s violation %s: %s', v ->> 'impact', v ->> 'id', v ->> 'help')
            )
            from jsonb_array_elements(coalesce(sc.axe -> 'violations', '[]'::jsonb)) v,
                 jsonb_array_elements(coalesce(v -> 'nodes', '[]'::jsonb)) n
            where v ->> 'impact' in ('critical', 'serious')
              and earlier.axe is not null
              and not exists (
                  select from jsonb_array_elements(coalesce(earlier.axe -> 'violations', '[]'::jsonb)) ev,
                              jsonb_array_elements(coalesce(ev -> 'nodes', '[]'::jsonb)) en
                  where ev ->> 'id' = v ->> 'id' and en -> 'target' = n -> 'target'
              )
        ) reasons
    ), '[]'::jsonb)
$$;

-- The pages of run r that regressed against the monitor's previous finished run:
-- [{url, scan_id, against, reasons}].
create or replace function private.run_regressions(r public.monitor_runs)
returns jsonb
language sql
stable
set search_path = ''
as $$
    with previous as (
        select p.id from public.monitor_runs p
        where p.monitor_id = r.monitor_id and p.status = 'finished' and p.id <> r.id
          and (p.created_at, p.id) < (r.created_at, r.id)
        order by p.created_at desc, p.id desc
        limit 1
    ), compared as (
        select sc.url, sc.id as scan_id, earlier.id as against, private.page_regressions(sc, earlier) as reasons
        from public.scans sc
        join lateral (
            select e.* from public.scans e, previous
            where e.monitor_run_id = previous.id and e.page_url = sc.page_url and e.device = sc.device
              and e.status in ('succeeded', 'partial')
            limit 1
        ) earlier on true
        where sc.monitor_run_id = r.id and sc.status in ('succeeded', 'partial')
    )
    select coalesce(jsonb_agg(jsonb_build_object(
        'url', url, 'scan_id', scan_id, 'against', against, 'reasons', reasons
    ) order by url), '[]'::jsonb)
    from compared where jsonb_array_length(reasons) > 0
$$;

-- A finished scan of a run counts towards it; the scan that ends the run's last page closes it
-- and, when the monitor has a live webhook, writes the outbox event in the same transaction.
-- The run row is locked first, so of two last scans finishing at once exactly one closes it.
create or replace function private.count_run_scan(s public.scans)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
    r public.monitor_runs;
    m public.monitors;
    pages jsonb;
begin
    if s.monitor_run_id is null then
        return;
    end if;
    select * into r from public.monitor_runs where id = s.monitor_run_id for update;
    if not found or r.status <> 'running' then
        return;
    end if;
    update public.monitor_runs set
        pages_scanned = pages_scanned + (s.status in ('succeeded', 'partial'))::integer,
        pages_failed = pages_failed + (s.status = 'failed')::integer,
        budget_passed = budget_passed + coalesce((s.budget ->> 'passed')::boolean, false)::integer,
        budget_failed = budget_failed + (not coalesce((s.budget ->> 'passed')::boolean, true))::integer
    where id = r.id
    returning * into r;
    if r.pages_scanned + r.pages_failed < r.pages_planned then
        return;
    end if;
    update public.monitor_runs set
        status = 'finished', finished_at = now(), regressions = private.run_regressions(r)
    where id = r.id
    returning * into r;
    select * into m from public.monitors where id = r.monitor_id;
    if m.webhook_url is null or m.webhook_disabled_at is not null then
        return;
    end if;
    select coalesce(jsonb_agg(jsonb_build_object(
        'url', sc.url,
        'scan_id', sc.id,
        'status', sc.status,
        'scores', sc.lighthouse -> 'scores',
        'axe_counts', sc.axe -> 'counts',
        'budget', sc.budget,
        'error', sc.error
    ) order by sc.url), '[]'::jsonb)
    into pages
    from public.scans sc where sc.monitor_run_id = r.id;
    insert into public.webhook_events (monitor_id, run_id, type, payload)
    values (m.id, r.id, 'monitor.run.finished', jsonb_build_object(
        'type', 'monitor.run.finished',
        'monitor', jsonb_build_object('id', m.id, 'name', m.name),
        'run', private.monitor_run_json(r),
        'pages', pages
    ))
    on conflict on constraint webhook_events_one_run_event do nothing;
    if jsonb_array_length(r.regressions) > 0 then
        insert into public.webhook_events (monitor_id, run_id, type, payload)
        values (m.id, r.id, 'monitor.regression', jsonb_build_object(
            'type', 'monitor.regression',
            'monitor', jsonb_build_object('id', m.id, 'name', m.name),
            'run', private.monitor_run_json(r),
            'pages', r.regressions
        ))
        on conflict on constraint webhook_events_one_run_event do nothing;
    end if;
end
$$;

-- Every way a scan of a run ends counts towards its run, in the transaction that ends it:
-- finish_scan writing a result, and claim_scan failing a scan that ran out of attempts.
create or replace function private.scan_ended_in_run()
returns trigger
language plpgsql
volatile
set search_path = ''
as $$
begin
    perform private.count_run_scan(new);
    return null;
end
$$;

create trigger scans_count_in_run
    after update of status on public.scans
    for each row
    when (
        new.monitor_run_id is not null
        and old.status not in ('succeeded', 'partial', 'failed')
        and new.status in ('succeeded', 'partial', 'failed')
    )
    execute function private.scan_ended_in_run();

-- Monitors whose schedule made them due, at most p_limit, each leased by moving next_run_at
-- p_lease_seconds ahead: a scheduler that dies before planning leaves them due again after the
-- lease, and two schedulers never claim one monitor (skip locked). Planning a scheduled run
-- sets next_run_at from the schedule. Answers [{"id", "owner"}].
create or replace function public.claim_due_monitors(p_limit integer, p_lease_seconds integer)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    claimed_monitors jsonb;
begin
    if p_limit is null or p_limit < 1 or p_limit > 1000 then
        raise exception 'limit must be between 1 and 1000' using errcode = 'invalid_parameter_value';
    end if;
    if coalesce(p_lease_seconds, 0) < 1 then
        raise exception 'the lease must be at least one second' using errcode = 'invalid_parameter_value';
    end if;
    with due as (
        select m.id from public.monitors m
        where m.next_run_at is not null and m.next_run_at <= now()
        order by m.next_run_at, m.id
        limit p_limit
        for update skip locked
    ), claimed as (
        update public.monitors m
        set next_run_at = now() + make_interval(secs => p_lease_seconds)
        from due where m.id = due.id
        returning m.id, m.owner
    )
    select coalesce(jsonb_agg(jsonb_build_object('id', id, 'owner', owner) order by id), '[]'::jsonb)
    into claimed_monitors from claimed;
    return claimed_monitors;
end
$$;

revoke all on function private.monitor_json(public.monitors) from public, anon, authenticated;
revoke all on function public.create_monitor(text, jsonb, text, timestamptz) from public, anon, authenticated;
revoke all on function public.get_monitor(uuid, text) from public, anon, authenticated;
revoke all on function public.list_monitors(text, integer, timestamptz, uuid) from public, anon, authenticated;
revoke all on function public.delete_monitor(uuid, text) from public, anon, authenticated;
grant execute on function private.monitor_json(public.monitors) to service_role;
grant execute on function public.create_monitor(text, jsonb, text, timestamptz) to service_role;
grant execute on function public.get_monitor(uuid, text) to service_role;
grant execute on function public.list_monitors(text, integer, timestamptz, uuid) to service_role;
grant execute on function public.delete_monitor(uuid, text) to service_role;
revoke all on function private.monitor_run_json(public.monitor_runs) from public, anon, authenticated;
revoke all on function private.count_run_scan(public.scans) from public, anon, authenticated;
revoke all on function private.scan_ended_in_run() from public, anon, authenticated;
revoke all on function private.page_regressions(public.scans, public.scans) from public, anon, authenticated;
revoke all on function private.run_regressions(public.monitor_runs) from public, anon, authenticated;
revoke all on function public.start_monitor_run(uuid, text, text, jsonb, jsonb, timestamptz)
    from public, anon, authenticated;
revoke all on function public.list_monitor_runs(uuid, text, integer, timestamptz, uuid) from public, anon, authenticated;
grant execute on function private.monitor_run_json(public.monitor_runs) to service_role;
grant execute on function private.count_run_scan(public.scans) to service_role;
grant execute on function public.start_monitor_run(uuid, text, text, jsonb, jsonb, timestamptz) to service_role;
grant execute on function public.list_monitor_runs(uuid, text, integer, timestamptz, uuid) to service_role;
revoke all on function private.check_keyset_arguments(integer, timestamptz, uuid) from public, anon, authenticated;
grant execute on function private.check_keyset_arguments(integer, timestamptz, uuid) to service_role;
revoke all on function public.claim_due_monitors(integer, integer) from public, anon, authenticated;
grant execute on function public.claim_due_monitors(integer, integer) to service_role;
revoke all on function public.update_monitor(uuid, text, jsonb, timestamptz) from public, anon, authenticated;
grant execute on function public.update_monitor(uuid, text, jsonb, timestamptz) to service_role;
