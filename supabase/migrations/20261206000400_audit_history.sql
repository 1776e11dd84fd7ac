-- Audit results people can act on: repeated Lighthouse runs, budgets, a page's history and
-- the diff between two scans of it.
--
--   scans.runs, scans.budget_limits   what POST /scans asked for (create_scan stores them)
--   scans.budget                      the verdict on the finished scan (finish_scan stores it)
--   scans.page_url                    the page a scan is of, for history and diffs
--   create_scan    as before, and the same Idempotency-Key replays only the same runs and budget
--   finish_scan    as before, and keeps the budget verdict
--   scan_history   the API: an owner's scans of one page and device, keyset paged, newest first
--   scan_diff_pair the API: a scan and the scan to compare it with, in one round trip
--   private.page_scans, private.previous_finished_scan, private.keyset_page  their parts

alter table public.scans
    add column runs integer not null default 1 check (runs between 1 and 5),
    add column budget_limits jsonb check (budget_limits is null or jsonb_typeof(budget_limits) = 'object'),
    add column budget jsonb check (budget is null or (budget ? 'passed' and budget ? 'failures')),
    -- Every writer stores url as scout.egress parses it (scheme and host lower-cased, default
    -- port dropped, dot segments resolved), so the page is the url without its fragment:
    -- HTTPS://Example.com:443/a#x and https://example.com/a are one page.
    add column page_url text generated always as (split_part(url, '#', 1)) stored;

-- Serves scan_history's pages and scan_diff_pair's "previous finished scan of this page".
create index scans_owner_page_device_created_idx
    on public.scans (owner, page_url, device, created_at desc, id desc);

-- As in 20261125000300_audit.sql, with the new columns.
create or replace function private.scan_json(s public.scans)
returns jsonb
language sql
immutable
set search_path = ''
as $$
    select jsonb_build_object(
        'id', s.id,
        'owner', s.owner,
        'url', s.url,
        'page_url', s.page_url,
        'target_host', s.target_host,
        'device', s.device,
        'status', s.status,
        'attempts', s.attempts,
        'runs', s.runs,
        'budget_limits', s.budget_limits,
        'final_url', s.final_url,
        'error', s.error,
        'lighthouse', s.lighthouse,
        'axe', s.axe,
        'budget', s.budget,
        'timings', s.timings,
        'artifacts', s.artifacts,
        'created_at', s.created_at,
        'started_at', s.started_at,
        'finished_at', s.finished_at
    )
$$;

-- The earlier create_scan had no runs or budget; two overloads would make a call by name
-- ambiguous, so it is replaced. A call without p_runs and p_budget behaves as before.
drop function public.create_scan(text, text, text, text, text, integer, integer);

