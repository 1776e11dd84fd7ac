"""CPU time, read from Linux's ``/proc``: to tell a CPU-bound run from a latency-bound one."""

from __future__ import annotations

import os
from pathlib import Path


def machine_jiffies() -> tuple[int, int] | None:
    """Busy and total CPU time of the whole machine so far, in clock ticks; None off Linux."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of the machine's CPU time that was busy between two ``machine_jiffies``."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def process_tree_cpu_seconds(root_pid: int) -> float | None:
    """CPU time of a process, its reaped children and its live children (Linux ``/proc``).

    Postgres runs a process per connection; the postmaster reaps them, so its ``cutime`` holds
    the CPU of every backend that has exited, and the live ones are read one by one.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        fields = _stat_fields(root_pid)
    except OSError:
        return None
    total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat_fields(int(entry.name))
        except OSError:
            continue
        if int(child[1]) == root_pid:
            total += int(child[11]) + int(child[12])
    return total / ticks


def _stat_fields(pid: int) -> list[str]:
    # The command name may hold spaces; it ends at the last ')'. Fields after it start at state.
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()
