"""The scan service's decisions around its SQL functions: what is checked first, what each
outcome becomes, and what is sent to the queue."""

from __future__ import annotations

from uuid import UUID

import pytest

from scout.audit import scans
from scout.auth import Principal, Strategy
from scout.errors import (
    BadRequest,
    BlockedTarget,
    Conflict,
    DnsFailed,
    InvalidUrl,
    NotFound,
    RateLimited,
    UpstreamFailed,
)
from tests.support.audit_fakes import MemoryArtifacts, RecordingQueue, ScriptedStore, public_policy, scan_row

USER = Principal(Strategy.USER, "user-1")
SERVICE = Principal(Strategy.SERVICE, "billing")
LIMIT = scans.RateLimit(scans=3, window_seconds=3600)


async def create(
    store: ScriptedStore,
    queue: RecordingQueue,
    *,
    url: str = "https://example.com/",
    principal: Principal = USER,
    key: str | None = None,
    request: scans.ScanRequest | None = None,
    max_runs: int = scans.MAX_RUNS,
) -> scans.Created:
    return await scans.create_scan(
        request or scans.ScanRequest(url=url, device="desktop"),
        principal,
        idempotency_key=key,
        store=store,
        queue=queue,
        policy=public_policy(),
        rate_limit=LIMIT,
        max_runs=max_runs,
    )


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://10.0.0.7/admin", BlockedTarget),
        ("http://169.254.169.254/latest/meta-data/", BlockedTarget),
        ("http://[::ffff:127.0.0.1]/", BlockedTarget),
        ("ftp://example.com/", InvalidUrl),
        ("not a url", InvalidUrl),
        ("https://no-such-host.example/", DnsFailed),
    ],
)
async def test_a_target_the_egress_policy_refuses_is_rejected_before_anything_is_stored(
    url: str, error: type[Exception]
) -> None:
    # Given a store that must not be called
    store, queue = ScriptedStore(), RecordingQueue()
    # When a scan of a refused URL is requested
    with pytest.raises(error):
        await create(store, queue, url=url)
    # Then nothing was stored or queued
    assert store.calls == []
    assert queue.sent == []


async def test_a_new_scan_is_stored_with_the_normalised_url_and_sent_with_its_host() -> None:
    # Given a store that creates the scan
    store = ScriptedStore({"create_scan": {"outcome": "created", "scan": scan_row(device="desktop")}})
    queue = RecordingQueue()
    # When a user asks for a scan of a URL written loosely
    created = await create(store, queue, url="  HTTPS://Example.COM  ", key="key-1")
    # Then the store got the canonical URL, host, owner, key and the user's rate limit
    [args] = store.called("create_scan")
    assert args == {
        "p_owner": "user:user-1",
        "p_url": "https://example.com/",
        "p_target_host": "example.com",
        "p_device": "desktop",
        "p_idempotency_key": "key-1",
        "p_rate_limit": 3,
        "p_rate_window_seconds": 3600,
        "p_runs": 1,
        "p_budget_limits": None,
    }
    # And the scan went on the queue with its host as the message group
    assert queue.sent == [(UUID(scan_row()["id"]), "example.com")]
    assert created.replayed is False
    assert created.scan.status == "queued"


async def test_runs_and_budget_are_stored_with_the_scan() -> None:
    store = ScriptedStore({"create_scan": {"outcome": "created", "scan": scan_row(runs=3)}})
    request = scans.ScanRequest.model_validate(
        {"url": "https://example.com/", "runs": 3, "budget": {"axe": {"critical": 0}}}
    )
    await create(store, RecordingQueue(), request=request)
    [args] = store.called("create_scan")
    assert (args["p_runs"], args["p_budget_limits"]) == (
        3,
        {"scores": {}, "metrics": {}, "axe": {"critical": 0}},
    )


async def test_more_runs_than_the_worker_can_hold_are_refused_before_anything_is_stored() -> None:
    store, queue = ScriptedStore({}), RecordingQueue()
    request = scans.ScanRequest(url="https://example.com/", runs=4)
    with pytest.raises(BadRequest) as refused:
        await create(store, queue, request=request, max_runs=1)
    assert refused.value.code == "too_many_runs"
    assert "at most one run fits" in refused.value.message
    assert (store.called("create_scan"), queue.sent) == ([], [])


async def test_a_service_creates_scans_as_itself_without_a_rate_limit() -> None:
    store = ScriptedStore({"create_scan": {"outcome": "created", "scan": scan_row(owner="service:billing")}})
    await create(store, RecordingQueue(), principal=SERVICE)
    [args] = store.called("create_scan")
    assert args["p_owner"] == "service:billing"
    assert args["p_rate_limit"] is None


async def test_rate_limited_outcome_raises_with_the_retry_after_the_store_computed() -> None:
    # Given the store says the user is over the limit for 42 more seconds
    store = ScriptedStore({"create_scan": {"outcome": "rate_limited", "retry_after_seconds": 42}})
    queue = RecordingQueue()
    # When the user asks for another scan
    with pytest.raises(RateLimited) as raised:
        await create(store, queue)
    # Then the error carries Retry-After and a sentence with the limit
    assert raised.value.retry_after_seconds == 42
    assert "at most 3 per 60 minutes" in raised.value.message
    assert queue.sent == []


