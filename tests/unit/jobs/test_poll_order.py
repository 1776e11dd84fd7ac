"""The order a poll starts its sources in (scout.jobs.polling.start_order)."""

from __future__ import annotations

from uuid import uuid4

from scout.jobs.poll_queue import PollRequest
from scout.jobs.polling import start_order


def requests(ats: str, count: int) -> list[PollRequest]:
    return [PollRequest(source_id=uuid4(), ats=ats, board=f"{ats}-{n}") for n in range(count)]  # type: ignore[arg-type]


def test_kinds_are_spread_through_the_poll_and_kinds_with_details_come_early() -> None:
    # Given a claim listing every Greenhouse source before the Workday and Lever ones
    workday = [
        PollRequest(source_id=uuid4(), ats="workday", board=f"https://t{n}.wd5.myworkdayjobs.com/External")
        for n in range(4)
    ]
    claimed = requests("greenhouse", 8) + workday + requests("lever", 4)

    # When the poll orders them
    ordered = start_order(claimed)

    # Then every source is polled once, each kind in its claimed order
    assert sorted(map(id, ordered)) == sorted(map(id, claimed))
    for kind in ("greenhouse", "workday", "lever"):
        assert [r for r in ordered if r.ats == kind] == [r for r in claimed if r.ats == kind]
    # And the Workday sources (detail pages) all start early: spread over the first half of
    # the order, which the other kinds share
    positions = {
        kind: [i for i, r in enumerate(ordered) if r.ats == kind]
        for kind in ("greenhouse", "workday", "lever")
    }
    assert max(positions["workday"]) < len(ordered) * 0.6
    # And the one-request kinds are spread from the start to the end, not left to the end
    assert min(positions["greenhouse"]) < 3
    assert max(positions["greenhouse"]) == len(ordered) - 1
    assert min(positions["lever"]) < len(ordered) / 3
