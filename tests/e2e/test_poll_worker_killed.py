"""A poll worker killed mid-poll loses no poll: on `scout dev`, the worker process is killed
while its board stalls; the run it started is closed as failed (worker_lost) and the retry,
once the queue hands the message back, is a succeeded run of its own.

The real template, scaled down: a 15 s poll deadline and the worker's timeout and the poll
queue's visibility timeout sized from it as template.yaml sizes them from its 60 s.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scout.jobs.poll_messages import SYNC_RESERVE_SECONDS
from tests.support.ats_payloads import greenhouse_job
from tests.support.fake_ats import FakeAts
from tests.support.http_server import Fault, LoopbackServer, run_in_thread
from tests.support.local_stack import (
    ATS_BASE_URL_SETTINGS,
    eventually,
    http,
    running_dev,
    scout,
    worker_pids,
)

DEADLINE_SECONDS = 15
WORKER_TIMEOUT_SECONDS = DEADLINE_SECONDS + int(SYNC_RESERVE_SECONDS)
VISIBILITY_SECONDS = WORKER_TIMEOUT_SECONDS + 1


@pytest.fixture
def fake_ats(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeAts, LoopbackServer]]:
    fake = FakeAts(greenhouse={"acme": [greenhouse_job(n, "acme") for n in range(3)]})
    with run_in_thread(fake.server()) as server:
        for name in ATS_BASE_URL_SETTINGS:
            monkeypatch.setenv(name, server.url)
        yield fake, server


def scaled(project: Path) -> Path:
    template = project / "template.yaml"
    text = template.read_text()
    for old, new in (
        ('POLL_DEADLINE_SECONDS: "60"', f'POLL_DEADLINE_SECONDS: "{DEADLINE_SECONDS}"'),
        ("      Timeout: 75\n", f"      Timeout: {WORKER_TIMEOUT_SECONDS}\n"),
        ("      VisibilityTimeout: 90\n", f"      VisibilityTimeout: {VISIBILITY_SECONDS}\n"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    template.write_text(text)
    return project


def poll_worker_pids(project: Path) -> list[int]:
    """The local stack's worker processes serving PollWorkerFunction."""
    return [
        pid
        for pid in worker_pids(str(project))
        if "PollWorkerFunction" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    ]


def test_a_poll_worker_killed_mid_poll_leaves_a_failed_run_and_a_succeeded_retry(
    real_project: Path, fake_ats: tuple[FakeAts, LoopbackServer]
) -> None:
    _, server = fake_ats
    project = scaled(real_project)
    with running_dev(project) as dev:
        minted = scout("token", "--strategy", "admin", "--sub", "e2e-admin", cwd=project)
        admin = {"Authorization": f"Bearer {minted.stdout.strip()}"}
        status, source = http("POST", f"{dev.url}/sources", {"ats": "greenhouse", "board": "acme"}, admin)
        assert status == 201, (source, dev.output)

        # Given the board stalls on its next request, and an admin asks for a poll now
        requests_before = len(server.stats.requests)
        server.inject(Fault(path="/v1/boards/acme/jobs", kind="stall", seconds=60))
        assert http("POST", f"{dev.url}/sources/{source['id']}/poll", None, admin)[0] == 202

        # When the worker is killed while its fetch hangs
        eventually(lambda: len(server.stats.requests) > requests_before, timeout=30)
        pids = poll_worker_pids(project)
        assert pids, dev.output
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()

        # Then the lost attempt is a failed run (worker_lost) and the retry a succeeded run of
        # its own, recorded within twice the poll deadline
        def settled() -> list[dict[str, Any]]:
            answer = http("GET", f"{dev.url}/sources/{source['id']}/runs", None, admin)[1]
            items: list[dict[str, Any]] = answer["items"]
            return items if len(items) == 3 and items[0]["status"] != "running" else []

        retry, lost, trial = eventually(settled, timeout=2 * DEADLINE_SECONDS, interval=0.5)
        assert time.monotonic() - killed_at < 2 * DEADLINE_SECONDS
        assert (lost["status"], lost["error"]["code"]) == ("failed", "worker_lost")
        assert (retry["status"], retry["fetched"]) == ("succeeded", 3)
        assert trial["status"] == "succeeded"
        assert dev.interrupt() == 0