async def test_a_reused_idempotency_key_with_another_request_is_a_conflict() -> None:
    store = ScriptedStore(
        {
            "create_scan": {
                "outcome": "idempotency_key_reused",
                "scan_id": "0b8f5b9e-3c1d-4f7a-9e2b-6a4d8c1e2f30",
            }
        }
    )
    queue = RecordingQueue()
    with pytest.raises(Conflict) as raised:
        await create(store, queue, key="key-1")
    assert raised.value.code == "idempotency_key_reused"
    assert "0b8f5b9e-3c1d-4f7a-9e2b-6a4d8c1e2f30" in raised.value.message
    assert queue.sent == []


async def test_a_replay_of_a_still_queued_scan_sends_it_again_for_the_queue_to_deduplicate() -> None:
    store = ScriptedStore({"create_scan": {"outcome": "replayed", "scan": scan_row()}})
    queue = RecordingQueue()
    created = await create(store, queue, key="key-1")
    assert created.replayed is True
    assert len(queue.sent) == 1


async def test_a_replay_of_a_finished_scan_is_not_queued_again() -> None:
    finished = scan_row(status="succeeded", finished_at="2026-11-25T18:01:00+00:00")
    store = ScriptedStore({"create_scan": {"outcome": "replayed", "scan": finished}})
    queue = RecordingQueue()
    created = await create(store, queue, key="key-1")
    assert created.scan.status == "succeeded"
    assert queue.sent == []


async def test_a_scan_that_cannot_be_queued_is_discarded_and_reported_as_upstream_failure() -> None:
    # Given a queue that is down
    store = ScriptedStore(
        {
            "create_scan": {"outcome": "created", "scan": scan_row()},
            "discard_queued_scan": {"discarded": True},
        }
    )
    queue = RecordingQueue(failure=ConnectionError("queue endpoint unreachable"))
    # When a scan is created
    with pytest.raises(UpstreamFailed) as raised:
        await create(store, queue, key="key-1")
    # Then the client learns to retry, and the unqueued scan is removed so that the retry
    # (same key) starts afresh instead of finding a scan that will never run
    assert raised.value.code == "queue_unavailable"
    assert store.called("discard_queued_scan") == [{"p_scan_id": UUID(scan_row()["id"])}]


@pytest.mark.parametrize("key", ["", " padded ", "x" * 256, "naïve", "line\nbreak"])
async def test_a_malformed_idempotency_key_is_refused_before_anything_else(key: str) -> None:
    store = ScriptedStore()
    with pytest.raises(BadRequest) as raised:
        await create(store, RecordingQueue(), key=key)
    assert raised.value.code == "invalid_idempotency_key"
    assert store.calls == []


async def test_a_user_reads_only_their_own_scans_and_a_service_reads_any() -> None:
    store = ScriptedStore({"get_scan": scan_row()})
    scan_id = scan_row()["id"]
    await scans.get_scan(scan_id, USER, store=store, artifacts=MemoryArtifacts())
    await scans.get_scan(scan_id, SERVICE, store=store, artifacts=MemoryArtifacts())
    assert [args["p_owner"] for args in store.called("get_scan")] == ["user:user-1", None]


async def test_a_scan_id_that_is_not_a_uuid_is_simply_not_found() -> None:
    store = ScriptedStore()
    with pytest.raises(NotFound):
        await scans.get_scan("../../etc/passwd", USER, store=store, artifacts=MemoryArtifacts())
    assert store.calls == []


async def test_a_finished_scan_comes_with_a_link_for_every_stored_artifact() -> None:
    # Given a finished scan with two stored artifacts
    stored = [
        {
            "name": "screenshot.png",
            "key": "scans/x/screenshot.png",
            "content_type": "image/png",
            "size_bytes": 10,
        },
        {"name": "axe.json", "key": "scans/x/axe.json", "content_type": "application/json", "size_bytes": 5},
    ]
    row = scan_row(status="succeeded", finished_at="2026-11-25T18:01:00+00:00", artifacts=stored)
    # When it is read
    detail = await scans.get_scan(
        row["id"], USER, store=ScriptedStore({"get_scan": row}), artifacts=MemoryArtifacts()
    )
    # Then each artifact has a link, in the stored order
    assert [(a.name, a.size_bytes) for a in detail.artifacts] == [("screenshot.png", 10), ("axe.json", 5)]
    assert detail.artifacts[0].url.endswith("scans/x/screenshot.png?signed")


async def test_list_cursor_round_trips_the_position_of_the_last_item() -> None:
    # Given a page whose store answer names where the next page starts
    following = {"created_at": "2026-11-25T18:00:00.123456+00:00", "id": scan_row()["id"]}
    store = ScriptedStore({"list_scans": {"items": [scan_row()], "next": following}})
    page = await scans.list_scans(USER, store=store, limit=1)
    assert page.next_cursor is not None
    # When the cursor is handed back
    await scans.list_scans(USER, store=store, cursor=page.next_cursor, limit=1)
    # Then the store is asked for what follows that exact position
    second = store.called("list_scans")[1]
    assert second["p_after_created_at"].isoformat() == "2026-11-25T18:00:00.123456+00:00"
    assert str(second["p_after_id"]) == following["id"]


@pytest.mark.parametrize("cursor", ["garbage", "e30", "WyJub3QgYSB0aW1lIiwiMSJd", "!!!"])
async def test_a_cursor_this_api_did_not_issue_is_a_clear_bad_request(cursor: str) -> None:
    store = ScriptedStore()
    with pytest.raises(BadRequest) as raised:
        await scans.list_scans(USER, store=store, cursor=cursor)
    assert raised.value.code == "invalid_cursor"
    assert store.calls == []
