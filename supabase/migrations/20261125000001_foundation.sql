-- scout foundation: the API roles, the privilege conventions later migrations rely on, and
-- a health function. Valid on Supabase, where the roles already exist, and on plain Postgres
-- (local runner, tests), where it creates them so grants and row level security behave alike.
-- Conventions: docs/storage.md.

-- Supabase's API roles. PostgREST switches to the role named by the request's JWT:
-- anon (the public key), authenticated (a user's access token), service_role (the backend's
-- key; bypasses row level security). scout's backend calls everything as service_role.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
end
$$;

grant usage on schema public to anon, authenticated, service_role;

-- As on Supabase: tables in public are granted to the API roles and guarded by row level
-- security, which every table must enable (tests/integration/store checks it).
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

-- Functions in public are the API, for the backend only. Postgres grants EXECUTE to PUBLIC
-- by default and Supabase to anon and authenticated as well; with those grants anyone
-- holding the public anon key could call them over /rest/v1/rpc.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;
alter default privileges in schema public grant execute on functions to service_role;

-- Helpers that are not API functions (triggers, shared SQL) live in private, which the
-- Supabase API does not expose.
create schema if not exists private;
grant usage on schema private to service_role;
alter default privileges in schema private grant all on tables to service_role;
alter default privileges in schema private grant all on sequences to service_role;
alter default privileges in schema private grant execute on functions to service_role;

-- Supabase databases run in UTC; a local one follows, so timestamps render the same.
do $$
begin
    execute format('alter database %I set timezone to %L', current_database(), 'UTC');
end
$$;

create or replace function public.scout_ping()
returns jsonb
language sql
stable
set search_path = ''
as $$
    select jsonb_build_object(
        'ok', true,
        'database_time', now(),
        'server_version', current_setting('server_version_num')::int
    )
$$;

comment on function public.scout_ping() is 'Health check: the store reaches the database.';
revoke all on function public.scout_ping() from public, anon, authenticated;
grant execute on function public.scout_ping() to service_role;
