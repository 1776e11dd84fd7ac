"""Running the local stack in tests: the fixture project, the `scout` command from this tree,
and a bounded `scout dev` process that is always stopped."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.functions import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "local_stack"
READY_LINE = "Ctrl-C stops everything."


def copy_fixture(destination: Path) -> Path:
    """A private copy of the fixture project (its .scout/ state then lives in the test's tmp)."""
    project = destination / "project"
    shutil.copytree(FIXTURE, project, ignore=shutil.ignore_patterns("__pycache__", ".scout"))
    return project


def copy_real_project(destination: Path) -> Path:
    """template.yaml with links to the real functions and layers, state kept out of the tree."""
    project = destination / "real"
    project.mkdir()
    shutil.copy(ROOT / "template.yaml", project / "template.yaml")
    for folder in ("functions", "layers", "events", "supabase"):
        if (ROOT / folder).exists():
            (project / folder).symlink_to(ROOT / folder)
    return project


ATS_BASE_URL_SETTINGS = (
    "GREENHOUSE_API_URL",
    "LEVER_API_URL",
    "LEVER_EU_API_URL",
    "ASHBY_API_URL",
    "SMARTRECRUITERS_API_URL",
    "WORKDAY_BASE_URL",
)
CLOSED_LOOPBACK_URL = "http://127.0.0.1:9"


def scout_environment(**extra: str) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("ALLOWED_HOSTS", "DATABASE_URL", "AWS_ENDPOINT_URL", "PYTHONPATH")
        and not name.endswith("_SECRET")
        # A developer's own Supabase project must not replace the local stack's JWKS and keys.
        and not name.startswith("SUPABASE_")
    }
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "scout"), str(ROOT)])
    # Sample events add boards and poll them; unless a test points them at its fake ATS, the
    # ATS base URLs lead to a closed loopback port rather than to the real job boards.
    for name in ATS_BASE_URL_SETTINGS:
        environment.setdefault(name, CLOSED_LOOPBACK_URL)
    environment.update(extra)
    return environment


def scout(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scout", *args],
        cwd=cwd,
        env=env or scout_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_pids(marker: str) -> list[int]:
    """Live local-stack workers whose command line mentions ``marker`` (a test's tmp path)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if "scout.local.sandbox_process" in command and marker in command and state != "Z":
            pids.append(int(entry.name))
    return pids


@dataclass
class DevProcess:
    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def aws_endpoint(self) -> str:
        match = re.search(r"AWS\s+(http://127\.0\.0\.1:\d+)", self.output)
        assert match, self.output
        return match.group(1)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if self.process.poll() is not None and self._reader is not None and not self._reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; output so far:\n{self.output}")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, and the exit status once it has stopped."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code


@contextmanager
def running_dev(
    project: Path, *args: str, port: int | None = None, ready_timeout: float = 90
) -> Iterator[DevProcess]:
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "scout", "dev", "--port", str(port), *args],
        cwd=project,
        env=scout_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    dev = DevProcess(process, port)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            dev.lines.append(line.rstrip("\n"))

    dev._reader = threading.Thread(target=read, daemon=True)
    dev._reader.start()
    try:
        dev.wait_for(READY_LINE, ready_timeout)
        yield dev
    finally:
        # Ctrl-C first, so the stack stops its embedded Postgres and workers itself.
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in worker_pids(str(project)):
            os.kill(pid, signal.SIGKILL)


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = httpx.request(method, url, json=body, headers=headers, timeout=30)
    try:
        return response.status_code, response.json()
    except json.JSONDecodeError:
        return response.status_code, response.text


def eventually(check: Any, timeout: float, interval: float = 0.25) -> Any:
    """The first truthy result of ``check()`` within ``timeout`` seconds, else an AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last result: {last!r})")
