-- Jobs search that holds at a million postings: relevance order, folded filters served by
-- indexes, and typo tolerance for short queries (bench/results/search.md measures it).
--
-- The embedded Postgres (pgserver) ships neither unaccent nor pg_trgm, so both are written
-- here as immutable SQL functions: accents are folded with translate(), and trigrams are
-- text arrays that the built-in GIN array operators index. Supabase would run the same code.


-- ---- folding text ----------------------------------------------------------------------

-- Accents off, the way unaccent's default rules do it for Latin letters (capitals with an
-- accent come out small: every caller also ignores case). ASCII text, most descriptions, is
-- returned as it is: translate() walks its whole list for every character, 3 ms for 1 KB.
create function private.unaccented(p_text text) returns text
language sql immutable parallel safe strict
as $$
    select case when pg_catalog.octet_length(p_text) = pg_catalog.length(p_text) then p_text else
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.translate(p_text,
               'àáâãäåāăąÀÁÂÃÄÅĀĂĄçćĉċčÇĆĈĊČďđĎĐðèéêëēĕėęěÈÉÊËĒĔĖĘĚĝğġģĜĞĠĢĥħĤĦìíîïĩīĭįıÌÍÎÏĨĪĬĮİĵĴķĶĺļľŀłĹĻĽĿŁñńņňÑŃŅŇòóôõöøōŏőÒÓÔÕÖØŌŎŐŕŗřŔŖŘśŝşšșŚŜŞŠȘţťŧțŢŤŦȚùúûüũūŭůűųÙÚÛÜŨŪŬŮŰŲŵŴýÿŷÝŸŶźżžŹŻŽ',
               'aaaaaaaaaaaaaaaaaaccccccccccdddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz'),
           'ß', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'), 'þ', 'th'), 'Þ', 'th'), 'ẞ', 'ss')
           end
$$;

-- A name as scout compares names: no accents, no case, ASCII punctuation and runs of space
-- as one space ("Société Générale, S.A." and "societe generale s a" are the same company).
create function private.fold(p_text text) returns text
language sql immutable parallel safe strict
as $$
    select pg_catalog.btrim(pg_catalog.regexp_replace(
        pg_catalog.lower(private.unaccented(p_text)), '[[:space:]!-/:-@\[-`{-~]+', ' ', 'g'))
$$;

-- A posting's places: its display location and every entry of its locations list.
create function private.location_list(p_location text, p_locations jsonb) returns text[]
language sql immutable parallel safe
as $$
    select pg_catalog.array_remove(
        pg_catalog.array_prepend(p_location, coalesce(
            (select pg_catalog.array_agg(l.name)
             from pg_catalog.jsonb_array_elements_text(
                 case when pg_catalog.jsonb_typeof(p_locations) = 'array' then p_locations else '[]' end
             ) as l(name)),
            '{}')),
        null)
$$;

-- The same as one text, for the search vectors (array_to_string is only stable in general,
-- for it formats any element type; for text it is immutable).
create function private.places_text(p_location text, p_locations jsonb) returns text
language sql immutable parallel safe
as $$
    select pg_catalog.array_to_string(private.location_list(p_location, p_locations), ' ')
$$;

-- Trigrams as pg_trgm makes them: each word of the folded text padded with two spaces in
-- front and one behind, every three-character window of it, each once.
create function private.trigrams(p_text text) returns text[]
language sql immutable parallel safe strict
as $$
    select coalesce(pg_catalog.array_agg(distinct pg_catalog.substr(padded.word, position.n, 3)), '{}')
    from pg_catalog.unnest(pg_catalog.string_to_array(private.fold(p_text), ' ')) as w(word)
    cross join lateral (select '  ' || w.word || ' ') as padded(word)
    cross join lateral pg_catalog.generate_series(1, pg_catalog.length(padded.word) - 2) as position(n)
    where w.word <> ''
$$;

