"""An image's entry point run the way Lambda runs a container image, without Docker.

Lambda starts the image's ENTRYPOINT + CMD in its WORKDIR with the image's ENV plus its own
variables, as an unprivileged user (993, "sbx_user1051"), with the whole file system
read-only except /tmp (EphemeralStorage) and a memory limit (MemorySize). Here: the image's
root file system comes from buildah (`buildah from` + `buildah mount`), a private mount and
PID namespace (`unshare`) bind-mounts it read-only with a tmpfs on /tmp, a minimal /dev and
its own /proc, `chroot` enters it as that user, and a memory cgroup caps the whole tree.
Everything is undone when the environment stops: the namespaces die with their processes.
Reference: https://docs.aws.amazon.com/lambda/latest/dg/images-create.html (the image's
runtime environment), https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from functions.scan_worker.image.buildah import inspect_image

LAMBDA_USER = 993  # the default user of Lambda's execution environments
LAMBDA_GROUP = 990

# Runs as root in fresh mount and PID namespaces, then becomes the function's process. No
# /dev/shm, as on Lambda: Chromium runs with --disable-dev-shm-usage.
_ENTER = r"""
set -eu
root=$1 tmp_mb=$2 user=$3 group=$4 workdir=$5
shift 5
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o "size=${tmp_mb}m,mode=1777" tmpfs "$root/tmp"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o size=64k,mode=755 tmpfs "$root/dev"
for device in null zero full random urandom; do
    touch "$root/dev/$device"
    mount --bind "/dev/$device" "$root/dev/$device"
done
ln -s /proc/self/fd "$root/dev/fd"
mount -o remount,bind,ro "$root/dev"
exec chroot --userspec="$user:$group" --groups="$group" "$root" /usr/bin/env -i -C "$workdir" "$@"
"""


@dataclass(frozen=True)
class ImageConfig:
    entrypoint: list[str]
    command: list[str]
    environment: dict[str, str]
    working_dir: str


def image_config(image: str) -> ImageConfig:
    config = inspect_image(image)["OCIv1"]["config"]
    environment = dict(entry.split("=", 1) for entry in config.get("Env") or [])
    return ImageConfig(
        config.get("Entrypoint") or [], config.get("Cmd") or [], environment, config.get("WorkingDir") or "/"
    )


class MemoryCgroup:
    """A child of this process's memory cgroup (v1 or v2) with a hard limit; reports the peak."""

    def __init__(self, limit_mb: int) -> None:
        parent, self._version = _own_memory_cgroup()
        # An earlier run's cgroup whose last process was slow to exit; one in use is refused.
        for stale in parent.glob("scout-image-test-*"):
            with suppress(OSError):
                stale.rmdir()
        self.path = parent / f"scout-image-test-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        limit = str(limit_mb * 1024 * 1024)
        (self.path / ("memory.limit_in_bytes" if self._version == 1 else "memory.max")).write_text(limit)

    def add_self(self) -> None:
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    @property
    def peak_mb(self) -> float:
        name = "memory.max_usage_in_bytes" if self._version == 1 else "memory.peak"
        return int((self.path / name).read_text()) / 1024 / 1024

    def remove(self) -> None:
        self.path.rmdir()


def _own_memory_cgroup() -> tuple[Path, int]:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/"), 1
    unified = Path("/proc/self/cgroup").read_text().splitlines()[-1].split(":", 2)[2]
    return Path("/sys/fs/cgroup") / unified.lstrip("/"), 2


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    argv: list[str]


class ExecutionEnvironment:
    """One running execution environment of an image; ``stop()`` ends every process in it."""

    def __init__(
        self,
        root: Path,
        config: ImageConfig,
        *,
        variables: Mapping[str, str],
        memory_mb: int,
        tmp_mb: int,
        log: IO[bytes],
    ) -> None:
        self.cgroup = MemoryCgroup(memory_mb)
        environment = {**config.environment, **variables}
        command = [*config.entrypoint, *config.command]
        self.started_at = time.monotonic()
        self._process = subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--pid",
                "--fork",
                "--kill-child",
                "--propagation",
                "private",
                "sh",
                "-c",
                _ENTER,
                "enter",
                str(root),
                str(tmp_mb),
                str(LAMBDA_USER),
                str(LAMBDA_GROUP),
                config.working_dir,
                *(f"{name}={value}" for name, value in environment.items()),
                *command,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=self.cgroup.add_self,  # before exec: every descendant is capped
        )

    def alive(self) -> bool:
        return self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self._process.poll()

    def processes(self) -> list[ProcessInfo]:
        """Every process inside the environment (seen from the host's PID namespace)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(parent, []).append(int(entry.name))
        found, frontier = [], list(children.get(self._process.pid, []))
        while frontier:
            pid = frontier.pop()
            frontier.extend(children.get(pid, []))
            try:
                argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            found.append(ProcessInfo(pid, [part.decode(errors="replace") for part in argv if part]))
        return found

    def tmp_logs(self) -> dict[str, str]:
        """The ``*.log`` files in the environment's /tmp (Chrome's own output among them),
        read through a process's root: the tmpfs exists only in the environment's namespace."""
        processes = self.processes()
        if not processes:
            return {}
        tmp = Path("/proc") / str(processes[0].pid) / "root" / "tmp"
        logs = {}
        for path in tmp.rglob("*.log"):
            with suppress(OSError):
                logs[f"/tmp/{path.relative_to(tmp)}"] = path.read_text(errors="replace")[-100_000:]
        return logs

    def kill(self, pids: list[int]) -> None:
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        # unshare --kill-child: the namespace's first process, and with it every other, dies too.
        if self.alive():
            self._process.kill()
        self._process.wait(timeout=30)
        # Processes still exiting (a Chromium under load takes seconds) keep the cgroup busy
        # for a while after the wait; an empty one left behind past that is harmless.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.cgroup.remove()
                return
            except OSError:
                time.sleep(0.2)


def browser_processes(processes: list[ProcessInfo]) -> list[int]:
    """Chromium's browser processes (not its renderers, GPU or utility children)."""
    return [
        process.pid
        for process in processes
        if process.argv
        and Path(process.argv[0]).name in ("chromium", "chrome")
        and not any(argument.startswith("--type=") for argument in process.argv)
    ]
