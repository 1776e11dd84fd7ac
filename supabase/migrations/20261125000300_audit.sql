-- Audit: one row per requested scan, and the SQL functions that move it through its life.
--
--   create_scan     the API: Idempotency-Key replay, the per-owner rate limit and the insert,
--                   atomically (one transaction, one round trip)
--   discard_queued_scan  the API: undo a scan that could not be put on the queue
--   get_scan, list_scans  the API: one scan (its owner or a service), or a keyset page
--   claim_scan      the worker: queued (or left running by a dead attempt) -> running
--   finish_scan     the worker: the result and the stored artifacts, for the claiming attempt only
--
-- Owners are principals written as 'user:<sub>' (a Supabase user) or 'service:<sub>' (a
-- backend holding a service token). Row level security lets a signed-in user read their own
-- scans through the Supabase API; scout's backend calls these functions as service_role.

create table public.scans (
    id               uuid primary key default gen_random_uuid(),
    owner            text not null check (owner ~ '^(user|service):.+' and length(owner) <= 300),
    url              text not null check (length(url) between 1 and 8192),
    -- The SQS FIFO message group: scans of one host run one at a time, hosts in parallel.
    target_host      text not null check (length(target_host) between 1 and 255),
    device           text not null check (device in ('mobile', 'desktop')),
    status           text not null default 'queued'
        check (status in ('queued', 'running', 'succeeded', 'partial', 'failed')),
    idempotency_key  text check (length(idempotency_key) between 1 and 255),
    attempts         integer not null default 0 check (attempts >= 0),
    -- Until when the current attempt may still be running (its function's timeout); a scan
    -- found running past it was left behind by a crashed attempt and is run again.
    lease_expires_at timestamptz,
    final_url        text,
    error            jsonb check (error is null or (error ? 'code' and error ? 'message')),
    lighthouse       jsonb,
    axe              jsonb,
    timings          jsonb,
    -- [{name, key, content_type, size_bytes}]: objects in the reports bucket, linked on read.
    artifacts        jsonb not null default '[]'::jsonb check (jsonb_typeof(artifacts) = 'array'),
    created_at       timestamptz not null default now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    constraint scans_finished_when_terminal
        check ((status in ('succeeded', 'partial', 'failed')) = (finished_at is not null))
);

-- Same key, same owner, same scan. Keys of different owners never meet.
create unique index scans_owner_idempotency_key_idx
    on public.scans (owner, idempotency_key) where idempotency_key is not null;
-- Serves the newest-first keyset listing and the rate limit's count of recent scans.
create index scans_owner_created_idx on public.scans (owner, created_at desc, id desc);

alter table public.scans enable row level security;

-- A signed-in user reads their own scans; nobody writes except through the functions below
-- (service_role bypasses row level security). The claims are read the way PostgREST sets
-- them, which works on Supabase and on a plain Postgres alike.
create policy scans_owner_read on public.scans for select to authenticated
    using (
        owner = 'user:' || coalesce(
            (select nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'), ''
        )
    );
revoke all on public.scans from anon;
revoke insert, update, delete, truncate on public.scans from authenticated;
grant select on public.scans to authenticated;
grant all on public.scans to service_role;

-- The JSON of one scan as the functions return it (the API shapes it further).
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
        'target_host', s.target_host,
        'device', s.device,
        'status', s.status,
        'attempts', s.attempts,
        'final_url', s.final_url,
        'error', s.error,
        'lighthouse', s.lighthouse,
        'axe', s.axe,
        'timings', s.timings,
        'artifacts', s.artifacts,
        'created_at', s.created_at,
        'started_at', s.started_at,
        'finished_at', s.finished_at
    )
$$;

-- Outcomes: {"outcome": "created"|"replayed", "scan": ...}, {"outcome": "idempotency_key_reused",
-- "scan_id": ...} or {"outcome": "rate_limited", "retry_after_seconds": n}. A null
-- p_idempotency_key means no key; a null p_rate_limit means no limit (service principals).
create or replace function public.create_scan(
    p_owner text,
    p_url text,
    p_target_host text,
    p_device text,
    p_idempotency_key text,
    p_rate_limit integer,
    p_rate_window_seconds integer
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
begin
    if p_rate_limit is not null and (p_rate_limit < 1 or coalesce(p_rate_window_seconds, 0) < 1) then
        raise exception 'the rate limit needs a positive count and window' using errcode = 'invalid_parameter_value';
    end if;

    -- One create per owner at a time: two concurrent requests can neither both slip under
    -- the limit nor both insert with the same key.
    perform pg_advisory_xact_lock(hashtextextended('scout.create_scan:' || p_owner, 0));

    if p_idempotency_key is not null then
        select * into existing from public.scans
        where owner = p_owner and idempotency_key = p_idempotency_key;
        if found then
            -- A replay is answered before the rate limit: it creates nothing.
            if existing.url = p_url and existing.device = p_device then
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

    insert into public.scans (owner, url, target_host, device, idempotency_key)
    values (p_owner, p_url, p_target_host, p_device, p_idempotency_key)
    returning * into created;
    return jsonb_build_object('outcome', 'created', 'scan', private.scan_json(created));
end
$$;

-- A scan whose message never reached the queue is removed, so a retry (with the same key)
-- starts afresh. A scan some worker already picked up is kept.
create or replace function public.discard_queued_scan(p_scan_id uuid)
returns jsonb
language sql
volatile
set search_path = ''
as $$
    with discarded as (
        delete from public.scans where id = p_scan_id and status = 'queued' and attempts = 0
        returning id
    )
    select jsonb_build_object('discarded', exists (select from discarded))
$$;

-- One scan; p_owner null reads any scan (service principals). Another owner's scan is
-- reported exactly like a missing one.
create or replace function public.get_scan(p_scan_id uuid, p_owner text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    s public.scans;
begin
    select * into s from public.scans where id = p_scan_id and (p_owner is null or owner = p_owner);
    if not found then
        raise exception 'No scan % here.', p_scan_id using errcode = 'no_data_found';
    end if;
    return private.scan_json(s);
end
$$;

-- An owner's scans, newest first, p_limit at a time. The page after one continues from its
-- last (created_at, id); next is that position, or null on the last page.
create or replace function public.list_scans(
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
    page jsonb;
begin
    if p_limit is null or p_limit < 1 or p_limit > 100 then
        raise exception 'limit must be between 1 and 100' using errcode = 'invalid_parameter_value';
    end if;
    if (p_after_created_at is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its time and its id' using errcode = 'invalid_parameter_value';
    end if;
    -- One row past the page says whether another page follows.
    select coalesce(jsonb_agg(private.scan_json(c) order by c.created_at desc, c.id desc), '[]'::jsonb)
    into page
    from (
        select * from public.scans s
        where s.owner = p_owner
          and (p_after_created_at is null or (s.created_at, s.id) < (p_after_created_at, p_after_id))
        order by s.created_at desc, s.id desc
        limit p_limit + 1
    ) c;
    if jsonb_array_length(page) <= p_limit then
        return jsonb_build_object('items', page, 'next', null);
    end if;
    page := page - p_limit;
    return jsonb_build_object(
        'items', page,
        'next', jsonb_build_object('created_at', page -> -1 -> 'created_at', 'id', page -> -1 -> 'id')
    );
end
$$;

-- The worker takes a scan: {"outcome": "claimed", "scan": ...} with attempts counting this
-- attempt, or {"outcome": "skipped", "reason": "missing"|"finished"|"in_progress"}, or
-- {"outcome": "gave_up"} after p_max_attempts (the scan is then failed for good, so a scan
-- that keeps killing its worker ends as a failure its owner can see).
create or replace function public.claim_scan(p_scan_id uuid, p_lease_seconds integer, p_max_attempts integer)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    s public.scans;
begin
    if coalesce(p_lease_seconds, 0) < 1 or coalesce(p_max_attempts, 0) < 1 then
        raise exception 'lease and attempts must be positive' using errcode = 'invalid_parameter_value';
    end if;
    select * into s from public.scans where id = p_scan_id for update;
    if not found then
        return jsonb_build_object('outcome', 'skipped', 'reason', 'missing');
    end if;
    if s.status in ('succeeded', 'partial', 'failed') then
        return jsonb_build_object('outcome', 'skipped', 'reason', 'finished', 'status', s.status);
    end if;
    if s.status = 'running' and s.lease_expires_at > now() then
        -- Another attempt holds it. If that attempt dies, its own message comes back.
        return jsonb_build_object('outcome', 'skipped', 'reason', 'in_progress');
    end if;
    if s.attempts >= p_max_attempts then
        update public.scans set
            status = 'failed',
            error = jsonb_build_object(
                'code', 'internal_error',
                'message', format('scout could not complete this scan in %s attempts. Try again later.', s.attempts)
            ),
            lease_expires_at = null,
            finished_at = now()
        where id = p_scan_id;
        return jsonb_build_object('outcome', 'gave_up', 'attempts', s.attempts);
    end if;
    update public.scans set
        status = 'running',
        attempts = attempts + 1,
        started_at = now(),
        lease_expires_at = now() + make_interval(secs => p_lease_seconds)
    where id = p_scan_id
    returning * into s;
    return jsonb_build_object('outcome', 'claimed', 'scan', private.scan_json(s));
end
$$;

-- The result of the attempt that claimed the scan (p_attempt). A later attempt has taken over
-- when the numbers differ, and a finished scan stays as it is: {"outcome": "superseded"}.
-- p_result is the scan result of DESIGN §5; p_artifacts the stored objects.
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

revoke all on function private.scan_json(public.scans) from public, anon, authenticated;
revoke all on function public.create_scan(text, text, text, text, text, integer, integer) from public, anon, authenticated;
revoke all on function public.discard_queued_scan(uuid) from public, anon, authenticated;
revoke all on function public.get_scan(uuid, text) from public, anon, authenticated;
revoke all on function public.list_scans(text, integer, timestamptz, uuid) from public, anon, authenticated;
revoke all on function public.claim_scan(uuid, integer, integer) from public, anon, authenticated;
revoke all on function public.finish_scan(uuid, integer, jsonb, jsonb) from public, anon, authenticated;
grant execute on function private.scan_json(public.scans) to service_role;
grant execute on function public.create_scan(text, text, text, text, text, integer, integer) to service_role;
grant execute on function public.discard_queued_scan(uuid) to service_role;
grant execute on function public.get_scan(uuid, text) to service_role;
grant execute on function public.list_scans(text, integer, timestamptz, uuid) to service_role;
grant execute on function public.claim_scan(uuid, integer, integer) to service_role;
grant execute on function public.finish_scan(uuid, integer, jsonb, jsonb) to service_role;
