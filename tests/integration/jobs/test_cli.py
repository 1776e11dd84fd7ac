"""``scout fetch`` and ``scout detect`` as a user runs them, against a fake ATS."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.ats_payloads import fixture_json, smartrecruiters_posting, workday_posting
from tests.support.fake_ats import FakeAts, ats_environment

ROOT = Path(__file__).resolve().parents[3]


async def scout(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_API_URL") and key != "ALLOWED_HOSTS"
    }
    environment.update(env)
    environment["PYTHONPATH"] = str(ROOT / "layers" / "scout")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scout",
        *args,
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_fetch_json_prints_one_posting_per_line() -> None:
    fake = FakeAts(greenhouse={"northwind": fixture_json("greenhouse_jobs.json")["jobs"]})
    async with fake.server() as server:
        code, out, err = await scout(
            "fetch", "--ats", "greenhouse", "--board", "northwind", "--json", env=ats_environment(server.url)
        )
    assert code == 0, err
    postings = [json.loads(line) for line in out.splitlines()]
    assert [p["external_id"] for p in postings] == ["4412093006", "4415550006", "4419999006"]
    assert postings[0]["posted_at"] == "2024-05-02T13:15:00Z"
    assert "3 postings" in err
    assert "(complete" in err


async def test_fetch_without_json_prints_a_table() -> None:
    fake = FakeAts(greenhouse={"northwind": fixture_json("greenhouse_jobs.json")["jobs"]})
    async with fake.server() as server:
        code, out, _ = await scout(
            "fetch", "--ats", "greenhouse", "--board", "northwind", env=ats_environment(server.url)
        )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "TITLE", "LOCATION"]
    assert len(lines) == 4
    assert "Senior Backend Engineer" in lines[1]


async def test_fetch_of_an_unknown_board_fails_with_a_clear_message() -> None:
    async with FakeAts().server() as server:
        code, out, err = await scout(
            "fetch", "--ats", "ashby", "--board", "nobody", "--json", env=ats_environment(server.url)
        )
    assert code == 1
    assert out == ""
    assert "ats_not_found" in err


async def test_fetch_of_an_invalid_board_fails_before_any_request() -> None:
    async with FakeAts().server() as server:
        code, _, err = await scout(
            "fetch",
            "--ats",
            "workday",
            "--board",
            "https://example.com/jobs",
            env=ats_environment(server.url),
        )
        assert server.stats.requests == []
    assert code == 1
    assert "invalid_board" in err


async def test_detect_prints_ats_and_board() -> None:
    code, out, _ = await scout(
        "detect", "https://wd1.myworkdaysite.com/en-US/recruiting/acme/Careers/job/X_R1", env={}
    )
    assert code == 0
    assert json.loads(out) == {
        "ats": "workday",
        "board": "https://wd1.myworkdaysite.com/recruiting/acme/Careers",
    }


async def test_detect_without_fetching_falls_back_to_jsonld() -> None:
    code, out, _ = await scout("detect", "--no-fetch", "https://careers.example.com/open-roles", env={})
    assert code == 0
    assert json.loads(out) == {"ats": "jsonld", "board": "https://careers.example.com/open-roles"}


async def test_detect_of_a_non_url_fails() -> None:
    code, _, err = await scout("detect", "ftp://example.com/x", env={})
    assert code == 1
    assert "invalid_url" in err


async def test_fetch_of_workday_and_smartrecruiters_prints_descriptions_from_their_details() -> None:
    # Given boards whose lists carry no description
    fake = FakeAts(
        workday={("acme", "External"): [workday_posting(n) for n in range(2)]},
        smartrecruiters={"Acme": [smartrecruiters_posting(n) for n in range(2)]},
    )
    async with fake.server() as server:
        env = ats_environment(server.url)
        # When each is fetched
        runs = [
            await scout(
                "fetch",
                "--ats",
                "workday",
                "--board",
                "https://acme.wd5.myworkdayjobs.com/External",
                "--json",
                env=env,
            ),
            await scout("fetch", "--ats", "smartrecruiters", "--board", "Acme", "--json", env=env),
        ]
    # Then every printed posting has the description its detail page holds
    for code, out, err in runs:
        assert code == 0, err
        postings = [json.loads(line) for line in out.splitlines()]
        assert len(postings) == 2
        assert all(posting["description_html"] and posting["description_text"] for posting in postings)
        assert "details: 2 fetched, 0 failed" in err
