-- Monitors: a site (a list of URLs or a sitemap) audited on a schedule, each run's pages
-- scanned through the scan queue, and webhooks about finished runs and regressions.
--
--   monitors            what an owner asked to watch; the webhook secret signs its events
--   monitor_runs        one run of a monitor: the planned pages and how their scans ended
--   scans.monitor_run_id  the run a scan belongs to (null for a scan asked for directly)
--   webhook_events      the outbox: an event is written in the transaction that closes the
--                       run, so no event is lost between the database and the queue
--   webhook_deliveries  every attempt at delivering an event, as GET /monitors/{id}/deliveries
--                       shows it
--
-- This migration holds the tables; the SQL functions over them come in later migrations.
-- Owners are principals as in 20261125000300_audit.sql ('user:<sub>' or 'service:<sub>').

create table public.monitors (
    id               uuid primary key default gen_random_uuid(),
    owner            text not null check (owner ~ '^(user|service):.+' and length(owner) <= 300),
    name             text not null check (length(name) between 1 and 200),
    -- Exactly one of: the pages themselves, or a sitemap (or site root) to plan them from.
    urls             jsonb check (urls is null or jsonb_typeof(urls) = 'array'),
    sitemap          text check (sitemap is null or length(sitemap) between 1 and 8192),
    max_pages        integer not null default 50 check (max_pages between 1 and 500),
    include          jsonb not null default '[]'::jsonb check (jsonb_typeof(include) = 'array'),
    exclude          jsonb not null default '[]'::jsonb check (jsonb_typeof(exclude) = 'array'),
    device           text not null default 'mobile' check (device in ('mobile', 'desktop')),
    runs             integer not null default 1 check (runs between 1 and 5),
    budget           jsonb check (budget is null or jsonb_typeof(budget) = 'object'),
    -- An EventBridge-style expression, 'rate(1 day)' or 'cron(...)'; null runs only on request.
    schedule         text check (schedule is null or length(schedule) between 1 and 200),
    -- When the schedule next makes the monitor due; moved ahead by a claim (a lease) and
    -- set from the schedule when a run is planned. Null when there is no schedule.
    next_run_at      timestamptz,
    webhook_url      text check (webhook_url is null or length(webhook_url) between 1 and 8192),
    -- HMAC-SHA256 key of Scout-Signature; shown to the owner once, when the monitor is made.
    webhook_secret   text not null check (length(webhook_secret) between 32 and 200),
    -- A receiver that answered 410 Gone: no more events are sent until the URL is changed.
    webhook_disabled_at timestamptz,
    webhook_disabled_reason text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint monitors_urls_or_sitemap check ((urls is null) <> (sitemap is null))
);

-- Serves GET /monitors (newest first, keyset) and the scheduler's claim of due monitors.
create index monitors_owner_created_idx on public.monitors (owner, created_at desc, id desc);
create index monitors_due_idx on public.monitors (next_run_at) where next_run_at is not null;

create table public.monitor_runs (
    id               uuid primary key default gen_random_uuid(),
    monitor_id       uuid not null references public.monitors (id) on delete cascade,
    owner            text not null check (owner ~ '^(user|service):.+' and length(owner) <= 300),
    trigger          text not null check (trigger in ('manual', 'schedule')),
    -- planning: the sitemap is being read; running: its scans are queued or running;
    -- finished: every planned page's scan has ended; failed: no page could be planned.
    status           text not null default 'planning'
        check (status in ('planning', 'running', 'finished', 'failed')),
    error            jsonb check (error is null or (error ? 'code' and error ? 'message')),
    pages            jsonb not null default '[]'::jsonb check (jsonb_typeof(pages) = 'array'),
    pages_planned    integer not null default 0 check (pages_planned >= 0),
    pages_scanned    integer not null default 0 check (pages_scanned >= 0),
    pages_failed     integer not null default 0 check (pages_failed >= 0),
    budget_passed    integer not null default 0 check (budget_passed >= 0),
    budget_failed    integer not null default 0 check (budget_failed >= 0),
    -- [{url, scan_id, against, reasons: [...]}] against the monitor's previous finished run.
    regressions      jsonb not null default '[]'::jsonb check (jsonb_typeof(regressions) = 'array'),
    created_at       timestamptz not null default now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    constraint monitor_runs_finished_when_terminal
        check ((status in ('finished', 'failed')) = (finished_at is not null))
);

-- Serves GET /monitors/{id}/runs (newest first, keyset) and "the previous finished run".
create index monitor_runs_monitor_created_idx
    on public.monitor_runs (monitor_id, created_at desc, id desc);

alter table public.scans
    add column monitor_run_id uuid references public.monitor_runs (id) on delete set null;
create index scans_monitor_run_idx on public.scans (monitor_run_id) where monitor_run_id is not null;

create table public.webhook_events (
    id               uuid primary key default gen_random_uuid(),
    monitor_id       uuid not null references public.monitors (id) on delete cascade,
    run_id           uuid not null references public.monitor_runs (id) on delete cascade,
    type             text not null check (type in ('monitor.run.finished', 'monitor.regression')),
    -- The JSON body as it is signed and sent, fixed when the event is written.
    payload          jsonb not null check (jsonb_typeof(payload) = 'object'),
    created_at       timestamptz not null default now(),
    -- Put on the delivery queue (null: still in the outbox, to be relayed).
    enqueued_at      timestamptz,
    attempts         integer not null default 0 check (attempts >= 0),
    next_attempt_at  timestamptz,
    delivered_at     timestamptz,
    -- Given up on: 24 hours of retries spent, or the receiver answered 410.
    abandoned_at     timestamptz,
    constraint webhook_events_one_run_event unique (run_id, type)
);

create index webhook_events_monitor_created_idx
    on public.webhook_events (monitor_id, created_at desc, id desc);
create index webhook_events_outbox_idx
    on public.webhook_events (created_at) where enqueued_at is null and delivered_at is null and abandoned_at is null;

create table public.webhook_deliveries (
    id               uuid primary key default gen_random_uuid(),
    event_id         uuid not null references public.webhook_events (id) on delete cascade,
    monitor_id       uuid not null references public.monitors (id) on delete cascade,
    attempt          integer not null check (attempt >= 1),
    outcome          text not null check (outcome in ('delivered', 'retry', 'abandoned', 'disabled')),
    status_code      integer,
    error            jsonb check (error is null or (error ? 'code' and error ? 'message')),
    duration_ms      integer check (duration_ms >= 0),
    attempted_at     timestamptz not null default now(),
    constraint webhook_deliveries_one_attempt unique (event_id, attempt)
);

-- Serves GET /monitors/{id}/deliveries (newest first, keyset).
create index webhook_deliveries_monitor_attempted_idx
    on public.webhook_deliveries (monitor_id, attempted_at desc, id desc);

-- As for scans: a signed-in user reads their own monitors and runs through the Supabase API;
-- nobody writes except through scout's functions (service_role). Webhook secrets, events and
-- deliveries are read only through the backend.
alter table public.monitors enable row level security;
alter table public.monitor_runs enable row level security;
alter table public.webhook_events enable row level security;
alter table public.webhook_deliveries enable row level security;

create policy monitor_runs_owner_read on public.monitor_runs for select to authenticated
    using (
        owner = 'user:' || coalesce(
            (select nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'), ''
        )
    );

revoke all on public.monitors, public.monitor_runs, public.webhook_events, public.webhook_deliveries
    from anon, authenticated;
grant select on public.monitor_runs to authenticated;
grant all on public.monitors, public.monitor_runs, public.webhook_events, public.webhook_deliveries
    to service_role;
