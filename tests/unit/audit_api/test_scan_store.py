"""ScanStore reads each SQL outcome tag into its own type, in one place."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from scout.audit.result import ScanStatus
from scout.audit.store import (
    Claimed,
    Finished,
    GaveUp,
    KeyReused,
    RateLimitReached,
    ScanCreated,
    ScanReplayed,
    ScanStore,
    Skipped,
    Superseded,
)
from tests.support.audit_fakes import ScriptedStore, scan_row

SCAN_ID = UUID(scan_row()["id"])


async def create(answer: dict[str, Any]) -> object:
    store = ScanStore(ScriptedStore({"create_scan": answer}))
    return await store.create_scan(
        owner="user:u1",
        url="https://example.com/",
        target_host="example.com",
        device="mobile",
        idempotency_key=None,
        rate_limit=5,
        rate_window_seconds=3600,
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"outcome": "created", "scan": scan_row()}, ScanCreated),
        ({"outcome": "replayed", "scan": scan_row(status="running")}, ScanReplayed),
        ({"outcome": "rate_limited", "retry_after_seconds": 42}, RateLimitReached),
        ({"outcome": "idempotency_key_reused", "scan_id": str(SCAN_ID)}, KeyReused),
    ],
    ids=["created", "replayed", "rate_limited", "idempotency_key_reused"],
)
async def test_each_create_scan_outcome_becomes_its_own_type(answer: dict[str, Any], expected: type) -> None:
    # Given create_scan answering one of its outcomes, When read, Then it is that outcome's type
    assert isinstance(await create(answer), expected)


async def test_a_created_scan_carries_the_scan_with_its_status() -> None:
    outcome = await create({"outcome": "created", "scan": scan_row()})
    assert isinstance(outcome, ScanCreated)
    assert outcome.scan.id == SCAN_ID
    assert outcome.scan.status is ScanStatus.QUEUED


async def test_an_outcome_this_code_does_not_know_is_an_error_naming_the_function() -> None:
    # Given a database answering a tag the code was not written for (a deploy mismatch)
    # When it is read, Then it fails loudly instead of being taken for another outcome
    with pytest.raises(RuntimeError, match="create_scan answered an outcome this code does not know"):
        await create({"outcome": "queued_twice"})


async def claim(answer: dict[str, Any]) -> Claimed | Skipped | GaveUp:
    return await ScanStore(ScriptedStore({"claim_scan": answer})).claim_scan(SCAN_ID, 60, 4)


async def test_a_claimed_scan_carries_what_the_attempt_runs() -> None:
    claimed = await claim({"outcome": "claimed", "scan": scan_row(status="running", attempts=2)})
    assert isinstance(claimed, Claimed)
    assert (claimed.scan.id, claimed.scan.url, claimed.scan.attempts) == (SCAN_ID, "https://example.com/", 2)


async def test_a_skipped_claim_says_why() -> None:
    skipped = await claim({"outcome": "skipped", "reason": "finished", "status": "succeeded"})
    assert skipped == Skipped("finished", "succeeded")


async def test_a_claim_past_the_last_attempt_gives_up() -> None:
    assert await claim({"outcome": "gave_up", "attempts": 4}) == GaveUp(4)


@pytest.mark.parametrize(
    ("answer", "expected"), [({"outcome": "finished"}, Finished), ({"outcome": "superseded"}, Superseded)]
)
async def test_each_finish_outcome_becomes_its_own_type(answer: dict[str, Any], expected: type) -> None:
    finished = await ScanStore(ScriptedStore({"finish_scan": answer})).finish_scan(SCAN_ID, 1, {}, [])
    assert isinstance(finished, expected)
