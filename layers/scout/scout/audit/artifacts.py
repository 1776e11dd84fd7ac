"""Scan artifacts in the reports bucket: uploaded by the worker, linked (presigned) on read.

Objects are keyed ``scans/<scan id>/<name>``, so a rerun of a scan overwrites its own files and
nothing else. The bucket is private; readers get short-lived presigned GET links, made when
the scan is read, never stored.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from scout.settings import Settings

KEY_PREFIX = "scans"
# Names become object keys and download file names: keep them plain.
_ARTIFACT_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


class ArtifactBody(Protocol):
    """What the scan engine hands over for one artifact."""

    @property
    def name(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def body(self) -> bytes: ...


@dataclass(frozen=True)
class StoredArtifact:
    """An uploaded artifact, as kept in the scan's row."""

    name: str
    key: str
    content_type: str
    size_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": self.key,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredArtifact:
        return cls(str(data["name"]), str(data["key"]), str(data["content_type"]), int(data["size_bytes"]))


@dataclass(frozen=True)
class ArtifactLink:
    name: str
    content_type: str
    size_bytes: int
    url: str
    expires_at: datetime


class ArtifactStore(Protocol):
    async def put(self, scan_id: UUID, artifact: ArtifactBody) -> StoredArtifact: ...

    async def links(self, artifacts: list[StoredArtifact]) -> list[ArtifactLink]: ...


def artifact_key(scan_id: UUID, name: str) -> str:
    if not _ARTIFACT_NAME.fullmatch(name):
        raise ValueError(f"artifact name {name!r} is not a plain file name")
    return f"{KEY_PREFIX}/{scan_id}/{name}"


class S3ArtifactStore:
    """boto3 (sync) on worker threads, so that uploads run side by side and the loop runs on."""

    def __init__(self, bucket: str, *, link_seconds: int, client: Any = None) -> None:
        self.bucket = bucket
        self.link_seconds = link_seconds
        self._client = client if client is not None else new_s3_client()

    async def put(self, scan_id: UUID, artifact: ArtifactBody) -> StoredArtifact:
        key = artifact_key(scan_id, artifact.name)
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=artifact.body,
            ContentType=artifact.content_type,
            ContentDisposition=f'inline; filename="{artifact.name}"',
        )
        return StoredArtifact(artifact.name, key, artifact.content_type, len(artifact.body))

    async def links(self, artifacts: list[StoredArtifact]) -> list[ArtifactLink]:
        if not artifacts:
            return []
        # Signing is local computation, but the first call may fetch credentials: off the loop.
        return await asyncio.to_thread(self._sign_all, artifacts)

    def _sign_all(self, artifacts: list[StoredArtifact]) -> list[ArtifactLink]:
        expires_at = datetime.now(UTC) + timedelta(seconds=self.link_seconds)
        return [
            ArtifactLink(
                name=artifact.name,
                content_type=artifact.content_type,
                size_bytes=artifact.size_bytes,
                url=self._client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": artifact.key},
                    ExpiresIn=self.link_seconds,
                ),
                expires_at=expires_at.replace(microsecond=0),
            )
            for artifact in artifacts
        ]

    @classmethod
    def from_settings(cls, settings: Settings) -> S3ArtifactStore:
        if not settings.reports_bucket:
            raise RuntimeError("REPORTS_BUCKET is not set: scan artifacts have nowhere to go")
        return cls(settings.reports_bucket, link_seconds=settings.artifact_link_seconds)


def new_s3_client() -> Any:
    """An S3 client with SigV4, which presigned links need in every region.

    One per bucket, and scout.deps builds the bucket once per process.
    """
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(signature_version="s3v4"))
