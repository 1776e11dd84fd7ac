-- Monitors' SQL functions (the tables are in 20261207000100_monitors.sql).
--
--   create_monitor   the API: a monitor of an owner, with the webhook secret made by the caller
--   get_monitor, list_monitors, delete_monitor  the API: an owner's own monitors only; another
--                    owner's monitor is reported exactly like a missing one
--
-- Runs, their scans and the run's closing in finish_scan are not here yet (docs/monitors.md).

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
    if p_limit is null or p_limit < 1 or p_limit > 100 then
        raise exception 'limit must be between 1 and 100' using errcode = 'invalid_parameter_value';
    end if;
    if (p_after_created_at is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its time and its id' using errcode = 'invalid_parameter_value';
    end if;
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
