"""Jobs end to end on `scout dev`: add a board over HTTP, poll it through the queue, find its jobs.

The real template runs locally (embedded Postgres, local SQS, the HTTP API, the poll worker
consuming the poll queue); only the ATS is a fake, on 127.0.0.1 in this test's process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.ats_payloads import greenhouse_job
from tests.support.fake_ats import FakeAts
from tests.support.http_server import LoopbackServer, run_in_thread
from tests.support.local_stack import (
    ATS_BASE_URL_SETTINGS,
    copy_real_project,
    eventually,
    http,
    running_dev,
    scout,
)


@pytest.fixture
def fake_ats(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeAts, LoopbackServer]]:
    """A fake ATS that the functions `scout dev` runs reach through the ATS base URL settings."""
    fake = FakeAts(greenhouse={"acme-robotics": [greenhouse_job(n, "acme-robotics") for n in range(2)]})
    with run_in_thread(fake.server()) as server:
        for name in ATS_BASE_URL_SETTINGS:
            monkeypatch.setenv(name, server.url)
        yield fake, server


def test_a_board_added_over_http_is_polled_through_the_queue_and_its_jobs_listed(
    tmp_path: Path, fake_ats: tuple[FakeAts, LoopbackServer]
) -> None:
    fake, _ = fake_ats
    project = copy_real_project(tmp_path)
    with running_dev(project) as dev:
        minted = scout("token", "--strategy", "admin", "--sub", "e2e-admin", cwd=project)
        assert minted.returncode == 0, minted.stderr
        admin = {"Authorization": f"Bearer {minted.stdout.strip()}"}

        # Given a Greenhouse board added by its careers URL (recognised, then fetched once)
        status, source = http(
            "POST", f"{dev.url}/sources", {"url": "https://boards.greenhouse.io/acme-robotics"}, admin
        )
        assert status == 201, (source, dev.output)
        assert (source["ats"], source["company"]) == ("greenhouse", "Acme Robotics")
        assert source["active_postings"] == 2

        # When the board gains a posting and an admin asks for a poll now
        fake.greenhouse["acme-robotics"].append(greenhouse_job(7, "acme-robotics"))
        status, queued = http("POST", f"{dev.url}/sources/{source['id']}/poll", None, admin)
        assert (status, queued["status"]) == (202, "queued")

        # Then the worker polls it off the queue: a second run appears, and GET /jobs lists all three
        def runs() -> list[dict[str, Any]]:
            answer = http("GET", f"{dev.url}/sources/{source['id']}/runs", None, admin)[1]
            items: list[dict[str, Any]] = answer["items"]
            return items if len(items) == 2 and items[0]["status"] != "running" else []

        newest = eventually(runs, timeout=60)[0]
        assert (newest["status"], newest["fetched"], newest["upserted"]) == ("succeeded", 3, 1)
        status, jobs = http("GET", f"{dev.url}/jobs?company=acme%20robotics")
        assert status == 200
        assert sorted(job["external_id"] for job in jobs["items"]) == ["4000000", "4000001", "4000007"]
        assert jobs["items"][0]["source_id"] == source["id"]

        assert dev.interrupt() == 0
    assert "Traceback" not in dev.output
