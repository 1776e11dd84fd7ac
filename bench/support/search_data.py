"""A job board's worth of sources and postings, generated inside Postgres (bench.search).

Everything is made by ``generate_series`` in a few statements, deterministically (a seeded
``random()``): titles from seniority x field x role (about 30 % say "engineer", one in
20,000 "Haskell"), one to three of 200 cities, a department, a salary on a third,
descriptions of 1-2 KB from a pool of sentences, 30 % archived. The secondary indexes of
``postings`` are dropped for the load and built again afterwards, as a restore would.

The load bypasses the row trigger that computes the search vectors
(``private.posting_search_vectors``, 20261207000700_sync_index.sql): parsing a million
descriptions was most of the load. Every title and each of the 1,024 description texts is
parsed once, and a posting's vectors are composed from those parts (``tsvector || tsvector``
numbers the right side's positions after the left's, as one parse of the whole text does);
only the places, a few words, are parsed per posting. The vectors are the trigger's, exactly
(tests/integration/jobs_api/test_search_data.py).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg

CITIES = """
New York, NY|San Francisco, CA|Los Angeles, CA|Seattle, WA|Austin, TX|Boston, MA|Chicago, IL|Denver, CO|
Atlanta, GA|Miami, FL|Portland, OR|San Diego, CA|Philadelphia, PA|Washington, DC|Dallas, TX|Houston, TX|
Phoenix, AZ|Minneapolis, MN|Detroit, MI|Pittsburgh, PA|Raleigh, NC|Nashville, TN|Salt Lake City, UT|
San Jose, CA|Toronto, Canada|Montréal, Canada|Vancouver, Canada|Ottawa, Canada|Calgary, Canada|
Mexico City, Mexico|Guadalajara, Mexico|Bogotá, Colombia|Medellín, Colombia|Lima, Peru|Santiago, Chile|
Buenos Aires, Argentina|São Paulo, Brazil|Rio de Janeiro, Brazil|Belo Horizonte, Brazil|Curitiba, Brazil|
Montevideo, Uruguay|London, United Kingdom|Manchester, United Kingdom|Edinburgh, United Kingdom|
Bristol, United Kingdom|Cambridge, United Kingdom|Dublin, Ireland|Cork, Ireland|Paris, France|
Lyon, France|Marseille, France|Toulouse, France|Nantes, France|Berlin, Germany|München, Germany|
Hamburg, Germany|Köln, Germany|Frankfurt, Germany|Düsseldorf, Germany|Stuttgart, Germany|Leipzig, Germany|
Amsterdam, Netherlands|Rotterdam, Netherlands|Utrecht, Netherlands|Eindhoven, Netherlands|
Brussels, Belgium|Antwerp, Belgium|Luxembourg, Luxembourg|Zürich, Switzerland|Genève, Switzerland|
Basel, Switzerland|Lausanne, Switzerland|Vienna, Austria|Graz, Austria|Prague, Czechia|Brno, Czechia|
Warsaw, Poland|Kraków, Poland|Wrocław, Poland|Gdańsk, Poland|Budapest, Hungary|Bucharest, Romania|
Cluj-Napoca, Romania|Sofia, Bulgaria|Belgrade, Serbia|Zagreb, Croatia|Ljubljana, Slovenia|
Athens, Greece|Istanbul, Türkiye|Ankara, Türkiye|Lisbon, Portugal|Porto, Portugal|Madrid, Spain|
Barcelona, Spain|Valencia, Spain|Sevilla, Spain|Málaga, Spain|Milan, Italy|Rome, Italy|Turin, Italy|
Bologna, Italy|Naples, Italy|Copenhagen, Denmark|Aarhus, Denmark|Stockholm, Sweden|Göteborg, Sweden|
Malmö, Sweden|Oslo, Norway|Bergen, Norway|Helsinki, Finland|Tampere, Finland|Tallinn, Estonia|
Riga, Latvia|Vilnius, Lithuania|Reykjavík, Iceland|Kyiv, Ukraine|Lviv, Ukraine|Tel Aviv, Israel|
Haifa, Israel|Dubai, United Arab Emirates|Abu Dhabi, United Arab Emirates|Riyadh, Saudi Arabia|
Doha, Qatar|Cairo, Egypt|Casablanca, Morocco|Lagos, Nigeria|Nairobi, Kenya|Cape Town, South Africa|
Johannesburg, South Africa|Accra, Ghana|Kigali, Rwanda|Bengaluru, India|Mumbai, India|Delhi, India|
Hyderabad, India|Pune, India|Chennai, India|Gurugram, India|Noida, India|Kolkata, India|
Karachi, Pakistan|Lahore, Pakistan|Dhaka, Bangladesh|Colombo, Sri Lanka|Singapore, Singapore|
Kuala Lumpur, Malaysia|Jakarta, Indonesia|Bangkok, Thailand|Ho Chi Minh City, Vietnam|Hanoi, Vietnam|
Manila, Philippines|Hong Kong, China|Shanghai, China|Beijing, China|Shenzhen, China|Taipei, Taiwan|
Seoul, South Korea|Busan, South Korea|Tokyo, Japan|Osaka, Japan|Kyoto, Japan|Fukuoka, Japan|
Sydney, Australia|Melbourne, Australia|Brisbane, Australia|Perth, Australia|Adelaide, Australia|
Auckland, New Zealand|Wellington, New Zealand|Christchurch, New Zealand|Honolulu, HI|Anchorage, AK|
Boise, ID|Omaha, NE|Kansas City, MO|St. Louis, MO|Cincinnati, OH|Columbus, OH|Cleveland, OH|
Indianapolis, IN|Milwaukee, WI|Madison, WI|Charlotte, NC|Durham, NC|Tampa, FL|Orlando, FL|
Jacksonville, FL|New Orleans, LA|Las Vegas, NV|Sacramento, CA|Oakland, CA|Irvine, CA|Santa Monica, CA|
Palo Alto, CA|Mountain View, CA|Sunnyvale, CA|Redmond, WA|Bellevue, WA|Tacoma, WA|Spokane, WA|
Albuquerque, NM|Tucson, AZ|El Paso, TX|San Antonio, TX|Oklahoma City, OK|Tulsa, OK|Little Rock, AR|
Memphis, TN|Louisville, KY|Richmond, VA|Baltimore, MD|Hartford, CT|Providence, RI|Burlington, VT|
Buffalo, NY|Rochester, NY|Albany, NY|Newark, NJ|Jersey City, NJ|Québec City, Canada|Halifax, Canada|
Winnipeg, Canada|Edmonton, Canada|Victoria, Canada
"""

COMPANY_FIRST = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Pied Piper",
    "Aviato",
    "Vandelay",
    "Gekko",
    "Oscorp",
    "Massive",
    "Dunder",
    "Prestige",
    "Monarch",
    "Société",
    "Zürich",
    "Ærø",
    "Crème",
    "Café",
    "Bravo",
    "Nimbus",
    "Quantum",
    "Vertex",
    "Helix",
    "Orbit",
    "Lumen",
    "Cobalt",
    "Argon",
    "Basalt",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lattice",
    "Meridian",
    "Nova",
    "Onyx",
    "Pioneer",
    "Quartz",
    "Raven",
    "Sierra",
    "Tundra",
    "Ultra",
    "Vista",
    "Willow",
    "Xenon",
    "Yonder",
    "Zephyr",
    "Atlas",
    "Beacon",
    "Compass",
    "Dynamo",
    "Echo",
    "Falcon",
    "Glacier",
    "Horizon",
    "Ion",
    "Jade",
    "Kinetic",
    "Lunar",
    "Mosaic",
    "Nexus",
    "Oasis",
    "Prism",
    "Quill",
    "Ridge",
    "Summit",
    "Titan",
    "Unity",
]
COMPANY_SECOND = [
    "Robotics",
    "Labs",
    "Systems",
    "Analytics",
    "Health",
    "Bank",
    "Energy",
    "Foods",
    "Logistics",
    "Media",
    "Software",
    "Networks",
    "Biotech",
    "Capital",
    "Motors",
    "Games",
    "Security",
    "Cloud",
    "Payments",
    "Insurance",
    "Travel",
    "Retail",
    "Studios",
    "Materials",
    "Aerospace",
    "Genomics",
    "Learning",
    "Mobility",
    "Générale",
    "Industries",
    "Partners",
    "Ventures",
    "Technologies",
    "Dynamics",
    "Solutions",
    "Works",
    "Collective",
    "Group",
    "Holdings",
    "Digital",
    "Devices",
    "Semiconductors",
    "Pharma",
    "Farms",
    "Water",
    "Telecom",
    "Marine",
    "Rail",
    "Air",
    "Realty",
    "Legal",
    "Consulting",
    "Design",
    "Sports",
    "Fashion",
    "Audio",
    "Vision",
    "Data",
    "Intelligence",
    "Quantum",
    "Photonics",
    "Chemicals",
    "Steel",
    "Textiles",
    "Paper",
    "Glass",
    "Print",
    "Post",
    "Radio",
]
SENIORITY = ["", "", "", "Senior", "Senior", "Staff", "Principal", "Junior", "Lead", "Head of"]
# (field, department, roles): "Engineer" is the commonest role, as on real boards.
FIELDS = [
    ("Backend", "Engineering", ["Engineer", "Engineer", "Engineer", "Developer"]),
    ("Frontend", "Engineering", ["Engineer", "Engineer", "Developer"]),
    ("Full Stack", "Engineering", ["Engineer", "Developer"]),
    ("Platform", "Engineering", ["Engineer", "Engineer", "Manager"]),
    ("Mobile", "Engineering", ["Engineer", "Developer"]),
    ("Site Reliability", "Infrastructure", ["Engineer"]),
    ("Security", "Security", ["Engineer", "Analyst", "Architect"]),
    ("Data", "Data", ["Engineer", "Scientist", "Analyst", "Analyst"]),
    ("Machine Learning", "Data", ["Engineer", "Scientist", "Researcher"]),
    ("Product", "Product", ["Manager", "Manager", "Designer", "Analyst"]),
    ("UX", "Design", ["Designer", "Researcher", "Writer"]),
    ("Sales", "Sales", ["Account Executive", "Development Representative", "Manager", "Engineer"]),
    ("Customer Success", "Customer Success", ["Manager", "Specialist", "Associate"]),
    ("Marketing", "Marketing", ["Manager", "Specialist", "Coordinator", "Copywriter"]),
    ("Finance", "Finance", ["Analyst", "Accountant", "Controller", "Manager"]),
    ("People", "People", ["Recruiter", "Partner", "Coordinator", "Manager"]),
    ("Legal", "Legal", ["Counsel", "Paralegal"]),
    ("Operations", "Operations", ["Manager", "Analyst", "Coordinator"]),
    ("Support", "Customer Support", ["Specialist", "Engineer", "Agent"]),
    ("QA", "Engineering", ["Engineer", "Analyst"]),
]
SENTENCES = [
    "We are looking for someone who enjoys solving hard problems with a small, friendly team.",
    "You will work closely with engineers, designers and product managers across the company.",
    "Our customers rely on us every day, and reliability is something we take seriously.",
    "You will own projects from the first sketch to the launch and the lessons after it.",
    "We value clear writing, careful reviews and decisions that are explained, not imposed.",
    "Experience with Python, Go or TypeScript is a plus, but we care more about fundamentals.",
    "You will help us scale our platform to millions of users without losing what makes it fast.",
    "We offer a competitive salary, equity, and a generous budget for learning and conferences.",
    "Our offices are bright and quiet, and most teams work hybrid with two days together.",
    "You will mentor colleagues, and they will mentor you: everyone here keeps learning.",
    "We ship small changes often, measure what they do, and roll back without drama.",
    "You have built and operated services in production and know what on-call feels like.",
    "Our stack includes Postgres, Kubernetes, Kafka and a fair amount of boring technology.",
    "You enjoy talking to customers and turning what they say into something we can build.",
    "We are an equal opportunity employer and welcome applicants from every background.",
    "The role reports to the head of the department and works with teams in three time zones.",
    "You will analyse data, find the story in it, and tell that story to people who decide.",
    "We care about accessibility, performance and security from the first line of code.",
    "You will plan, run and improve the processes that keep the whole company moving.",
    "Our benefits include health insurance, parental leave, a pension plan and paid time off.",
    "You are comfortable with ambiguity and can bring structure to a messy situation.",
    "We believe the best work happens when people have time to think without interruptions.",
    "You will negotiate with partners and suppliers and keep every agreement on track.",
    "The team is small, so your work will be visible and your ideas will be heard.",
    "You will design experiments, run them carefully and share what you learn, good or bad.",
    "We are growing quickly and need people who can build the foundations for the next stage.",
    "You write documentation that others actually read, and you keep it up to date.",
    "Our mission is to make a complicated industry simple, fair and pleasant to deal with.",
    "You will partner with sales and marketing to bring new products to new markets.",
    "We support remote work within the region and cover the costs of a good home office.",
    "You have a degree in a relevant field or equivalent practical experience.",
    "The interview process has four steps and we reply to every application within a week.",
]
ATS_KINDS = ["greenhouse", "lever", "ashby", "workday", "smartrecruiters", "jsonld"]


@dataclass(frozen=True)
class Loaded:
    sources: int
    postings: int
    seconds: dict[str, float]


def _text_array(values: list[str]) -> str:
    return "array[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]::text[]"


def load_board(dsn: str, *, postings: int, sources: int) -> Loaded:
    """Fill an empty, migrated database with ``sources`` sources and ``postings`` postings."""
    seconds: dict[str, float] = {}
    cities = [city.strip() for city in CITIES.replace("\n", "").split("|")]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("set synchronous_commit = off")
        conn.execute("set maintenance_work_mem = '512MB'")
        started = time.perf_counter()
        add_sources(conn, sources, first=1)
        seconds["sources"] = time.perf_counter() - started

        indexes = conn.execute(
            """select indexname, indexdef from pg_indexes
               where schemaname = 'public' and tablename = 'postings'
                 and indexname not in (select conname from pg_constraint
                                       where conrelid = 'public.postings'::regclass)"""
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f"drop index public.{name}")
        conn.execute("alter table public.postings disable trigger user")

        started = time.perf_counter()
        try:
            fields = ", ".join(
                f"({i}, '{field}', '{department}', {_text_array(roles)})"
                for i, (field, department, roles) in enumerate(FIELDS)
            )
            conn.execute("create schema bench")
            conn.execute(f"create table bench.fields (n, field, department, roles) as values {fields}")
            pool_size = len(SENTENCES)
            sentence = f"({_text_array(SENTENCES)})[1 + (abs(hashint4(n * 131 + j)::bigint) % {pool_size})]"
            conn.execute(
                f"""create table bench.descriptions as
                    select n, array_to_string(array(
                        select {sentence} from generate_series(1, 12 + n % 9) j), ' ') as text
                    from generate_series(0, 1023) n"""
            )
            _parse_parts(conn)
            # Two connections, half the rows each (composing the vectors is most of the cost).
            halves = [(1, postings // 2), (postings // 2 + 1, postings)]
            with ThreadPoolExecutor(len(halves)) as pool:
                list(pool.map(lambda bounds: _insert_postings(dsn, bounds[0], bounds[1], cities), halves))
        finally:
            # Whatever happened, the schema is whole again: callers (tests) go on using it.
            conn.execute("drop schema if exists bench cascade")
            seconds["postings"] = time.perf_counter() - started
            started = time.perf_counter()
            for _, definition in indexes:
                conn.execute(definition)
            conn.execute("alter table public.postings enable trigger user")
        conn.execute(
            """insert into private.title_words (word)
               select distinct w.word
               from (select distinct title from public.postings) p
               cross join lateral unnest(string_to_array(private.fold(p.title), ' ')) as w(word)
               where length(w.word) between 3 and 40 and w.word !~ '^[0-9]+$'
               on conflict (word) do nothing"""
        )
        seconds["indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("vacuum (analyze) public.postings")
        conn.execute("vacuum (analyze) public.sources")
        seconds["vacuum_analyze"] = time.perf_counter() - started
    return Loaded(sources=sources, postings=postings, seconds=seconds)


def _insert_postings(dsn: str, first: int, last: int, cities: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("set synchronous_commit = off")
        conn.execute(
            f"""
            insert into public.postings (
                source_id, external_id, title, url, location, locations, workplace_type, remote,
                department, team, employment_type, posted_at, description_html, description_text,
                salary_min, salary_max, salary_currency, salary_period, salary_year_min, salary_year_max,
                content_hash,
                first_seen_at, last_seen_at, archived_at, title_search, place_words, search)
            select src.ids[1 + g.i % src.n],
                   'job-' || g.i,
                   title.text,
                   'https://jobs.example.com/' || g.i,
                   places.list[1],
                   to_jsonb(places.list),
                   workplace.kind,
                   case when workplace.kind = 'remote' then case when g.i % 2 = 0 then true end
                        when workplace.kind is null then null else false end,
                   f.department,
                   case when g.i % 5 = 0 then f.field end,
                   (array['full_time', 'full_time', 'full_time', 'full_time', 'part_time', 'contract',
                          'intern'])[1 + g.i % 7],
                   posted.at,
                   '<p>' || replace(d.text, '. ', '.</p><p>') || '</p>',
                   'As a ' || title.text || ' you will join us. ' || d.text,
                   salary.low, salary.low + 20000 + (g.i % 5) * 10000,
                   case when salary.low is not null then (array['USD', 'EUR', 'GBP'])[1 + g.i % 3] end,
                   case when salary.low is not null then 'year' end,
                   salary.low, salary.low + 20000 + (g.i % 5) * 10000,
                   md5(g.i::text),
                   coalesce(posted.at, now() - (g.i % 4320) * interval '1 hour'),
                   now(),
                   case when abs(hashint4(g.i + 17)::bigint) % 10 < 3
                        then now() - (g.i % 30) * interval '1 day' end,
                   parsed.words,
                   to_tsvector('simple', places.text),
                   -- The trigger's title A, department and team B, places C, description D.
                   setweight(parsed.words, 'A')
                   || case when g.i % 5 = 0 then f.with_team_words else f.words end
                   || setweight(to_tsvector('english', places.text), 'C')
                   || parsed.opening_words || d.words
            from generate_series({first}, {last}) as g(i)
            cross join (select array_agg(id order by board) as ids, count(*)::integer as n
                        from public.sources) as src
            join bench.fields f on f.n = abs(hashint4(g.i)::bigint) % {len(FIELDS)}
            join bench.descriptions d on d.n = g.i % 1024
            cross join lateral (select
                btrim(({_text_array(SENIORITY)})[1 + abs(hashint4(g.i + 7)::bigint) % {len(SENIORITY)}] || ' '
                      || case when g.i % 20000 = 0 then 'Haskell' else f.field end || ' '
                      || f.roles[1 + abs(hashint4(g.i + 11)::bigint) % cardinality(f.roles)]
                ) as text) as title
            join bench.titles parsed on parsed.text = title.text
            cross join lateral (select list,
                -- private.places_text: the display location, then every entry of the list.
                private.unaccented(array_to_string(list[1] || list, ' ')) as text
            from (select array(
                select ({_text_array(cities)})[1 + abs(hashint4(g.i * 3 + k)::bigint) % {len(cities)}]
                from generate_series(1, (1 + abs(hashint4(g.i + 23)::bigint) % 3)::integer) k
            ) as list) as drawn) as places
            cross join lateral (select abs(hashint4(g.i + 13)::bigint) % 20 as n) as draw
            cross join lateral (select case
                when draw.n < 3 then 'remote' when draw.n < 8 then 'hybrid'
                when draw.n < 18 then 'onsite' end as kind) as workplace
            cross join lateral (select case when g.i % 20 <> 19
                then now() - (abs(hashint4(g.i + 3)::bigint) % 259200) * interval '1 minute' end as at
            ) as posted
            cross join lateral (select case when abs(hashint4(g.i + 19)::bigint) % 3 = 0
                then 40000 + (abs(hashint4(g.i + 5)::bigint) % 161) * 1000 end as low) as salary
            """
        )


def _parse_parts(conn: psycopg.Connection) -> None:
    """Each part of a posting's search vectors that many postings share, parsed once."""
    # Every title the load can make (seniority, field or "Haskell", role), as its vector and
    # as the words that open its description.
    conn.execute(
        f"""create table bench.titles as
            select text, to_tsvector('english', private.unaccented(text)) as words,
                   setweight(to_tsvector('english',
                       private.unaccented('As a ' || text || ' you will join us. ')), 'D') as opening_words
            from (select distinct btrim(seniority || ' ' || named.field || ' ' || role) as text
                  from unnest({_text_array(SENIORITY)}) as seniority
                  cross join bench.fields f
                  cross join unnest(array[f.field, 'Haskell']) as named(field)
                  cross join unnest(f.roles) as role) as made"""
    )
    conn.execute("create unique index on bench.titles (text)")
    conn.execute(
        """alter table bench.fields add column words tsvector, add column with_team_words tsvector"""
    )
    conn.execute(
        """update bench.fields set
               words = setweight(to_tsvector('english', private.unaccented(department || ' ')), 'B'),
               with_team_words = setweight(
                   to_tsvector('english', private.unaccented(department || ' ' || field)), 'B')"""
    )
    conn.execute("alter table bench.descriptions add column words tsvector")
    conn.execute(
        """update bench.descriptions
           set words = setweight(to_tsvector('english', private.unaccented(text)), 'D')"""
    )
    conn.execute("create unique index on bench.descriptions (n)")
    conn.execute("analyze bench.titles, bench.fields, bench.descriptions")


def add_sources(conn: psycopg.Connection, count: int, *, first: int) -> None:
    """Sources ``first`` .. ``first + count - 1``, spread over the ATS kinds and companies."""
    conn.execute(
        f"""
        insert into public.sources (ats, board, company, next_poll_at, last_polled_at)
        select ({_text_array(ATS_KINDS)})[1 + i % {len(ATS_KINDS)}],
               'board-' || lpad(i::text, 6, '0'),
               ({_text_array(COMPANY_FIRST)})[1 + i % {len(COMPANY_FIRST)}] || ' '
                   || ({_text_array(COMPANY_SECOND)})[1 + (i / {len(COMPANY_FIRST)}) % {len(COMPANY_SECOND)}]
                   || case when i > {len(COMPANY_FIRST) * len(COMPANY_SECOND)}
                           then ' ' || (i / {len(COMPANY_FIRST) * len(COMPANY_SECOND)})::text else '' end,
               now() + (i % 900) * interval '1 second',
               now() - interval '15 minutes'
        from generate_series({first}, {first + count - 1}) as i
        """
    )
