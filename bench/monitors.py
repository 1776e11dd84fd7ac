"""A monitor's run against the same pages as separate POST /scans (issue 13 "Done when").

A loopback site on two hosts (127.0.0.1 and 127.0.0.2, allow-listed as in development), each
serving ``--pages``/2 small pages; an embedded Postgres in a temporary folder. Both cases go
through the real local scan path with one warm Chromium and Lighthouse worker (a warm-up scan
first), and both run their scans as the FIFO scan queue would: one at a time per host, the
two hosts side by side (``scout/monitors/local_run.py``, which ``scout monitor run`` uses).

- ``monitor``: one monitor over all the pages, started by ``run_monitor`` (the function
  ``POST /monitors/{id}/run`` calls), its scans processed until the run closes.
- ``separate_scans`` (the baseline): each page recorded and queued by ``create_scan`` (the
  function ``POST /scans`` calls), then the same processing.

Wall time per case is the median over ``--repetitions`` (the cases alternate); pages per
minute across hosts is pages / wall time, per host that host's pages / the time its last page
finished. Results: bench/results/monitors.json and monitors.md.

    python -m bench.monitors [--pages 50] [--repetitions 1] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.support.polling_machine import load_average
from tests.integration.audit.servers import CLEAN_PAGE, Reply, SiteServer

RESULTS = Path(__file__).resolve().parent / "results"
MIGRATIONS = Path(__file__).resolve().parent.parent / "supabase" / "migrations"
HOSTS = ("127.0.0.1", "127.0.0.2")


def site_routes(pages_per_host: int) -> dict[str, Reply]:
    routes: dict[str, Reply] = {"/favicon.ico": Reply(status=204)}
    for number in range(pages_per_host):
        page = CLEAN_PAGE.replace("<title>About us</title>", f"<title>Page {number}</title>")
        routes[f"/page-{number}"] = Reply(body=page)
    return routes


class Timeline:
    """When each host's pages finished, from the start of one case."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.finished: dict[str, list[float]] = {}
        self.statuses: dict[str, int] = {}

    def page_done(self, page: Any) -> None:
        self.finished.setdefault(page.host, []).append(time.perf_counter() - self.started)
        self.statuses[str(page.status)] = self.statuses.get(str(page.status), 0) + 1

    def figures(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.started
        pages = sum(len(times) for times in self.finished.values())
        return {
            "wall_seconds": round(wall, 2),
            "pages": pages,
            "statuses": self.statuses,
            "pages_per_minute": round(pages / wall * 60, 2),
            "pages_per_minute_per_host": {
                host: round(len(times) / max(times) * 60, 2) for host, times in sorted(self.finished.items())
            },
        }


async def run_suite(urls: list[str], repetitions: int) -> dict[str, Any]:
    from scout import deps
    from scout.audit.models import ScanRequest
    from scout.audit.scan_processing import lease_seconds
    from scout.audit.scans import create_scan
    from scout.auth import Principal, Strategy
    from scout.monitors.local_run import (
        DirectoryArtifacts,
        HostGroupedQueue,
        LocalRunParts,
        process_run_scans,
        start_local_run,
    )
    from scout.monitors.models import MonitorRequest
    from scout.monitors.store import MonitorStore

    parts = deps.current()
    artifacts_folder = Path(tempfile.mkdtemp(prefix="scout-bench-artifacts-"))
    local = LocalRunParts(
        store=parts.store(),
        scanner=parts.scanner,
        artifacts=DirectoryArtifacts(artifacts_folder),
        sitemap_client=parts.sitemap_client(),
        lease_seconds=lease_seconds(parts.settings.scan_worker_timeout_seconds * 1000),
        max_attempts=parts.settings.scan_max_attempts,
    )
    principal = Principal(Strategy.SERVICE, "bench")
    request = MonitorRequest.model_validate({"name": "bench", "urls": urls, "max_pages": len(urls)})
    monitor = await MonitorStore(local.store).create_monitor(
        "service:bench", request, webhook_secret="b" * 43, next_run_at=None
    )

    async def monitor_case() -> dict[str, Any]:
        timeline = Timeline()
        started = await start_local_run(str(monitor.id), local)
        await process_run_scans(started.queue, local, timeline.page_done)
        return timeline.figures()

    async def separate_scans_case() -> dict[str, Any]:
        timeline = Timeline()
        queue = HostGroupedQueue()
        for url in urls:
            await create_scan(
                ScanRequest(url=url),
                principal,
                idempotency_key=None,
                store=local.store,
                queue=queue,
                policy=parts.egress_policy(),
                rate_limit=parts.scan_rate_limit(),
            )
        await process_run_scans(queue, local, timeline.page_done)
        return timeline.figures()

    try:
        await local.scanner().scan(urls[0], "mobile")  # warm-up: browser and Lighthouse worker
        cases: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {
            "monitor": monitor_case,
            "separate_scans": separate_scans_case,
        }
        measured: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
        for repetition in range(repetitions):
            order = list(cases) if repetition % 2 == 0 else list(reversed(cases))
            for name in order:
                figures = await cases[name]()
                print(f"{name}: {json.dumps(figures)}", file=sys.stderr, flush=True)
                measured[name].append(figures)
    finally:
        shutil.rmtree(artifacts_folder, ignore_errors=True)
    summary = {name: _medians(runs) for name, runs in measured.items()}
    summary["monitor_vs_separate_scans"] = round(
        summary["monitor"]["wall_seconds"] / summary["separate_scans"]["wall_seconds"], 3
    )
    return {"cases": summary, "repetitions": measured}


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    hosts = sorted({host for run in runs for host in run["pages_per_minute_per_host"]})
    return {
        "wall_seconds": round(statistics.median(run["wall_seconds"] for run in runs), 2),
        "pages_per_minute": round(statistics.median(run["pages_per_minute"] for run in runs), 2),
        "pages_per_minute_per_host": {
            host: round(statistics.median(run["pages_per_minute_per_host"].get(host, 0) for run in runs), 2)
            for host in hosts
        },
        "statuses": runs[-1]["statuses"],
    }


def markdown(report: dict[str, Any]) -> str:
    cases = report["cases"]
    lines = [
        "# Monitors: one run of a monitor against separate POST /scans",
        "",
        f"Command: `{report['command']}` (recorded {report['recorded_at']}).",
        f"Load average (1, 5, 15 min): {report['load_average']['start']} at the start, "
        f"{report['load_average']['end']} at the end; 2 CPU cores shared with other work.",
        "",
        f"{report['pages']} pages over {len(HOSTS)} loopback hosts, warm Chromium, one at a time per host, "
        f"the hosts side by side; medians over {report['repetitions_asked']} repetition(s).",
        "",
        "| case | wall time | pages/min (all hosts) | pages/min per host |",
        "|---|---|---|---|",
    ]
    for name in ("monitor", "separate_scans"):
        figures = cases[name]
        per_host = ", ".join(
            f"{host}: {value}" for host, value in figures["pages_per_minute_per_host"].items()
        )
        lines.append(f"| {name} | {figures['wall_seconds']} s | {figures['pages_per_minute']} | {per_host} |")
    lines += ["", f"Ratio monitor / separate scans (wall time): {cases['monitor_vs_separate_scans']}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=50, help="pages in all, split over the two hosts (50)")
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    from scout import runtime
    from scout.store.embedded import EmbeddedPostgres

    started_load = load_average()
    folder = Path(tempfile.mkdtemp(prefix="scout-bench-pg-"))
    database = EmbeddedPostgres(folder / "data", MIGRATIONS)
    servers = [SiteServer(site_routes(args.pages // len(HOSTS)), host=host) for host in HOSTS]
    try:
        os.environ.update(
            {
                "DATABASE_URL": database.start(),
                "ALLOWED_HOSTS": "localhost",
                "SCOUT_EGRESS_ALLOW": ",".join(HOSTS),
            }
        )
        for server in servers:
            server.__enter__()
        pages_per_host = args.pages // len(HOSTS)
        urls = [server.url(f"/page-{number}") for number in range(pages_per_host) for server in servers]
        results = runtime.run(run_suite(urls, args.repetitions))
    finally:
        for server in servers:
            server.__exit__(None, None, None)
        database.stop()
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "command": f"python -m bench.monitors --pages {args.pages} --repetitions {args.repetitions}",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": {"start": started_load, "end": load_average()},
        "pages": len(urls),
        "repetitions_asked": args.repetitions,
        **results,
    }
    text = markdown(report)
    print(text)
    if not args.no_record:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "monitors.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / "monitors.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
