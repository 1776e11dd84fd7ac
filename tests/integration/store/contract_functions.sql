-- SQL functions the store contract tests call. They follow the conventions of
-- docs/storage.md, as the schema-convention tests check every function in public.

create table if not exists public.scout_test_items (
    id text primary key,
    quantity int not null check (quantity >= 0)
);
alter table public.scout_test_items enable row level security;

create or replace function public.scout_test_return(value jsonb)
returns jsonb language sql immutable set search_path = '' as $$ select value $$;

create or replace function public.scout_test_title(title text)
returns jsonb language sql immutable set search_path = '' as $$ select to_jsonb(title) $$;

-- Each argument with the type Postgres gave it, to show how the adapters pass it.
create or replace function public.scout_test_echo(
    doc jsonb default null,
    label text default null,
    amount int default null,
    big bigint default null,
    ratio double precision default null,
    price numeric default null,
    flag boolean default null,
    at timestamptz default null,
    day date default null,
    ident uuid default null,
    fallback text default 'the default'
)
returns jsonb language sql immutable set search_path = '' as $$
    select jsonb_build_object(
        'doc', doc, 'label', label, 'amount', amount, 'big', big, 'ratio', ratio,
        'price', price, 'flag', flag, 'at', at, 'day', day, 'ident', ident, 'fallback', fallback)
$$;

create or replace function public.scout_test_fail(state text, message text)
returns jsonb language plpgsql set search_path = '' as $$
begin
    raise exception using errcode = state, message = message;
end
$$;

create or replace function public.scout_test_divide(numerator int, denominator int)
returns jsonb language sql immutable set search_path = '' as $$ select to_jsonb(numerator / denominator) $$;

-- Inserts every item or, when one is refused, none.
create or replace function public.scout_test_add_items(items jsonb)
returns jsonb language plpgsql set search_path = '' as $$
declare
    item jsonb;
begin
    for item in select * from jsonb_array_elements(items) loop
        insert into public.scout_test_items (id, quantity)
        values (item ->> 'id', (item ->> 'quantity')::int);
    end loop;
    return jsonb_build_object('added', jsonb_array_length(items));
end
$$;

-- A helper, not an API function: it lives in private.
create or replace function private.scout_test_lock_holders(key int)
returns int language sql volatile set search_path = '' as $$
    select count(distinct pid)::int from pg_catalog.pg_locks
    where locktype = 'advisory' and granted and classid = 0 and objid = key and objsubid = 1
$$;

create or replace function public.scout_test_session()
returns jsonb language sql stable set search_path = '' as $$
    select jsonb_build_object('role', current_user, 'pid', pg_backend_pid(), 'timezone', current_setting('TimeZone'))
$$;

-- Waits until `parties` calls hold the shared advisory lock `key` at the same time, or the
-- bound runs out: calls that ran one after another could never all meet. A second phase on
-- lock `key + 1` keeps every caller inside until all have seen the meeting, since the first
-- to return releases its locks.
create or replace function public.scout_test_rendezvous(key int, parties int, bound_ms int default 20000)
returns jsonb language plpgsql set search_path = '' as $$
declare
    deadline timestamptz := clock_timestamp() + make_interval(secs => bound_ms / 1000.0);
    met boolean;
begin
    perform pg_advisory_xact_lock_shared(key);
    loop
        met := private.scout_test_lock_holders(key) >= parties;
        exit when met or clock_timestamp() > deadline;
        perform pg_sleep(0.01);
    end loop;
    perform pg_advisory_xact_lock_shared(key + 1);
    loop
        exit when private.scout_test_lock_holders(key + 1) >= parties
            or private.scout_test_lock_holders(key) < parties  -- one already left: all had met
            or clock_timestamp() > deadline;
        perform pg_sleep(0.01);
    end loop;
    return jsonb_build_object('met', met);
end
$$;
