"""``scout poll`` as a developer runs it: sources polled into the store, a line per source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import psycopg

from tests.integration.jobs_api.support import ATS_BASE_URL_SETTINGS, FakeAtsServer, add_source
from tests.support.ats_payloads import greenhouse_job, lever_posting
from tests.support.functions import ROOT

Sql = psycopg.Connection[dict[str, Any]]


def scout_poll(*args: str, database_url: str, ats_url: str) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ATS_BASE_URL_SETTINGS and name not in ("ALLOWED_HOSTS", "PYTHONPATH", "POLL_QUEUE_URL")
    }
    environment.update(
        {name: ats_url for name in ATS_BASE_URL_SETTINGS}
        | {
            "DATABASE_URL": database_url,
            "SCOUT_STORE": "postgres",
            "PYTHONPATH": str(ROOT / "layers" / "scout"),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "scout", "poll", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_poll_all_polls_every_enabled_source_and_summarises_each(
    fake_ats: FakeAtsServer, sql: Sql, clean_database: str
) -> None:
    # Given two enabled sources (one not yet due) and one switched off
    fake_ats.fake.greenhouse["acme"] = [greenhouse_job(n) for n in range(3)]
    fake_ats.fake.lever["globex"] = [lever_posting(n, "globex") for n in range(2)]
    acme = add_source(sql)
    globex = add_source(
        sql, ats="lever", board="globex", company="Globex", next_poll_at="2099-01-01T00:00:00Z"
    )
    add_source(sql, ats="lever", board="off", enabled=False)
    # When scout poll --all runs
    result = scout_poll("--all", database_url=clean_database, ats_url=fake_ats.url)
    # Then both enabled sources were polled into the store, each with a summary line
    assert result.returncode == 0, result.stderr
    assert "greenhouse acme: 3 fetched, 3 new or changed, 0 archived, 0 relisted" in result.stdout
    assert "lever globex: 2 fetched, 2 new or changed, 0 archived, 0 relisted" in result.stdout
    assert "polled 2 source(s): 2 succeeded, 0 failed" in result.stdout
    counts = sql.execute(
        "select id::text, active_postings from public.sources where id in (%s, %s)", [acme, globex]
    ).fetchall()
    assert {row["id"]: row["active_postings"] for row in counts} == {acme: 3, globex: 2}


def test_poll_one_source_reports_a_failed_fetch_and_exits_1(
    fake_ats: FakeAtsServer, sql: Sql, clean_database: str
) -> None:
    # Given a source whose board the ATS does not know
    source_id = add_source(sql, board="vanished")
    add_source(sql, board="other")
    # When only that source is polled
    result = scout_poll("--source", source_id, database_url=clean_database, ats_url=fake_ats.url)
    # Then its failure is reported and recorded, and the exit status says so
    assert result.returncode == 1
    assert "greenhouse vanished: failed (ats_not_found:" in result.stdout
    assert "polled 1 source(s): 0 succeeded, 1 failed" in result.stdout
    runs = sql.execute("select source_id::text, status from public.poll_runs").fetchall()
    assert runs == [{"source_id": source_id, "status": "failed"}]


def test_poll_of_an_unknown_source_says_so(fake_ats: FakeAtsServer, clean_database: str) -> None:
    result = scout_poll(
        "--source", "6f1c2b7e-0000-4000-8000-000000000000", database_url=clean_database, ats_url=fake_ats.url
    )
    assert result.returncode == 1
    assert (
        "scout poll: not_found: source 6f1c2b7e-0000-4000-8000-000000000000 does not exist" in result.stderr
    )


def test_poll_needs_a_source_or_all(clean_database: str) -> None:
    result = scout_poll(database_url=clean_database, ats_url="http://127.0.0.1:9")
    assert result.returncode == 2
    assert "one of the arguments --source --all is required" in result.stderr


def test_poll_refuses_a_source_id_that_is_not_one(clean_database: str) -> None:
    result = scout_poll("--source", "acme", database_url=clean_database, ats_url="http://127.0.0.1:9")
    assert result.returncode == 2
    assert "'acme' is not a source id" in result.stderr


def test_poll_prints_summaries_on_stdout_and_logs_on_stderr(
    fake_ats: FakeAtsServer, sql: Sql, clean_database: str
) -> None:
    # Given a source whose fetch fails, which the poller logs
    source_id = add_source(sql, board="vanished")
    # When it is polled
    result = scout_poll("--source", source_id, database_url=clean_database, ats_url=fake_ats.url)
    # Then stdout holds the summary lines only, and the log record went to stderr
    assert result.stdout.splitlines() == [
        line for line in result.stdout.splitlines() if line.startswith(("greenhouse vanished:", "polled 1"))
    ]
    assert len(result.stdout.splitlines()) == 2
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(record["message"] == "fetch failed" for record in logged)
