-- Sync index (issue 14): the search vectors of a posting made with less work, the same vectors.
-- Measured in docs/performance.md (Search, first import).
--
-- search, title_search and place_words stop being generated columns: a row trigger
-- (private.posting_search_vectors) computes them with the same expressions, the title and the
-- places folded and parsed once each instead of twice, the places' text made without
-- places_text's SQL function (~45 us a call). A bulk load that disables user triggers may set
-- them itself: bench.support.search_data composes them from parts parsed once, and a test checks
-- that they equal the trigger's.

alter table public.postings alter column search drop expression;
alter table public.postings alter column title_search drop expression;
alter table public.postings alter column place_words drop expression;

-- A posting's places as private.places_text gives them, for the usual list of names
-- without its SQL function (~45 us a call: a subquery keeps it from being inlined).
create type private.place_names as (names text[]);

-- The expressions of 20261206000300_jobs_search.sql, each input folded and parsed once.
create function private.posting_search_vectors() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_title  tsvector := pg_catalog.to_tsvector('english', private.unaccented(coalesce(new.title, '')));
    v_places text;
begin
    if pg_catalog.jsonb_typeof(new.locations) = 'array'
       and not pg_catalog.jsonb_path_exists(new.locations, 'strict $[*] ? (@.type() != "string")') then
        v_places := pg_catalog.array_to_string(pg_catalog.array_remove(pg_catalog.array_prepend(
            new.location,
            coalesce((pg_catalog.jsonb_populate_record(null::private.place_names,
                          pg_catalog.jsonb_build_object('names', new.locations))).names, '{}')),
            null), ' ');
    else
        v_places := private.places_text(new.location, new.locations);
    end if;
    v_places := private.unaccented(v_places);
    new.title_search := case when new.title is not null then v_title end;
    new.place_words := pg_catalog.to_tsvector('simple', v_places);
    new.search := pg_catalog.setweight(v_title, 'A')
        || pg_catalog.setweight(pg_catalog.to_tsvector('english',
               private.unaccented(coalesce(new.department, '') || ' ' || coalesce(new.team, ''))), 'B')
        || pg_catalog.setweight(pg_catalog.to_tsvector('english', v_places), 'C')
        || pg_catalog.setweight(pg_catalog.to_tsvector('english',
               private.unaccented(pg_catalog.left(coalesce(new.description_text, ''), 100000))), 'D');
    return new;
end;
$$;

create trigger postings_search_vectors before insert or update of
    title, department, team, location, locations, description_text
    on public.postings
    for each row execute function private.posting_search_vectors();

revoke all on function private.posting_search_vectors() from public;
