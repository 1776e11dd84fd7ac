-- Webhooks: the outbox relay, each delivery attempt, and the delivery log (docs/monitors.md,
-- "Webhooks"). Over the tables of 20261207000100_monitors.sql; no table is altered here.
--
--   claim_outbox_events     the relay takes events to put on the delivery queue (skip locked)
--   return_outbox_events    events the queue refused go back to the outbox
--   begin_webhook_delivery  the delivery worker takes one event and its monitor's webhook
--   record_webhook_attempt  one attempt's outcome, and what it does to the event and monitor
--   list_webhook_deliveries GET /monitors/{monitor_id}/deliveries (newest first, keyset)
--
-- Times come from the caller (p_now): the worker decides retries and the 24-hour give-up
-- against the same clock it records, which also lets tests inject one.

-- The relay's claim: up to p_limit events, oldest first, that are in the outbox (never
-- enqueued), or whose queue message must have been lost (enqueued, or due, more than
-- p_lease_seconds ago without the worker taking it). They are marked enqueued in the same
-- statement, under `for update skip locked`, so two relays at once never take the same event.
create or replace function public.claim_outbox_events(p_limit integer, p_lease_seconds integer, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    claimed jsonb;
begin
    if coalesce(p_limit, 0) < 1 or p_limit > 1000 or coalesce(p_lease_seconds, 0) < 1 or p_now is null then
        raise exception 'limit must be 1-1000, the lease positive and now given'
            using errcode = 'invalid_parameter_value';
    end if;
    with due as (
        select e.id from public.webhook_events e
        where e.delivered_at is null and e.abandoned_at is null
          and (
              e.enqueued_at is null
              or (
                  e.enqueued_at < p_now - make_interval(secs => p_lease_seconds)
                  and coalesce(e.next_attempt_at, e.enqueued_at) < p_now - make_interval(secs => p_lease_seconds)
              )
          )
        order by e.created_at, e.id
        limit p_limit
        for update skip locked
    ), marked as (
        update public.webhook_events e set enqueued_at = p_now
        from due where e.id = due.id
        returning e.id, e.created_at
    )
    select coalesce(jsonb_agg(m.id order by m.created_at, m.id), '[]'::jsonb) into claimed from marked m;
    return jsonb_build_object('event_ids', claimed);
end
$$;

-- The queue refused these: back to the outbox for the next relay.
create or replace function public.return_outbox_events(p_event_ids jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    returned integer;
begin
    if jsonb_typeof(p_event_ids) is distinct from 'array' then
        raise exception 'event ids must be a JSON array' using errcode = 'invalid_parameter_value';
    end if;
    update public.webhook_events set enqueued_at = null
    where id in (select value::uuid from jsonb_array_elements_text(p_event_ids))
      and delivered_at is null and abandoned_at is null;
    get diagnostics returned = row_count;
    return jsonb_build_object('returned', returned);
end
$$;

-- The worker takes an event for one attempt:
--   {"outcome": "skipped", "reason": "missing" | "delivered" | "abandoned" | "disabled"}
--     (a disabled or removed webhook abandons the event: nobody would receive it);
--   {"outcome": "not_due", "due_in_seconds": n}: a retry scheduled later than this message
--     arrived (SQS delays at most 15 minutes), or another attempt holds the event;
--   {"outcome": "claimed", "event": {...}, "attempt": n, "webhook": {"url", "secret"}}, the
--     event held for p_lease_seconds (the attempt's time limit and a margin) so a duplicate
--     message meanwhile is not due.
create or replace function public.begin_webhook_delivery(p_event_id uuid, p_lease_seconds integer, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    e public.webhook_events;
    m public.monitors;
begin
    if coalesce(p_lease_seconds, 0) < 1 or p_now is null then
        raise exception 'the lease must be positive and now given' using errcode = 'invalid_parameter_value';
    end if;
    select * into e from public.webhook_events where id = p_event_id for update;
    if not found then
        return jsonb_build_object('outcome', 'skipped', 'reason', 'missing');
    end if;
    if e.delivered_at is not null then
        return jsonb_build_object('outcome', 'skipped', 'reason', 'delivered');
    end if;
    if e.abandoned_at is not null then
        return jsonb_build_object('outcome', 'skipped', 'reason', 'abandoned');
    end if;
    select * into m from public.monitors where id = e.monitor_id;
    if m.webhook_url is null or m.webhook_disabled_at is not null then
        update public.webhook_events set abandoned_at = p_now, next_attempt_at = null where id = e.id;
        return jsonb_build_object('outcome', 'skipped', 'reason', 'disabled');
    end if;
    if e.next_attempt_at is not null and e.next_attempt_at > p_now then
        return jsonb_build_object(
            'outcome', 'not_due',
            'due_in_seconds', ceil(extract(epoch from e.next_attempt_at - p_now))::integer
        );
    end if;
    update public.webhook_events set
        attempts = attempts + 1,
        next_attempt_at = p_now + make_interval(secs => p_lease_seconds)
    where id = e.id
    returning * into e;
    return jsonb_build_object(
        'outcome', 'claimed',
        'attempt', e.attempts,
        'event', jsonb_build_object(
            'id', e.id, 'monitor_id', e.monitor_id, 'run_id', e.run_id, 'type', e.type,
            'payload', e.payload, 'created_at', e.created_at
        ),
        'webhook', jsonb_build_object('url', m.webhook_url, 'secret', m.webhook_secret)
    );
end
$$;

-- One attempt's outcome, recorded once per (event, attempt):
--   delivered  the event is delivered;
--   retry      the next attempt is due at p_next_attempt_at;
--   abandoned  24 hours of retries are spent (or the URL can never be reached);
--   disabled   the receiver answered 410: the event is given up and the monitor's webhook
--              disabled (webhook_disabled_at, the reason from p_error) until its URL changes.
-- Answers {"outcome": "recorded"}, or {"outcome": "superseded"} when a later attempt took the
-- event over meanwhile (this attempt is still listed; the event is left to the later one).
create or replace function public.record_webhook_attempt(
    p_event_id uuid,
    p_attempt integer,
    p_outcome text,
    p_status_code integer,
    p_error jsonb,
    p_duration_ms integer,
    p_next_attempt_at timestamptz,
    p_now timestamptz
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    e public.webhook_events;
begin
    if p_outcome is null or p_outcome not in ('delivered', 'retry', 'abandoned', 'disabled') then
        raise exception 'outcome must be delivered, retry, abandoned or disabled' using errcode = 'invalid_parameter_value';
    end if;
    if (p_outcome = 'retry') <> (p_next_attempt_at is not null) or p_now is null then
        raise exception 'a retry, and only a retry, needs its next attempt time; now must be given'
            using errcode = 'invalid_parameter_value';
    end if;
    select * into e from public.webhook_events where id = p_event_id for update;
    if not found then
        raise exception 'No webhook event %.', p_event_id using errcode = 'no_data_found';
    end if;
    insert into public.webhook_deliveries
        (event_id, monitor_id, attempt, outcome, status_code, error, duration_ms, attempted_at)
    values (e.id, e.monitor_id, p_attempt, p_outcome, p_status_code, p_error, p_duration_ms, p_now)
    on conflict (event_id, attempt) do nothing;
    if e.attempts <> p_attempt or e.delivered_at is not null or e.abandoned_at is not null then
        return jsonb_build_object('outcome', 'superseded');
    end if;
    update public.webhook_events set
        delivered_at = case when p_outcome = 'delivered' then p_now end,
        abandoned_at = case when p_outcome in ('abandoned', 'disabled') then p_now end,
        next_attempt_at = p_next_attempt_at
    where id = e.id;
    if p_outcome = 'disabled' then
        update public.monitors set
            webhook_disabled_at = p_now,
            webhook_disabled_reason = coalesce(p_error ->> 'message', 'the receiver answered 410 Gone'),
            updated_at = p_now
        where id = e.monitor_id and webhook_disabled_at is null;
    end if;
    return jsonb_build_object('outcome', 'recorded');
end
$$;

-- GET /monitors/{monitor_id}/deliveries: the attempts at delivering the monitor's events,
-- newest first, p_limit per page after (p_after_attempted_at, p_after_id). A monitor that is
-- not p_owner's is not found, exactly like one that does not exist.
create or replace function public.list_webhook_deliveries(
    p_monitor_id uuid,
    p_owner text,
    p_limit integer,
    p_after_attempted_at timestamptz,
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
    if (p_after_attempted_at is null) <> (p_after_id is null) then
        raise exception 'a cursor needs both its time and its id' using errcode = 'invalid_parameter_value';
    end if;
    if not exists (select from public.monitors m where m.id = p_monitor_id and m.owner = p_owner) then
        raise exception 'No monitor % here.', p_monitor_id using errcode = 'no_data_found';
    end if;
    -- One row past the page says whether another page follows.
    select coalesce(jsonb_agg(
        jsonb_build_object(
            'id', d.id,
            'event_id', d.event_id,
            'event_type', d.type,
            'run_id', d.run_id,
            'attempt', d.attempt,
            'outcome', d.outcome,
            'status_code', d.status_code,
            'error', d.error,
            'duration_ms', d.duration_ms,
            'attempted_at', d.attempted_at
        ) order by d.attempted_at desc, d.id desc
    ), '[]'::jsonb)
    into page
    from (
        select w.*, e.type, e.run_id
        from public.webhook_deliveries w join public.webhook_events e on e.id = w.event_id
        where w.monitor_id = p_monitor_id
          and (p_after_attempted_at is null or (w.attempted_at, w.id) < (p_after_attempted_at, p_after_id))
        order by w.attempted_at desc, w.id desc
        limit p_limit + 1
    ) d;
    if jsonb_array_length(page) <= p_limit then
        return jsonb_build_object('items', page, 'next', null);
    end if;
    page := page - p_limit;
    return jsonb_build_object(
        'items', page,
        'next', jsonb_build_object('attempted_at', page -> -1 -> 'attempted_at', 'id', page -> -1 -> 'id')
    );
end
$$;

revoke all on function public.claim_outbox_events(integer, integer, timestamptz) from public, anon, authenticated;
revoke all on function public.return_outbox_events(jsonb) from public, anon, authenticated;
revoke all on function public.begin_webhook_delivery(uuid, integer, timestamptz) from public, anon, authenticated;
revoke all on function public.record_webhook_attempt(uuid, integer, text, integer, jsonb, integer, timestamptz, timestamptz)
    from public, anon, authenticated;
revoke all on function public.list_webhook_deliveries(uuid, text, integer, timestamptz, uuid)
    from public, anon, authenticated;
grant execute on function public.claim_outbox_events(integer, integer, timestamptz) to service_role;
grant execute on function public.return_outbox_events(jsonb) to service_role;
grant execute on function public.begin_webhook_delivery(uuid, integer, timestamptz) to service_role;
grant execute on function public.record_webhook_attempt(uuid, integer, text, integer, jsonb, integer, timestamptz, timestamptz)
    to service_role;
grant execute on function public.list_webhook_deliveries(uuid, text, integer, timestamptz, uuid) to service_role;
