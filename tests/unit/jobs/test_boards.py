"""Choosing the adapter and checking the board id before any request."""

from __future__ import annotations

import pytest

from scout.errors import InvalidBoard, UnsupportedAts
from scout.jobs.boards import ADAPTERS, canonical_board, fetch_board
from scout.jobs.posting import ATS_KINDS
from tests.support.fake_ats import settings_for


def test_there_is_one_adapter_per_ats_kind() -> None:
    assert (
        tuple(ADAPTERS)
        == ATS_KINDS
        == ("greenhouse", "lever", "ashby", "workday", "smartrecruiters", "jsonld")
    )


async def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(UnsupportedAts) as raised:
        await fetch_board("taleo", "acme", settings=settings_for("http://127.0.0.1:9"))
    assert raised.value.code == "unsupported_ats"
    assert raised.value.status == 400


@pytest.mark.parametrize("board", ["../admin", "acme/jobs", "acme?x=1", "", " ", "a" * 200])
async def test_a_board_token_that_is_not_one_path_segment_is_refused(board: str) -> None:
    with pytest.raises(InvalidBoard):
        await fetch_board("greenhouse", board, settings=settings_for("http://127.0.0.1:9"))


def test_kind_names_are_case_insensitive_and_boards_are_trimmed() -> None:
    assert canonical_board("Lever", " fieldnote ") == "fieldnote"
