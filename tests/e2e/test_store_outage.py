"""A database outage under load on `scout dev`: fast 503s, /health unaffected, clean recovery.

The embedded Postgres is killed (SIGQUIT, Postgres's immediate shutdown, as after a crash)
while a client reads /jobs and /companies back to back and another polls /health. `scout
dev` notices and restarts it. Bounds are generous on purpose (two shared cores); speed is
measured in bench/, not here.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from scout.store.circuit import CircuitBreaker
from tests.support.local_stack import eventually, running_dev

LOAD_SECONDS_BEFORE = 2.0
LOAD_SECONDS_AFTER_RECOVERY = 4.0
# Generous bounds on a loaded machine: "about a second" for a refused call, "at once" for /health.
SLOWEST_REFUSAL_SECONDS = 2.0
SLOWEST_HEALTH_SECONDS = 1.0


@dataclass(frozen=True)
class Answer:
    path: str
    started: float
    seconds: float
    status: int
    code: str | None


class Client(threading.Thread):
    """Sends GETs for ``paths`` in turn, back to back, until stopped; keeps every answer."""

    def __init__(self, base_url: str, paths: list[str], pause: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.base_url, self.paths, self.pause = base_url, paths, pause
        self.answers: list[Answer] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            turn = 0
            while not self.stopping.is_set():
                path = self.paths[turn % len(self.paths)]
                turn += 1
                started = time.monotonic()
                response = client.get(path)
                code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
                self.answers.append(
                    Answer(path, started, time.monotonic() - started, response.status_code, code)
                )
                self.stopping.wait(self.pause)


def postmaster_pid(project: Path) -> int:
    return int((project / ".scout" / "pg" / "postmaster.pid").read_text().split()[0])


def test_a_postgres_outage_is_a_fast_503_health_stays_up_and_recovery_is_clean(real_project: Path) -> None:
    project = real_project
    with running_dev(project) as dev:
        readers = Client(dev.url, ["/jobs", "/companies"])
        health = Client(dev.url, ["/health"], pause=0.05)
        readers.start()
        health.start()
        try:
            # Given the API under load, answering
            time.sleep(LOAD_SECONDS_BEFORE)
            assert readers.answers
            assert all(answer.status == 200 for answer in readers.answers)
            # When Postgres dies under it
            killed_at = time.monotonic()
            os.kill(postmaster_pid(project), signal.SIGQUIT)
            # Then scout dev restarts it (noticed here within a poll of its log)
            eventually(lambda: "[postgres] restarted" in dev.output, timeout=30, interval=0.05)
            back_at = time.monotonic()
            time.sleep(LOAD_SECONDS_AFTER_RECOVERY)
        finally:
            readers.stopping.set()
            health.stopping.set()
            readers.join(timeout=30)
            health.join(timeout=30)

    # An answer belongs to the outage when it was still under way at the kill: on a loaded
    # machine a request can take longer than a quick restart leaves Postgres down.
    outage = [
        answer
        for answer in readers.answers
        if answer.started + answer.seconds > killed_at and answer.started <= back_at
    ]
    refused = [answer for answer in outage if answer.status != 200]
    # During the outage every refusal was a 503 store_unavailable, each within about a second
    assert refused
    assert {(answer.status, answer.code) for answer in refused} == {(503, "store_unavailable")}
    assert max(answer.seconds for answer in refused) < SLOWEST_REFUSAL_SECONDS
    # Once Postgres is back and the circuit's open period has passed, every request is served:
    # no dead pooled connection surfaces as an error
    settled = back_at + CircuitBreaker().open_seconds + 0.5
    later = [answer for answer in readers.answers if answer.started > settled]
    assert len(later) > 10
    assert all(answer.status == 200 for answer in later), [a for a in later if a.status != 200][:5]
    # And /health answered 200 throughout, and at once from the outage on (before it, the
    # function's second environment may still have been starting cold)
    assert {answer.status for answer in health.answers} == {200}
    since_kill = [answer for answer in health.answers if answer.started > killed_at]
    assert len(since_kill) > 10
    assert max(answer.seconds for answer in since_kill) < SLOWEST_HEALTH_SECONDS
    assert "Traceback" not in dev.output
