"""Answers that are not what the API documents fail loudly, never as a short complete list."""

from __future__ import annotations

import pytest

from scout.errors import AtsBadResponse
from scout.jobs.boards import fetch_board
from tests.integration.jobs.serving import quick_policy, serving
from tests.support.ats_payloads import greenhouse_job, smartrecruiters_posting
from tests.support.fake_ats import FakeAts
from tests.support.http_server import Fault, Response

BOARD_PATH = "^/v1/boards/acme/jobs$"


def greenhouse_board() -> FakeAts:
    return FakeAts(greenhouse={"acme": [greenhouse_job(n) for n in range(3)]})


async def test_html_instead_of_json_is_a_bad_response() -> None:
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, kind="html"))
        with pytest.raises(AtsBadResponse, match="HTML") as raised:
            await fetch_board(
                "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
            )
        assert raised.value.code == "ats_bad_response"


async def test_truncated_json_is_a_bad_response() -> None:
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, kind="truncate", keep=200))
        with pytest.raises(AtsBadResponse, match="broken JSON"):
            await fetch_board(
                "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
            )


async def test_a_200_with_the_wrong_shape_is_a_bad_response() -> None:
    async with serving(greenhouse_board()) as env:
        env.server.inject(Fault(path=BOARD_PATH, status=200, body=b'{"jobs": "none today"}'))
        with pytest.raises(AtsBadResponse, match="jobs"):
            await fetch_board(
                "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
            )


async def test_a_json_error_object_where_an_array_belongs_is_a_bad_response() -> None:
    fake = FakeAts(lever={"acme": []})
    async with serving(fake) as env:
        env.server.inject(Fault(path="^/v0/postings/acme$", status=200, body=b'{"ok": false}'))
        with pytest.raises(AtsBadResponse):
            await fetch_board(
                "lever", "acme", client=env.client, settings=env.settings, policy=quick_policy()
            )


async def test_a_job_count_that_disagrees_with_meta_total_is_incomplete() -> None:
    # Given a board whose meta.total says there are two more jobs than listed
    fake = FakeAts(greenhouse={"acme": [greenhouse_job(n) for n in range(3)]}, greenhouse_total_drift=2)
    async with serving(fake) as env:
        result = await fetch_board(
            "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert not result.complete
        assert len(result.postings) == 3
        assert any("meta.total says 5" in warning for warning in result.warnings)


async def test_a_posting_missing_its_id_makes_the_fetch_incomplete() -> None:
    broken = greenhouse_job(2)
    del broken["id"]
    fake = FakeAts(greenhouse={"acme": [greenhouse_job(1), broken]})
    async with serving(fake) as env:
        result = await fetch_board(
            "greenhouse", "acme", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert not result.complete
        assert [p.external_id for p in result.postings] == ["4000001"]


async def test_smartrecruiters_total_that_changes_between_pages_is_incomplete() -> None:
    postings = [smartrecruiters_posting(n) for n in range(150)]
    fake = FakeAts(smartrecruiters={"Acme": postings})
    async with serving(fake) as env:
        original = fake.handle

        def growing(request):  # type: ignore[no-untyped-def]
            response = original(request)
            if request.param("offset") == "100":
                return Response.json(
                    {"offset": 100, "limit": 100, "totalFound": 151, "content": postings[100:]}
                )
            return response

        env.server.handler = growing
        result = await fetch_board(
            "smartrecruiters", "Acme", client=env.client, settings=env.settings, policy=quick_policy()
        )
        assert not result.complete


async def test_an_oversized_answer_is_refused() -> None:
    async with serving(greenhouse_board()) as env:
        with pytest.raises(AtsBadResponse, match="limit"):
            await fetch_board(
                "greenhouse",
                "acme",
                client=env.client,
                settings=env.settings,
                policy=quick_policy(max_json_bytes=100),
            )
