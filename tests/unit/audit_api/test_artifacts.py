"""Artifacts in the reports bucket: where they go, with what type, and how they are linked (moto S3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from scout.audit.artifacts import S3ArtifactStore, artifact_key

BUCKET = "scout-reports-test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass(frozen=True)
class Produced:
    name: str
    content_type: str
    body: bytes


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3v4"))
        client.create_bucket(Bucket=BUCKET)
        yield client


async def test_an_artifact_is_stored_under_its_scan_with_its_content_type(s3: Any) -> None:
    # Given the reports bucket
    store = S3ArtifactStore(BUCKET, link_seconds=300, client=s3)
    scan_id = uuid4()
    # When a screenshot is uploaded
    stored = await store.put(scan_id, Produced("screenshot.png", "image/png", PNG))
    # Then it sits at scans/<id>/screenshot.png as image/png, byte for byte
    assert stored.key == f"scans/{scan_id}/screenshot.png"
    assert stored.size_bytes == len(PNG)
    obj = s3.get_object(Bucket=BUCKET, Key=stored.key)
    assert obj["ContentType"] == "image/png"
    assert obj["Body"].read() == PNG


async def test_uploading_again_overwrites_the_same_object(s3: Any) -> None:
    store = S3ArtifactStore(BUCKET, link_seconds=300, client=s3)
    scan_id = uuid4()
    await store.put(scan_id, Produced("axe.json", "application/json", b'{"run": 1}'))
    await store.put(scan_id, Produced("axe.json", "application/json", b'{"run": 2}'))
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"scans/{scan_id}/")
    assert [item["Key"] for item in listing["Contents"]] == [f"scans/{scan_id}/axe.json"]
    assert s3.get_object(Bucket=BUCKET, Key=f"scans/{scan_id}/axe.json")["Body"].read() == b'{"run": 2}'


async def test_links_are_presigned_gets_that_expire_after_the_configured_time(s3: Any) -> None:
    # Given a stored artifact and links valid for 300 seconds
    store = S3ArtifactStore(BUCKET, link_seconds=300, client=s3)
    stored = await store.put(
        uuid4(), Produced("lighthouse.html", "text/html; charset=utf-8", b"<html></html>")
    )
    before = datetime.now(UTC)
    # When links are made
    [link] = await store.links([stored])
    # Then the link is a SigV4 presigned URL for that key, expiring when it says
    query = parse_qs(urlsplit(link.url).query)
    assert urlsplit(link.url).path.endswith(stored.key)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert before + timedelta(seconds=299) <= link.expires_at <= before + timedelta(seconds=300)
    assert (link.name, link.content_type, link.size_bytes) == (
        "lighthouse.html",
        "text/html; charset=utf-8",
        13,
    )


async def test_no_artifacts_need_no_links(s3: Any) -> None:
    assert await S3ArtifactStore(BUCKET, link_seconds=300, client=s3).links([]) == []


@pytest.mark.parametrize("name", ["../escape.png", "a/b.png", "", "Screenshot.PNG", ".hidden"])
def test_an_artifact_name_that_is_not_a_plain_file_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        artifact_key(uuid4(), name)
