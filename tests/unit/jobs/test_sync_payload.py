"""What a poller sends as stored, and how much it remembers."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from scout.jobs.sync_payload import (
    SyncedFingerprints,
    as_stored_where_unchanged,
    content_entries,
    entry_fingerprint,
    with_fingerprints,
)


def outcome(*titles: str) -> dict[str, Any]:
    postings = [{"external_id": str(n), "title": title} for n, title in enumerate(titles)]
    return with_fingerprints({"status": "succeeded", "complete": True, "postings": postings})


def remembered(payload: dict[str, Any]) -> dict[str, str]:
    return {entry["external_id"]: entry["fingerprint"] for entry in payload["postings"]}


def test_only_postings_whose_fingerprint_is_remembered_go_without_content() -> None:
    # Given a board synced once
    first = outcome("Engineer", "Designer", "Analyst")
    # When it is fetched again with the designer retitled
    again = as_stored_where_unchanged(outcome("Engineer", "Senior Designer", "Analyst"), remembered(first))
    # Then the designer goes in full, the others as stored
    assert content_entries(again) == 1
    assert again["postings"][1]["title"] == "Senior Designer"
    assert again["postings"][0] == {
        "external_id": "0",
        "fingerprint": first["postings"][0]["fingerprint"],
        "as_stored": True,
    }


def test_nothing_remembered_sends_everything_in_full() -> None:
    # Given a fetch and no memory of the source
    fetched = outcome("Engineer", "Designer")
    # When its payload is made
    # Then it is the fetch as it was
    assert as_stored_where_unchanged(fetched, None) == fetched


def test_a_fingerprint_covers_every_field_and_is_stable() -> None:
    # Given one entry
    entry = {"external_id": "1", "title": "Engineer", "detail": "fetched", "list_hash": "abc"}
    # When it is fingerprinted twice, and with its detail state changed
    # Then the same entry has the same fingerprint and a changed one another
    assert entry_fingerprint(entry) == entry_fingerprint(dict(entry))
    assert entry_fingerprint(entry) != entry_fingerprint(entry | {"detail": "failed"})


def test_the_least_recently_synced_sources_are_forgotten_past_capacity() -> None:
    # Given a memory of five postings
    memory = SyncedFingerprints(capacity=5)
    first, second, third = uuid4(), uuid4(), uuid4()
    # When three sources of two postings each are synced in turn
    for source_id in (first, second, third):
        memory.remember(source_id, outcome("Engineer", "Designer"))
    # Then the first is forgotten and the later two are remembered
    assert memory.get(first) is None
    assert memory.get(second) is not None
    assert memory.get(third) is not None


def test_a_source_larger_than_the_memory_is_not_remembered() -> None:
    # Given a memory of two postings
    memory = SyncedFingerprints(capacity=2)
    source_id = uuid4()
    # When a source of three is synced
    memory.remember(source_id, outcome("Engineer", "Designer", "Analyst"))
    # Then it is not remembered
    assert memory.get(source_id) is None