-- Shared trigrams over all trigrams of the two (pg_trgm's similarity()), for the distinct
-- trigrams private.trigrams() makes: a scan of one array rather than two set operations.
create function private.trigram_similarity(p_left text[], p_right text[]) returns real
language sql immutable parallel safe strict
as $$
    select case when pg_catalog.cardinality(p_left) + pg_catalog.cardinality(p_right) = 0 then 0::real
           else shared.n / (pg_catalog.cardinality(p_left) + pg_catalog.cardinality(p_right) - shared.n) end
    from (select pg_catalog.count(*)::real as n from pg_catalog.unnest(p_left) as t
          where t operator(pg_catalog.=) any(p_right)) as shared
$$;

-- The same query with every lexeme restricted to the given weights ('A', 'AB', ...):
-- "engineer" becomes 'engin':A, which matches only a title.
create function private.weighted_query(p_query tsquery, p_weights text) returns tsquery
language sql immutable parallel safe strict
as $$
    select pg_catalog.regexp_replace(
        p_query::text, '(''(?:[^'']|'''')*'')(?::(\*?)[A-D]*)?', '\1:\2' || p_weights, 'g')::tsquery
$$;


-- ---- postings: the columns and indexes search reads -------------------------------------

-- Title A, department and team B, places C, description D (ts_rank's weight classes), with
-- accents folded so that "sao paulo" finds "São Paulo". Replacing the column rebuilds it.
alter table public.postings drop column search;
alter table public.postings add column search tsvector generated always as (
    setweight(to_tsvector('english', private.unaccented(coalesce(title, ''))), 'A')
    || setweight(to_tsvector('english', private.unaccented(coalesce(department, '') || ' ' || coalesce(team, ''))), 'B')
    || setweight(to_tsvector('english', private.unaccented(private.places_text(location, locations))), 'C')
    || setweight(to_tsvector('english', private.unaccented(left(coalesce(description_text, ''), 100000))), 'D')
) stored;
create index postings_search_idx on public.postings using gin (search);

-- The title alone, for the title tier: the same as search's A weights, but small enough to
-- stay in the row, where the full vector of a long description is read back from TOAST.
alter table public.postings add column title_search tsvector generated always as (
    to_tsvector('english', private.unaccented(title))
) stored;
create index postings_title_search_idx on public.postings using gin (title_search);
-- Titles use a few thousand words: a larger sample keeps the rare ones ("haskell") in the
-- statistics, so a rare title word is planned as the few rows it is, not as 0.1 % of the
-- table (which walked 233,000 index entries for 8 rows at a million postings).
alter table public.postings alter column title_search set statistics 1000;

-- Every place of a posting as words, for the location filter (phrase of word prefixes).
alter table public.postings add column place_words tsvector generated always as (
    to_tsvector('simple', private.unaccented(private.places_text(location, locations)))
) stored;
create index postings_place_words_idx on public.postings using gin (place_words);

-- The feed in page order, carrying what the cheap filters and the title tier read: a page
-- is found in the index alone (an index-only scan) and only its rows are read from the table,
-- where a filter on the table's rows would read every row it passes over, description and all.
drop index public.postings_active_feed_idx;
create index postings_active_feed_idx on public.postings (sort_at desc, id desc)
    include (source_id, title_search, place_words, remote, workplace_type, salary_min, salary_max,
             salary_year_min, salary_year_max)
    where archived_at is null;

-- A company's feed: its sources' active postings, newest first (also the sync's lookups).
create index postings_source_feed_idx on public.postings (source_id, sort_at desc, id desc)
    where archived_at is null;
drop index public.postings_source_active_idx;

-- Company filter (folded equality), and company names for short queries (prefix, trigrams).
alter table public.sources add column company_trigrams text[] generated always as (private.trigrams(company)) stored;
create index sources_company_folded_idx on public.sources (private.fold(company) text_pattern_ops);
create index sources_company_trigrams_idx on public.sources using gin (company_trigrams);

-- The words of every title, for correcting a mistyped word of a short query. Words are
-- added as titles arrive and never removed: a stale word only suggests a correction that
-- matches nothing.
create table private.title_words (
    word     text primary key,
    trigrams text[] generated always as (private.trigrams(word)) stored
);
create index title_words_trigrams_idx on private.title_words using gin (trigrams);
create index title_words_prefix_idx on private.title_words (word text_pattern_ops);

create function private.remember_title_words() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- In word order, so two syncs adding the same new words cannot deadlock on them.
    insert into private.title_words (word)
    select distinct w.word
    from changed_rows r
    cross join lateral pg_catalog.unnest(pg_catalog.string_to_array(private.fold(r.title), ' ')) as w(word)
    where pg_catalog.length(w.word) between 3 and 40 and w.word !~ '^[0-9]+$'
    order by w.word
    on conflict (word) do nothing;
    return null;
end;
$$;

-- Statement triggers over the transition table: one insert per sync, not one per posting.
create trigger postings_title_words_on_insert after insert on public.postings
    referencing new table as changed_rows
    for each statement execute function private.remember_title_words();
create trigger postings_title_words_on_update after update on public.postings
    referencing new table as changed_rows
    for each statement execute function private.remember_title_words();

insert into private.title_words (word)
select distinct w.word
from public.postings p
cross join lateral pg_catalog.unnest(pg_catalog.string_to_array(private.fold(p.title), ' ')) as w(word)
where pg_catalog.length(w.word) between 3 and 40 and w.word !~ '^[0-9]+$'
on conflict (word) do nothing;


-- ---- the search query -------------------------------------------------------------------

-- q as a tsquery: web-search syntax, accents folded. A query of one or two plain words
-- (no quotes, no "-") is what people type into a search box, so it also matches the title
-- words the last word begins ("backe" finds "backend") and each word's likely correction
-- from the title words ("enginer" finds "engineer"). Null when q has no lexemes ("the").
create function private.search_query(p_q text) returns tsquery
language plpgsql stable
set search_path = ''
as $$
declare
    v_words      text[];
    v_query      tsquery;
    v_word_query tsquery;
    v_trigrams   text[];
    v_correction text;
    v_position   integer;
begin
    if nullif(pg_catalog.btrim(p_q), '') is null then
        return null;
    end if;
    v_words := pg_catalog.string_to_array(private.fold(p_q), ' ');
    if p_q ~ '["-]' or pg_catalog.cardinality(v_words) not between 1 and 2 or v_words[1] = '' then
        v_query := pg_catalog.websearch_to_tsquery('english', private.unaccented(p_q));
        return case when pg_catalog.numnode(v_query) = 0 then null else v_query end;
    end if;

    for v_position in 1 .. pg_catalog.cardinality(v_words) loop
        v_word_query := pg_catalog.plainto_tsquery('english', v_words[v_position]);
        if v_position = pg_catalog.cardinality(v_words) and pg_catalog.length(v_words[v_position]) >= 2 then
            -- The title words it begins, not a prefix lexeme ('hask':*): the planner cannot
            -- estimate how many postings a prefix matches, and walking the whole feed for a
            -- rare one took seconds at a million postings (bench/results/search.md).
            for v_correction in
                select t.word from private.title_words t
                where t.word operator(pg_catalog.~>=~) v_words[v_position]
                  and t.word operator(pg_catalog.~<~) (v_words[v_position] || U&'\+10FFFF')
                  and t.word <> v_words[v_position]
                order by pg_catalog.length(t.word), t.word
                limit 5
            loop
                v_word_query := v_word_query || pg_catalog.plainto_tsquery('english', v_correction);
            end loop;
        end if;
        if pg_catalog.length(v_words[v_position]) >= 4
           and not exists (select from private.title_words t where t.word = v_words[v_position]) then
            v_trigrams := private.trigrams(v_words[v_position]);
            -- Candidates share a trigram inside the word (not just its padded start), start with
            -- the same letter and are about as long: a handful of the title words to compare.
            for v_correction in
                select t.word from private.title_words t
                where t.trigrams operator(pg_catalog.&&) array(
                          select x from pg_catalog.unnest(v_trigrams) as x where x !~ '^ ')
                  and pg_catalog.left(t.word, 1) = pg_catalog.left(v_words[v_position], 1)
                  and pg_catalog.length(t.word) between pg_catalog.length(v_words[v_position]) - 2
                                                     and pg_catalog.length(v_words[v_position]) + 3
                  and private.trigram_similarity(t.trigrams, v_trigrams) >= 0.4
                order by private.trigram_similarity(t.trigrams, v_trigrams) desc, t.word
                limit 2
            loop
                v_word_query := v_word_query || pg_catalog.plainto_tsquery('english', v_correction);
            end loop;
        end if;
        if pg_catalog.numnode(v_word_query) > 0 then
            v_query := case when v_query is null then v_word_query else v_query && v_word_query end;
        end if;
    end loop;
    return v_query;
end;
$$;

-- The sources whose company a short query names: the same name, a name starting with it
-- ("acme" for "Acme Robotics"), or a near spelling ("strpe" for "Stripe"). Three lookups,
-- one index each (an OR of them would fold every company name of the table).
create function private.sources_named_by(p_q text) returns uuid[]
language plpgsql stable
set search_path = ''
as $$
declare
    v_name     text := private.fold(p_q);
    v_trigrams text[];
    v_inner    text[];
    v_sources  uuid[];
begin
    if v_name is null or v_name = '' or pg_catalog.cardinality(pg_catalog.string_to_array(v_name, ' ')) > 2 then
        return '{}';
    end if;
    -- Near spellings only for a word no title has: "engineer" is no misspelt company, and
    -- comparing it with every company sharing a trigram costs more than the whole search.
    if exists (select from pg_catalog.unnest(pg_catalog.string_to_array(v_name, ' ')) as w(word)
               where not exists (select from private.title_words t where t.word = w.word)) then
        v_trigrams := private.trigrams(v_name);
        -- Candidates share a trigram inside a word, not only a padded start like "  s".
        v_inner := array(select t from pg_catalog.unnest(v_trigrams) as t where t !~ '^ ');
    end if;
    select coalesce(pg_catalog.array_agg(distinct named.id), '{}') into v_sources
    from (
        select s.id from public.sources s where private.fold(s.company) = v_name
        union all
        select s.id from public.sources s
        where private.fold(s.company) operator(pg_catalog.~>=~) (v_name || ' ')
          and private.fold(s.company) operator(pg_catalog.~<~) (v_name || '!')
        union all
        select s.id from public.sources s
        where v_inner is not null and pg_catalog.length(v_name) >= 4
          and s.company_trigrams operator(pg_catalog.&&) v_inner
          and private.trigram_similarity(s.company_trigrams, v_trigrams) >= 0.4
    ) named;
    return v_sources;
end;
$$;


-- ---- GET /jobs ---------------------------------------------------------------------------

do $drop$
declare
    v_function regprocedure;
begin
    -- Whatever arguments earlier migrations gave it: one list_jobs, never two overloads.
    for v_function in
        select p.oid::regprocedure from pg_proc p
        where p.proname = 'list_jobs' and p.pronamespace = 'public'::regnamespace
    loop
        execute format('drop function %s', v_function);
    end loop;
end
$drop$;

-- GET /jobs, in two parts: private.jobs_page_plan() turns the filters into the queries that
-- read a page, and public.list_jobs() runs them. Every filter is optional and each query is
-- built from the filters given, so it is planned for its own filters rather than as one
-- generic plan full of "x is null or"; the benchmark explains the same queries.
--
-- sort = 'newest' (the default without q): sort_at (posted, else first seen), then id,
-- continuing after (p_after_sort_at, p_after_id). One query.
--
-- sort = 'relevance' (the default with q): ranked in tiers, newest first within a tier:
--   5  the company is what a short q names
--   4  q matches the title (weight A; title_search holds the same)
--   3  ... the title, department or team (A, B), not the title alone
--   2  ... or a location (A, B, C)
--   1  ... the description only (D)
--   0  any match older than 60 days (as of the first page)
-- so a month-old title match beats a fresh mention in a description, and stale postings
-- sink. Each tier is one query that walks an index in (sort_at, id) order and stops at the
-- page's end, which is why the rank is a tier and not ts_rank_cd: ordering by ts_rank_cd
-- ranks every match first, 200,000 of them for "engineer" (bench/results/search.md measures
-- both). Tiers are read best first until the page is full; the cursor carries (as_of, rank,
-- sort_at, id), so paging is exact, ties included, and no posting changes tier between pages.
--
-- The plan: {"sort", "as_of", "queries": [{"rank", "sql"}...]}, best tier first; each sql
-- takes the row limit as $1 and selects (sort_at, id, p, s) in page order.
create function private.jobs_page_plan(
    p_q                text,
    p_company          text,
    p_ats              text,
    p_location         text,
    p_workplace_type   text,
    p_remote           boolean,
    p_department       text,
    p_employment_type  text,
    p_posted_after     timestamptz,
    p_salary_min       numeric,
    p_include_archived boolean,
    p_sort             text,
    p_after_as_of      timestamptz,
    p_after_rank       integer,
    p_after_sort_at    timestamptz,
    p_after_id         uuid,
    p_salary_currency  text
) returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_sort       text := coalesce(p_sort, case when nullif(btrim(p_q), '') is null then 'newest' else 'relevance' end);
    v_query      tsquery;
    v_places     tsquery;
    v_companies  uuid[] := '{}';
    v_as_of      timestamptz := coalesce(p_after_as_of, now());
    v_conditions text[] := array['true'];
    v_filters    text;
    v_match      text;
    v_fresh      text;
    v_tiers      text[];
    v_queries    jsonb := '[]'::jsonb;
    v_tier       integer;
begin
    if v_sort not in ('relevance', 'newest') then
        raise exception 'sort: must be relevance or newest' using errcode = '22023';
    end if;
    if (p_after_sort_at is null) <> (p_after_id is null) or (p_after_as_of is null) <> (p_after_rank is null) then
        raise exception 'a cursor needs both its position and its id' using errcode = '22023';
    end if;
    v_query := private.search_query(p_q);
    if v_sort = 'relevance' and v_query is null then
        v_sort := 'newest';  -- nothing to rank by ("the", or no q at all)
    end if;
    if (v_sort = 'relevance') <> (p_after_rank is not null) and p_after_id is not null then
        raise exception 'cursor: issued for another sort order; pass next_cursor from the previous page'
            using errcode = '22023';
    end if;
    if nullif(btrim(p_location), '') is not null then
        -- Each word of the filter as a word prefix, in order ('*' weights a lexeme as a
        -- prefix): "san fran" finds "San Francisco, CA".
        v_places := private.weighted_query(phraseto_tsquery('simple', private.unaccented(p_location)), '*');
        if numnode(v_places) = 0 then
            v_places := null;
        end if;
    end if;

    if not coalesce(p_include_archived, false) then
        v_conditions := array_append(v_conditions, 'p.archived_at is null');
    end if;
    if p_company is not null then
        v_conditions := array_append(v_conditions, format(
            'p.source_id in (select c.id from public.sources c where private.fold(c.company) = private.fold(%L))',
            p_company));
    end if;
    if p_ats is not null then
        v_conditions := array_append(v_conditions,
            format('p.source_id in (select c.id from public.sources c where c.ats = %L)', p_ats));
    end if;
    if v_places is not null and numnode(v_places) = 1 then
        v_conditions := array_append(v_conditions, format('p.place_words @@ %L::tsquery', v_places));
    elsif v_places is not null then
        -- The index finds the words among all of a posting's places; the check keeps the
        -- postings where one place has them all (one word needs no check).
        v_conditions := array_append(v_conditions, format('p.place_words @@ %1$L::tsquery and exists (
            select from unnest(private.location_list(p.location, p.locations)) as l(name)
            where to_tsvector(''simple'', private.unaccented(l.name)) @@ %1$L::tsquery)', v_places));
    end if;
    if p_workplace_type is not null then
        v_conditions := array_append(v_conditions, format('p.workplace_type = %L', p_workplace_type));
    end if;
    if p_remote then
        -- A posting remote by its workplace type is remote even when its flag is unset.
        v_conditions := array_append(v_conditions, '(p.remote or p.workplace_type = ''remote'')');
    elsif not p_remote then
        v_conditions := array_append(v_conditions, '(p.remote = false and p.workplace_type is distinct from ''remote'')');
    end if;
    if p_department is not null then
        v_conditions := array_append(v_conditions, format('lower(p.department) = lower(%L)', p_department));
    end if;
    if p_employment_type is not null then
        v_conditions := array_append(v_conditions, format('p.employment_type = %L', p_employment_type));
    end if;
    if p_posted_after is not null then
        v_conditions := array_append(v_conditions, format('p.posted_at >= %L::timestamptz', p_posted_after));
    end if;
    if p_salary_min is not null then
        -- As 20261206000100_job_content.sql compares: the annualised range reaches the yearly
        -- amount (greatest() skips a missing bound); a range of unknown period is compared as
        -- stated; postings without a salary never match.
        v_conditions := array_append(v_conditions, format(
            'coalesce(greatest(p.salary_year_min, p.salary_year_max), greatest(p.salary_min, p.salary_max))'
            ' >= %L::numeric', p_salary_min));
    end if;
    if p_salary_currency is not null then
        v_conditions := array_append(v_conditions, format('p.salary_currency = upper(%L)', p_salary_currency));
    end if;
    v_filters := array_to_string(v_conditions, ' and ');

    if v_sort = 'newest' then
        v_tiers := array[v_filters || case when v_query is null then ''
                                           else format(' and p.search @@ %L::tsquery', v_query) end];
    else
        v_companies := private.sources_named_by(p_q);
        v_fresh := format('p.sort_at >= %L::timestamptz', v_as_of - interval '60 days');
        v_match := format('p.search @@ %L::tsquery', v_query);
        v_tiers := array[
            -- q twice (once as every weight, the same match): the planner multiplies the two
            -- estimates, so a rare word is read from the GIN index instead of walking every
            -- stale posting, while a common one (0.8 x 0.8) still walks the feed. A rare word
            -- falls below the statistics' smallest frequency and is guessed far too common.
            format('%s and not %s and %s', v_filters, v_fresh,
                   case when cardinality(v_companies) = 0
                        then format('%s and p.search @@ %L::tsquery', v_match, private.weighted_query(v_query, 'ABCD'))
                        else format('(%s or p.source_id = any(%L::uuid[]))', v_match, v_companies) end),
            format('%s and not p.search @@ %L::tsquery', v_match, private.weighted_query(v_query, 'ABC')),
            format('p.search @@ %L::tsquery and not p.search @@ %L::tsquery',
                   private.weighted_query(v_query, 'ABC'), private.weighted_query(v_query, 'AB')),
            format('p.search @@ %L::tsquery and not p.title_search @@ %2$L::tsquery',
                   private.weighted_query(v_query, 'AB'), v_query),
            format('p.title_search @@ %L::tsquery', v_query)];
        for v_tier in 1 .. 4 loop
            -- Every fresh tier matches q as a whole too, for its negations ("-python" is about
            -- the whole posting), and leaves a named company's postings to tier 5. A title
            -- match of a q without negations is a match of the whole posting already.
            v_tiers[v_tier + 1] := format('%s and %s and %s%s%s', v_filters, v_fresh,
                case when v_tier = 4 and strpos(v_query::text, '!') = 0 then '' else v_match || ' and ' end,
                v_tiers[v_tier + 1],
                case when cardinality(v_companies) = 0 then ''
                     else format(' and p.source_id <> all(%L::uuid[])', v_companies) end);
        end loop;
        if cardinality(v_companies) > 0 then
            v_tiers := v_tiers || format('%s and %s and p.source_id = any(%L::uuid[])', v_filters, v_fresh, v_companies);
        end if;
    end if;

    for v_tier in reverse coalesce(array_length(v_tiers, 1), 0) - 1 .. 0 loop
        continue when v_sort = 'relevance' and v_tier > coalesce(p_after_rank, v_tier);
        v_queries := v_queries || jsonb_build_object('rank', v_tier, 'sql', format($query$
            select page.sort_at, page.id, p, s
            from (select p.sort_at, p.id from public.postings p
                  where %s%s
                  order by p.sort_at desc, p.id desc
                  limit $1) page
            join public.postings p on p.id = page.id
            join public.sources s on s.id = p.source_id
        $query$,
            v_tiers[v_tier + 1],
            case when p_after_id is not null and (v_sort = 'newest' or v_tier = p_after_rank)
                 then format(' and (p.sort_at, p.id) < (%L::timestamptz, %L::uuid)', p_after_sort_at, p_after_id)
                 else '' end));
    end loop;
    return jsonb_build_object('sort', v_sort, 'as_of', v_as_of, 'queries', v_queries);
end;
$$;

-- Runs the plan's queries best tier first, each fetching at most what the page still needs;
-- one row more than asked says whether another page follows.
create function public.list_jobs(
    p_q                text default null,
    p_company          text default null,
    p_ats              text default null,
    p_location         text default null,
    p_workplace_type   text default null,
    p_remote           boolean default null,
    p_department       text default null,
    p_employment_type  text default null,
    p_posted_after     timestamptz default null,
    p_salary_min       numeric default null,
    p_include_archived boolean default false,
    p_sort             text default null,
    p_after_as_of      timestamptz default null,
    p_after_rank       integer default null,
    p_after_sort_at    timestamptz default null,
    p_after_id         uuid default null,
    p_limit            integer default 20,
    p_salary_currency  text default null
) returns jsonb
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
    v_plan  jsonb;
    v_query jsonb;
    v_rows  jsonb := '[]'::jsonb;
    v_page  jsonb;
    v_last  jsonb;
begin
    perform private.check_page_limit(p_limit);
    v_plan := private.jobs_page_plan(
        p_q, p_company, p_ats, p_location, p_workplace_type, p_remote, p_department, p_employment_type,
        p_posted_after, p_salary_min, p_include_archived, p_sort, p_after_as_of, p_after_rank,
        p_after_sort_at, p_after_id, p_salary_currency);
    for v_query in select value from jsonb_array_elements(v_plan -> 'queries') loop
        execute format($page$
            select coalesce(jsonb_agg(jsonb_build_object(
                       'rank', %s, 'sort_at', page.sort_at, 'item', private.job_json(page.p, page.s))
                       order by page.sort_at desc, page.id desc), '[]'::jsonb)
            from (%s) page
        $page$, (v_query ->> 'rank')::integer, v_query ->> 'sql')
        into v_page
        using p_limit + 1 - jsonb_array_length(v_rows);
        v_rows := v_rows || v_page;
        exit when jsonb_array_length(v_rows) > p_limit;
    end loop;

    if jsonb_array_length(v_rows) <= p_limit then
        return jsonb_build_object(
            'items', (select coalesce(jsonb_agg(entry -> 'item' order by position), '[]'::jsonb)
                      from jsonb_array_elements(v_rows) with ordinality as r(entry, position)),
            'next', null);
    end if;
    v_last := v_rows -> (p_limit - 1);
    return jsonb_build_object(
        'items', (select jsonb_agg(entry -> 'item' order by position)
                  from jsonb_array_elements(v_rows) with ordinality as r(entry, position)
                  where position <= p_limit),
        'next', jsonb_build_object('sort_at', v_last -> 'sort_at', 'id', v_last -> 'item' -> 'id')
                || case when v_plan ->> 'sort' = 'relevance'
                        then jsonb_build_object('as_of', v_plan -> 'as_of', 'rank', v_last -> 'rank')
                        else '{}'::jsonb end);
end;
$$;

revoke all on function
    public.list_jobs(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                     text, timestamptz, integer, timestamptz, uuid, integer, text)
from public, anon, authenticated;
grant execute on function
    public.list_jobs(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                     text, timestamptz, integer, timestamptz, uuid, integer, text)
to service_role;
revoke all on function
    private.unaccented(text),
    private.fold(text),
    private.location_list(text, jsonb),
    private.places_text(text, jsonb),
    private.trigrams(text),
    private.trigram_similarity(text[], text[]),
    private.weighted_query(tsquery, text),
    private.remember_title_words(),
    private.search_query(text),
    private.sources_named_by(text),
    private.jobs_page_plan(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                           text, timestamptz, integer, timestamptz, uuid, text)
from public;
grant execute on function
    private.unaccented(text),
    private.fold(text),
    private.location_list(text, jsonb),
    private.places_text(text, jsonb),
    private.trigrams(text),
    private.trigram_similarity(text[], text[]),
    private.weighted_query(tsquery, text),
    private.remember_title_words(),
    private.search_query(text),
    private.sources_named_by(text),
    private.jobs_page_plan(text, text, text, text, text, boolean, text, text, timestamptz, numeric, boolean,
                           text, timestamptz, integer, timestamptz, uuid, text)
to service_role;
revoke all on private.title_words from public;
grant all on private.title_words to service_role;
