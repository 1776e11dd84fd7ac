"""Small in-memory stand-ins for the audit service's own interfaces (store, queue, artifacts,
scanner, DNS).

They record what they were asked and answer what a test scripts, so unit tests can pin down
how the service reacts to each outcome of a SQL function without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from scout.audit.artifacts import ArtifactBody, ArtifactLink, StoredArtifact, artifact_key
from scout.audit.budget import Budget
from scout.audit.result import ScanArtifacts, ScanOutcome, ScanResult, Timings
from scout.egress.policy import EgressPolicy

# Public addresses used only as answers of the fake resolver: nothing ever connects to them.
PUBLIC_DNS = {"example.com": ["93.184.215.14"], "shop.example.org": ["93.184.215.15"]}


def public_policy(answers: dict[str, list[str]] | None = None) -> EgressPolicy:
    """The real egress policy over a fake DNS that knows a few public names."""
    table = answers or PUBLIC_DNS

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return EgressPolicy(resolver=resolve)


@dataclass
class ScriptedStore:
    """A Store whose functions answer from ``answers`` (a value, or a callable of the args)."""

    answers: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    round_trips: int = 0

    async def call(self, function: str, /, **args: Any) -> Any:
        self.round_trips += 1
        self.calls.append((function, args))
        if function not in self.answers:
            raise AssertionError(f"the test did not expect a call of {function}")
        answer = self.answers[function]
        if isinstance(answer, BaseException):
            raise answer
        return answer(**args) if callable(answer) else answer

    def called(self, function: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == function]

    async def aclose(self) -> None:
        return None


@dataclass
class RecordingQueue:
    sent: list[tuple[UUID, str]] = field(default_factory=list)
    failure: Exception | None = None

    async def send(self, scan_id: UUID, target_host: str) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append((scan_id, target_host))


@dataclass
class MemoryArtifacts:
    """Keeps uploads in a dict; links point at a fake host and name the key."""

    objects: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    failure: Exception | None = None

    async def put(self, scan_id: UUID, artifact: ArtifactBody) -> StoredArtifact:
        if self.failure is not None:
            raise self.failure
        key = artifact_key(scan_id, artifact.name)
        self.objects[key] = (artifact.content_type, artifact.body)
        return StoredArtifact(artifact.name, key, artifact.content_type, len(artifact.body))

    async def links(self, artifacts: list[StoredArtifact]) -> list[ArtifactLink]:
        expires = datetime.now(UTC) + timedelta(minutes=15)
        return [
            ArtifactLink(
                a.name, a.content_type, a.size_bytes, f"https://reports.invalid/{a.key}?signed", expires
            )
            for a in artifacts
        ]


def scan_row(scan_id: str = "0b8f5b9e-3c1d-4f7a-9e2b-6a4d8c1e2f30", **fields: Any) -> dict[str, Any]:
    """A scan as the SQL functions return it."""
    row: dict[str, Any] = {
        "id": scan_id,
        "owner": "user:user-1",
        "url": "https://example.com/",
        "page_url": "https://example.com/",
        "target_host": "example.com",
        "device": "mobile",
        "status": "queued",
        "attempts": 0,
        "runs": 1,
        "budget_limits": None,
        "final_url": None,
        "error": None,
        "lighthouse": None,
        "axe": None,
        "budget": None,
        "timings": None,
        "artifacts": [],
        "created_at": "2026-11-25T18:00:00.123456+00:00",
        "started_at": None,
        "finished_at": None,
    }
    row.update(fields)
    return row


@dataclass
class FinishingScanner:
    """A Scanner that answers every page as succeeded at once, without a browser; records the urls."""

    scanned: list[str] = field(default_factory=list)

    async def scan(
        self, url: str, device: str, *, runs: int = 1, budget: Budget | None = None
    ) -> ScanOutcome:
        self.scanned.append(url)
        result = ScanResult(
            url=url,
            final_url=url,
            device=device,
            status="succeeded",
            error=None,
            lighthouse=None,
            axe=None,
            timings=Timings(total_ms=900),
        )
        return ScanOutcome(result=result, artifacts=ScanArtifacts(screenshot_png=b"\x89PNG", axe_json=b"{}"))
