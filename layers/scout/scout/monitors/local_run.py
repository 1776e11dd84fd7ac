"""One monitor run on this machine (``scout monitor run ID``): started as ``POST
/monitors/{id}/run`` starts it, its scans then processed here by the scan worker's own
``process_scan``, one at a time per host as the FIFO queue's message groups would, different
hosts side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from scout.audit.artifacts import ArtifactBody, ArtifactLink, StoredArtifact, artifact_key
from scout.audit.scan_processing import ScanAttemptFailed, Scanner, WorkOutcome, process_scan
from scout.audit.scan_queue import message_group
from scout.monitors.models import MonitorRun
from scout.monitors.service import monitor_uuid, run_monitor
from scout.monitors.store import MonitorStore
from scout.store import Store

if TYPE_CHECKING:
    import httpx

    from scout.audit.artifacts import ArtifactStore


@dataclass
class HostGroupedQueue:
    """The scan queue of a local run: each host's scans in the order they were sent."""

    groups: dict[str, list[UUID]] = field(default_factory=dict)

    async def send(self, scan_id: UUID, target_host: str) -> None:
        self.groups.setdefault(message_group(target_host), []).append(scan_id)


class DirectoryArtifacts:
    """Artifacts under ``folder/scans/<scan id>/<name>``, for a run with no reports bucket."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def put(self, scan_id: UUID, artifact: ArtifactBody) -> StoredArtifact:
        key = artifact_key(scan_id, artifact.name)
        await asyncio.to_thread(self._write, self.folder / key, artifact.body)
        return StoredArtifact(artifact.name, key, artifact.content_type, len(artifact.body))

    async def links(self, artifacts: list[StoredArtifact]) -> list[ArtifactLink]:
        return []

    @staticmethod
    def _write(path: Path, body: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


@dataclass(frozen=True)
class PageDone:
    """One page's scan ended (for the progress line)."""

    scan_id: UUID
    host: str
    status: str | None


@dataclass(frozen=True)
class LocalRunParts:
    store: Store
    scanner: Callable[[], Scanner]
    artifacts: ArtifactStore
    sitemap_client: httpx.AsyncClient
    lease_seconds: int
    max_attempts: int


@dataclass(frozen=True)
class StartedLocalRun:
    run: MonitorRun
    owner: str
    queue: HostGroupedQueue


async def start_local_run(monitor_id: str, parts: LocalRunParts) -> StartedLocalRun:
    """Start a manual run of the monitor (whoever owns it); ``NotFound`` for an unknown id."""
    monitor = monitor_uuid(monitor_id)
    owner = await MonitorStore(parts.store).monitor_owner(monitor)
    queue = HostGroupedQueue()
    run = await run_monitor(
        monitor,
        owner,
        trigger="manual",
        store=parts.store,
        queue=queue,
        sitemap_client=parts.sitemap_client,
    )
    return StartedLocalRun(run, owner, queue)


async def process_run_scans(
    queue: HostGroupedQueue, parts: LocalRunParts, on_page: Callable[[PageDone], None]
) -> None:
    """Each host's scans one after another, the hosts concurrently, as the scan worker would."""

    async def one_host(host: str, scan_ids: list[UUID]) -> None:
        for scan_id in scan_ids:
            done = await _process_until_done(scan_id, parts)
            on_page(PageDone(scan_id, host, done.status))

    async with asyncio.TaskGroup() as group:
        for host, scan_ids in queue.groups.items():
            group.create_task(one_host(host, scan_ids))


async def _process_until_done(scan_id: UUID, parts: LocalRunParts) -> WorkOutcome:
    # A failed attempt goes back to the queue in the cloud; here it is tried again at once,
    # and process_scan itself gives up after max_attempts.
    while True:
        try:
            return await process_scan(
                scan_id,
                store=parts.store,
                scanner=parts.scanner(),
                artifacts=parts.artifacts,
                lease_seconds=parts.lease_seconds,
                max_attempts=parts.max_attempts,
            )
        except ScanAttemptFailed:
            continue


async def run_as_it_is_now(started: StartedLocalRun, store: Store) -> MonitorRun:
    """The run as it is now (closed by its last scan), found among the monitor's newest runs."""
    page = await MonitorStore(store).list_runs(started.run.monitor_id, started.owner, None, 20)
    return next((listed for listed in page.items if listed.id == started.run.id), started.run)
