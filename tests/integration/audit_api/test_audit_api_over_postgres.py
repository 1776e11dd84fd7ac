"""The audit function end to end below HTTP: real Postgres, SQS and S3 on moto's server."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any
from uuid import UUID

import httpx
import pytest

from scout import runtime
from scout.audit.artifacts import S3ArtifactStore
from scout.auth import Strategy
from scout.store.postgres import PostgresStore
from tests.integration.audit_api.calls import call, get, post, token
from tests.integration.audit_api.conftest import LocalAws
from tests.support.functions import ROOT
from tests.support.http_events import json_body

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def post_scan(
    function: ModuleType,
    url: str = "https://example.com/",
    *,
    key: str | None = None,
    subject: str = "user-1",
) -> dict[str, Any]:
    return post(function, {"url": url}, subject=subject, key=key)


def test_a_posted_scan_is_stored_as_queued_and_sent_grouped_by_its_host(
    audit_function: ModuleType, local_aws: LocalAws
) -> None:
    # When a user posts a scan of https://shop.example.org/cart
    response = post_scan(audit_function, "https://shop.example.org/cart")
    # Then it is accepted as queued
    assert response["statusCode"] == 202
    scan = json_body(response)
    assert (scan["status"], scan["url"], scan["device"]) == (
        "queued",
        "https://shop.example.org/cart",
        "mobile",
    )
    # And one message names it, grouped by host and deduplicated by scan id
    [message] = local_aws.messages()
    assert json.loads(message["Body"]) == {"scan_id": scan["id"]}
    assert message["Attributes"]["MessageGroupId"] == "shop.example.org"
    assert message["Attributes"]["MessageDeduplicationId"] == scan["id"]
    # And its owner can read it back
    read = get(audit_function, f"/scans/{scan['id']}", as_token=token())
    assert read["statusCode"] == 200
    assert json_body(read)["status"] == "queued"


def test_repeating_a_post_with_its_key_gives_the_same_scan_queued_once(
    audit_function: ModuleType, local_aws: LocalAws
) -> None:
    first = post_scan(audit_function, key="8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60")
    again = post_scan(audit_function, key="8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60")
    assert (first["statusCode"], again["statusCode"]) == (202, 202)
    assert json_body(again)["id"] == json_body(first)["id"]
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert len(local_aws.messages()) == 1


def test_the_same_key_for_another_url_is_a_409_that_names_the_first_scan(audit_function: ModuleType) -> None:
    first = json_body(post_scan(audit_function, key="key-1"))
    other = post_scan(audit_function, "https://shop.example.org/", key="key-1")
    assert other["statusCode"] == 409
    error = json_body(other)["error"]
    assert error["code"] == "idempotency_key_reused"
    assert first["id"] in error["message"]


def test_the_scan_over_the_hourly_limit_is_429_with_retry_after(audit_function: ModuleType) -> None:
    # Given the limit of three scans an hour is used up
    for _ in range(3):
        assert post_scan(audit_function)["statusCode"] == 202
    # When a fourth is posted
    response = post_scan(audit_function)
    # Then it is refused with how long to wait (the first leaves the window in about an hour)
    assert response["statusCode"] == 429
    assert 3500 <= int(response["headers"]["Retry-After"]) <= 3600
    # And another user is not affected
    assert post_scan(audit_function, subject="user-2")["statusCode"] == 202


def test_another_user_gets_404_and_a_service_reads_the_scan(audit_function: ModuleType) -> None:
    scan_id = json_body(post_scan(audit_function))["id"]
    assert get(audit_function, f"/scans/{scan_id}", as_token=token(subject="user-2"))["statusCode"] == 404
    read = get(audit_function, f"/scans/{scan_id}", as_token=token(Strategy.SERVICE, "reporting"))
    assert read["statusCode"] == 200
    assert json_body(read)["id"] == scan_id


def test_a_finished_scan_links_to_artifacts_that_download(
    audit_function: ModuleType, api_store: PostgresStore, local_aws: LocalAws
) -> None:
    # Given a posted scan that a worker claimed, uploaded artifacts for and finished
    scan_id = json_body(post_scan(audit_function))["id"]
    artifacts = S3ArtifactStore(local_aws.bucket, link_seconds=300, client=local_aws.s3)

    class Produced:
        def __init__(self, name: str, content_type: str, body: bytes) -> None:
            self.name, self.content_type, self.body = name, content_type, body

    async def work() -> None:
        claim = await api_store.call("claim_scan", p_scan_id=scan_id, p_lease_seconds=150, p_max_attempts=4)
        stored = [
            await artifacts.put(UUID(scan_id), Produced("screenshot.png", "image/png", PNG)),
            await artifacts.put(
                UUID(scan_id), Produced("axe.json", "application/json", b'{"violations": []}')
            ),
        ]
        result = {
            "url": "https://example.com/",
            "final_url": "https://example.com/",
            "device": "mobile",
            "status": "partial",
            "error": {
                "code": "lighthouse_failed",
                "message": "The performance audit (Lighthouse) could not finish.",
            },
            "lighthouse": None,
            "axe": {"violations": [], "counts": {"critical": 0, "serious": 0, "moderate": 0, "minor": 0}},
            "timings": {"total_ms": 900, "navigation_ms": 200, "lighthouse_ms": None, "axe_ms": 100},
        }
        await api_store.call(
            "finish_scan",
            p_scan_id=scan_id,
            p_attempt=claim["scan"]["attempts"],
            p_result=result,
            p_artifacts=[item.to_json() for item in stored],
        )

    runtime.run(work())
    # When its owner reads it
    body = json_body(get(audit_function, f"/scans/{scan_id}", as_token=token()))
    # Then the result is there and every link downloads its file with its type
    assert body["status"] == "partial"
    assert body["error"]["code"] == "lighthouse_failed"
    assert body["axe"]["counts"]["critical"] == 0
    links = {artifact["name"]: artifact for artifact in body["artifacts"]}
    assert set(links) == {"screenshot.png", "axe.json"}
    screenshot = httpx.get(links["screenshot.png"]["url"], timeout=10)
    assert screenshot.status_code == 200
    assert screenshot.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.headers["content-type"] == "image/png"
    assert httpx.get(links["axe.json"]["url"], timeout=10).json() == {"violations": []}


def test_scans_list_in_pages_newest_first_following_next_cursor(audit_function: ModuleType) -> None:
    # Given three scans of mine and one of someone else
    created = [json_body(post_scan(audit_function, f"https://example.com/{n}"))["id"] for n in range(3)]
    post_scan(audit_function, subject="user-2")
    # When I list them two at a time
    first = json_body(get(audit_function, "/scans", as_token=token(), query={"limit": "2"}))
    second = json_body(
        get(audit_function, "/scans", as_token=token(), query={"limit": "2", "cursor": first["next_cursor"]})
    )
    # Then I see my three, newest first, and the last page says so
    assert [item["id"] for item in first["items"] + second["items"]] == list(reversed(created))
    assert second["next_cursor"] is None


SAMPLE_EVENTS = sorted((ROOT / "events").glob("audit_api_*.json"))


@pytest.mark.parametrize("event_file", SAMPLE_EVENTS, ids=[path.stem for path in SAMPLE_EVENTS])
def test_each_sample_event_is_served(audit_function: ModuleType, event_file: Any) -> None:
    # Given a sample event with a real token in place of its placeholder
    event = json.loads(event_file.read_text())
    event["headers"]["authorization"] = f"Bearer {token()}"
    # When the function handles it
    response = call(audit_function, event)
    # Then it answers as its route does for a user with no scans yet
    expected = {"POST": 202, "GET": 200}[event["requestContext"]["http"]["method"]]
    if "{scan_id}" in event["routeKey"]:
        expected = 404
    assert response["statusCode"] == expected, response
