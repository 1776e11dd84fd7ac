"""Facts about the machine a benchmark ran on, recorded beside its results."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine skews wall times."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_facts(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("show server_version").fetchone()
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model() or platform.processor(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "postgres": row[0] if row else None,
        "httpx": metadata.version("httpx"),
        "httpcore": metadata.version("httpcore"),
        "psycopg": metadata.version("psycopg"),
    }


def _cpu_model() -> str | None:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return None
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return None
