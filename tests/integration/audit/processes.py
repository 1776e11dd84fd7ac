"""Finding and killing the scan engine's browser processes, the way a crash would."""

from __future__ import annotations

import os
import signal
from pathlib import Path

# The browser itself, not its crashpad handler (which also runs without --type=).
_BROWSER_EXECUTABLES = frozenset({"chromium", "chrome", "headless_shell"})


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def browser_pids_using_tmpdir(tmp_dir: Path) -> list[int]:
    """Main Chromium processes (not renderers or helpers) started with TMPDIR=tmp_dir."""
    marker = b"TMPDIR=" + str(tmp_dir).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        environ = _read(entry / "environ").split(b"\0")
        if marker not in environ:
            continue
        argv = _read(entry / "cmdline").split(b"\0")
        if not argv or Path(argv[0].decode(errors="replace")).name not in _BROWSER_EXECUTABLES:
            continue
        if any(arg.startswith(b"--type=") for arg in argv):
            continue
        pids.append(int(entry.name))
    return pids


def alive(pid: int) -> bool:
    stat = _read(Path(f"/proc/{pid}/stat"))
    if not stat:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    state = stat.rsplit(b")", 1)[-1].split()[0]
    return state != b"Z"


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def playwright_driver_pids() -> set[int]:
    """Playwright driver processes started by this test process."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        if b"run-driver" not in _read(entry / "cmdline"):
            continue
        stat = _read(entry / "stat").rsplit(b")", 1)[-1].split()
        if stat and int(stat[1]) == os.getpid():
            pids.add(int(entry.name))
    return pids