-- Outcomes as before: {"outcome": "created"|"replayed", "scan": ...}, {"outcome":
-- "idempotency_key_reused", "scan_id": ...} or {"outcome": "rate_limited",
-- "retry_after_seconds": n}. A request is the same request when its url, device, runs and
-- budget limits all match.
create or replace function public.create_scan(
    p_owner text,
    p_url text,
    p_target_host text,
    p_device text,
    p_idempotency_key text,
    p_rate_limit integer,
    p_rate_window_seconds integer,
    p_runs integer default 1,
    p_budget_limits jsonb default null
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    existing public.scans;
    created public.scans;
    window_start timestamptz;
    recent integer;
    oldest_counted timestamptz;
    wanted_runs integer := coalesce(p_runs, 1);
begin
    if p_rate_limit is not null and (p_rate_limit < 1 or coalesce(p_rate_window_seconds, 0) < 1) then
        raise exception 'the rate limit needs a positive count and window' using errcode = 'invalid_parameter_value';
    end if;
    if wanted_runs not between 1 and 5 then
        raise exception 'runs must be between 1 and 5' using errcode = 'invalid_parameter_value';
    end if;

    -- One create per owner at a time: two concurrent requests can neither both slip under
    -- the limit nor both insert with the same key.
    perform pg_advisory_xact_lock(hashtextextended('scout.create_scan:' || p_owner, 0));

    if p_idempotency_key is not null then
        select * into existing from public.scans
        where owner = p_owner and idempotency_key = p_idempotency_key;
        if found then
            -- A replay is answered before the rate limit: it creates nothing.
            if existing.url = p_url and existing.device = p_device and existing.runs = wanted_runs
               and existing.budget_limits is not distinct from p_budget_limits then
                return jsonb_build_object('outcome', 'replayed', 'scan', private.scan_json(existing));
            end if;
            return jsonb_build_object('outcome', 'idempotency_key_reused', 'scan_id', existing.id);
        end if;
    end if;

    if p_rate_limit is not null then
        window_start := now() - make_interval(secs => p_rate_window_seconds);
        select count(*) into recent from public.scans
        where owner = p_owner and created_at > window_start;
        if recent >= p_rate_limit then
            -- The owner is under the limit again once enough of the counted scans have left
            -- the window: the (recent - limit + 1)-th oldest is the last one that must leave.
            select created_at into oldest_counted from public.scans
            where owner = p_owner and created_at > window_start
            order by created_at, id
            offset recent - p_rate_limit limit 1;
            return jsonb_build_object(
                'outcome', 'rate_limited',
                'retry_after_seconds', greatest(1, ceil(extract(epoch from
                    oldest_counted + make_interval(secs => p_rate_window_seconds) - now()
                )))::integer
            );
        end if;
    end if;

    insert into public.scans (owner, url, target_host, device, idempotency_key, runs, budget_limits)
    values (p_owner, p_url, p_target_host, p_device, p_idempotency_key, wanted_runs, p_budget_limits)
    returning * into created;
    return jsonb_build_object('outcome', 'created', 'scan', private.scan_json(created));
end
$$;

-- As in 20261125000300_audit.sql, and the result's budget verdict is kept.
create or replace function public.finish_scan(
    p_scan_id uuid,
    p_attempt integer,
    p_result jsonb,
    p_artifacts jsonb
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    s public.scans;
    outcome_status text := p_result ->> 'status';
begin
    if outcome_status is null or outcome_status not in ('succeeded', 'partial', 'failed') then
        raise exception 'a finished scan is succeeded, partial or failed, not %', coalesce(outcome_status, 'null')
            using errcode = 'invalid_parameter_value';
    end if;
    if jsonb_typeof(coalesce(p_artifacts, '[]'::jsonb)) <> 'array' then
        raise exception 'artifacts must be a JSON array' using errcode = 'invalid_parameter_value';
    end if;
    update public.scans set
        status = outcome_status,
        final_url = p_result ->> 'final_url',
        error = nullif(p_result -> 'error', 'null'::jsonb),
        lighthouse = nullif(p_result -> 'lighthouse', 'null'::jsonb),
        axe = nullif(p_result -> 'axe', 'null'::jsonb),
        budget = nullif(p_result -> 'budget', 'null'::jsonb),
        timings = nullif(p_result -> 'timings', 'null'::jsonb),
        artifacts = coalesce(p_artifacts, '[]'::jsonb),
        lease_expires_at = null,
        finished_at = now()
    where id = p_scan_id and status = 'running' and attempts = p_attempt
    returning * into s;
    if not found then
        return jsonb_build_object('outcome', 'superseded');
    end if;
    return jsonb_build_object('outcome', 'finished', 'scan', private.scan_json(s));
end
$$;

-- The two reads below select their rows with these. They are plain SQL functions with no
-- pinned search_path (every name in them is schema-qualified) so that Postgres inlines them
-- into the calling query: EXPLAIN of a call shows the plan the API's reads really run, on
-- scans_owner_page_device_created_idx (tests/integration/audit_api/test_history_plans.py).

-- One page of an owner's scans of one page and device, newest first, after a position.
create or replace function private.page_scans(
    p_owner text,
    p_page_url text,
    p_device text,
    p_limit integer,
    p_after_created_at timestamptz,
    p_after_id uuid
)
returns setof public.scans
language sql
stable
as $$
    select * from public.scans s
    where s.owner = p_owner and s.page_url = p_page_url and s.device = p_device
      and (p_after_created_at is null or (s.created_at, s.id) < (p_after_created_at, p_after_id))
    order by s.created_at desc, s.id desc
    limit p_limit
$$;

-- The newest scan of an owner's page and device created before a position that finished
-- with results (succeeded or partial): what a scan is compared with by default.
create or replace function private.previous_finished_scan(
    p_owner text,
    p_page_url text,
    p_device text,
    p_before_created_at timestamptz,
    p_before_id uuid
)
returns setof public.scans
language sql
stable
as $$
    select * from public.scans s
    where s.owner = p_owner and s.page_url = p_page_url and s.device = p_device
      and (s.created_at, s.id) < (p_before_created_at, p_before_id)
      and s.status in ('succeeded', 'partial')
    order by s.created_at desc, s.id desc
    limit 1
$$;

-- {"items": ..., "next": ...} of a keyset list from page_size + 1 items sorted by
-- (created_at, id): the extra item only says that another page follows; next is the
-- position of the page's last item, or null on the last page.
create or replace function private.keyset_page(items jsonb, page_size integer)
returns jsonb
language sql
immutable
set search_path = ''
as $$
    select case
        when jsonb_array_length(items) <= page_size then jsonb_build_object('items', items, 'next', null)
        else jsonb_build_object(
            'items', items - page_size,
            'next', jsonb_build_object(
                'created_at', items -> (page_size - 1) -> 'created_at',
                'id', items -> (page_size - 1) -> 'id'
            )
        )
    end
$$;

-- An owner's scans of one page on one device, newest first, p_limit at a time, each with
-- what a history shows (scores, key metrics, axe counts, budget verdict), not whole results.
-- Keyset paged like list_scans: next is the last item's (created_at, id), or null.
create or replace function public.scan_history(
    p_owner text,
    p_page_url text,
    p_device text,
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
    if p_limit is null or p_limit < 1 or p_limit > 100 then
        raise exception 'limit must be between 1 and 100' using errcode = 'invalid_parameter_value';
    end if;
    if (p_after_created_at is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its time and its id' using errcode = 'invalid_parameter_value';
    end if;
    select coalesce(jsonb_agg(jsonb_build_object(
        'id', c.id,
        'url', c.url,
        'device', c.device,
        'status', c.status,
        'runs', c.runs,
        'error', c.error,
        'scores', c.lighthouse -> 'scores',
        'metrics', c.lighthouse -> 'metrics',
        'axe_counts', c.axe -> 'counts',
        'budget', c.budget,
        'created_at', c.created_at,
        'finished_at', c.finished_at
    ) order by c.created_at desc, c.id desc), '[]'::jsonb)
    into items
    from private.page_scans(p_owner, p_page_url, p_device, p_limit + 1, p_after_created_at, p_after_id) c;
    return private.keyset_page(items, p_limit);
end
$$;

-- A scan and the scan it is compared with: {"scan": ..., "against": ... | null}.
-- p_owner null reads any scan (service principals), but the two scans always share an owner:
-- a scan of another owner named in p_against is reported exactly like a missing one. Without
-- p_against, the comparison is private.previous_finished_scan; null when there is none.
create or replace function public.scan_diff_pair(p_scan_id uuid, p_owner text, p_against uuid)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    s public.scans;
    earlier public.scans;
begin
    select * into s from public.scans where id = p_scan_id and (p_owner is null or owner = p_owner);
    if not found then
        raise exception 'No scan % here.', p_scan_id using errcode = 'no_data_found';
    end if;
    if p_against is not null then
        select * into earlier from public.scans where id = p_against and owner = s.owner;
        if not found then
            raise exception 'No scan % here.', p_against using errcode = 'no_data_found';
        end if;
    else
        select * into earlier from private.previous_finished_scan(s.owner, s.page_url, s.device, s.created_at, s.id);
        if not found then
            return jsonb_build_object('scan', private.scan_json(s), 'against', null);
        end if;
    end if;
    return jsonb_build_object('scan', private.scan_json(s), 'against', private.scan_json(earlier));
end
$$;

revoke all on function private.page_scans(text, text, text, integer, timestamptz, uuid) from public, anon, authenticated;
revoke all on function private.previous_finished_scan(text, text, text, timestamptz, uuid)
    from public, anon, authenticated;
revoke all on function private.keyset_page(jsonb, integer) from public, anon, authenticated;
grant execute on function private.page_scans(text, text, text, integer, timestamptz, uuid) to service_role;
grant execute on function private.previous_finished_scan(text, text, text, timestamptz, uuid) to service_role;
grant execute on function private.keyset_page(jsonb, integer) to service_role;
revoke all on function public.create_scan(text, text, text, text, text, integer, integer, integer, jsonb)
    from public, anon, authenticated;
revoke all on function public.scan_history(text, text, text, integer, timestamptz, uuid) from public, anon, authenticated;
revoke all on function public.scan_diff_pair(uuid, text, uuid) from public, anon, authenticated;
grant execute on function public.create_scan(text, text, text, text, text, integer, integer, integer, jsonb)
    to service_role;
grant execute on function public.scan_history(text, text, text, integer, timestamptz, uuid) to service_role;
grant execute on function public.scan_diff_pair(uuid, text, uuid) to service_role;
