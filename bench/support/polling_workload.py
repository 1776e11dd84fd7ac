"""The boards the polling benchmark polls: a fixed, realistic mix of the six ATS kinds.

Board sizes follow a long tail (most boards hold a few dozen postings, a few hold hundreds),
drawn from a seeded generator so every run polls the same boards. Lever, Workday and
SmartRecruiters page (100, 20 and 100 postings a page), so their bigger boards take several
requests. A few boards are gone (404), as some always are in a real source list. Postings
carry descriptions of a realistic size (about 2.5 KB of HTML), because parsing them and
storing them is a real part of a poll's cost.
"""

from __future__ import annotations

import html
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.support.ats_payloads import (
    ashby_job,
    greenhouse_job,
    lever_posting,
    smartrecruiters_posting,
    workday_posting,
)
from tests.support.fake_ats import FakeAts

# Sources per kind; the proportions roughly follow how common each ATS is among tech employers.
DEFAULT_MIX: dict[str, int] = {
    "greenhouse": 110,
    "lever": 60,
    "ashby": 50,
    "workday": 40,
    "smartrecruiters": 30,
    "jsonld": 30,
}
# Boards of each kind that no longer exist (the ATS answers 404).
GONE_PER_KIND: dict[str, int] = {"greenhouse": 2, "lever": 1, "ashby": 1, "workday": 1, "jsonld": 1}
SEED = 20261125
WORKDAY_SITE = "External"
JSONLD_PATH = "/careers/"

_PARAGRAPH = (
    "We are looking for someone who enjoys owning problems end to end, from the first customer "
    "conversation to the release and what we learn from it afterwards. You will work closely with "
    "product, design and support, and you will have real say in what we build next."
)
_DUTIES = [
    "Design, build and operate services that thousands of customers rely on every day",
    "Review code and designs with care, and help colleagues grow",
    "Write clear documents that explain trade-offs to people outside engineering",
    "Take part in a humane on-call rotation and improve what pages us",
    "Measure what matters and remove what does not",
]


def description_html(n: int) -> str:
    """About 2.5 KB of the HTML a typical posting carries (sections, lists, a salary line)."""
    duties = "".join(f"<li>{duty} ({n}).</li>" for duty in _DUTIES)
    return (
        f"<h2>About the role</h2><p>{_PARAGRAPH}</p><p>{_PARAGRAPH}</p>"
        f"<h3>What you will do</h3><ul>{duties}</ul>"
        f"<h3>What you bring</h3><ul>{duties}</ul>"
        f"<h3>Benefits</h3><p>{_PARAGRAPH}</p><p>Salary range: 70,000 - 95,000 EUR per year.</p>"
    )


def description_text(n: int) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", description_html(n))).split())


@dataclass(frozen=True)
class BenchSource:
    """A source as the store keeps it, and how many postings its board really has."""

    ats: str
    board: str
    company: str
    postings: int
    gone: bool = False


@dataclass(frozen=True)
class Workload:
    sources: list[BenchSource]
    fake: FakeAts

    def counts(self) -> dict[str, Any]:
        return {
            "sources": len(self.sources),
            "sources_by_kind": dict(Counter(source.ats for source in self.sources)),
            "gone_boards": sum(source.gone for source in self.sources),
            "postings": sum(source.postings for source in self.sources if not source.gone),
            "largest_board": max(source.postings for source in self.sources),
        }


# Between two polls some postings change (retitled, re-dated): one posting in CHURN_SHARE of
# each Workday and SmartRecruiters board gets a new list entry before each timed run, so each
# run also fetches the details of about 2% of those postings, as production polls do.
CHURN_SHARE = 50


def churn(
    workload: Workload, run: int, polled: list[BenchSource] | None = None, share: int = CHURN_SHARE
) -> int:
    """Give one in ``share`` of the postings of each Workday / SmartRecruiters board of
    ``polled`` (None: every board) a new list entry; returns how many changed.

    Each board changes as many postings every run (``share`` apart, starting at ``run``), so
    every run of the same boards fetches as many details and makes as many requests. Only
    boards the next run polls change: a change to a board it skips would still be new to the
    run after it, which would then fetch two runs' worth of details.
    """
    changed = 0
    sources = workload.sources if polled is None else polled
    boards = [
        *(
            workload.fake.workday.get((workday_tenant(s.board), WORKDAY_SITE))
            for s in sources
            if s.ats == "workday"
        ),
        *(workload.fake.smartrecruiters.get(s.board) for s in sources if s.ats == "smartrecruiters"),
    ]
    for board in filter(None, boards):
        for step in range(round(len(board) / share)):
            posting = board[(run + step * share) % len(board)]
            name = "title" if "externalPath" in posting else "name"
            posting[name] = posting[name].split(" (rev ")[0] + f" (rev {run})"
            changed += 1
    return changed


def workday_tenant(board: str) -> str:
    """``tenant007`` of ``https://tenant007.wd5.myworkdayjobs.com/External``."""
    return board.split("//", 1)[1].split(".", 1)[0]


def _board_size(rng: random.Random, kind: str) -> int:
    # Log-normal: median about 25 postings, a tail into the hundreds; Workday tenants and
    # SmartRecruiters companies tend to be larger employers.
    median = {"workday": 45, "smartrecruiters": 40}.get(kind, 25)
    return max(1, min(400, round(rng.lognormvariate(0, 0.9) * median)))


def build_workload(jsonld_base_url: str, mix: dict[str, int] | None = None) -> Workload:
    """The sources and a fake ATS serving their boards (careers pages under ``jsonld_base_url``)."""
    rng = random.Random(SEED)
    fake = FakeAts()
    sources: list[BenchSource] = []
    for kind, count in (mix or DEFAULT_MIX).items():
        gone = GONE_PER_KIND.get(kind, 0)
        for index in range(count):
            size = _board_size(rng, kind)
            source = _add_board(fake, kind, index, size, jsonld_base_url, gone=index < gone)
            sources.append(source)
    # Interleave the kinds, as due sources come from every ATS at once.
    rng.shuffle(sources)
    return Workload(sources, fake)


def _add_board(
    fake: FakeAts, kind: str, index: int, size: int, jsonld_base_url: str, *, gone: bool
) -> BenchSource:
    company = f"Company {kind} {index:03d}"
    token = f"{kind[:2]}-company-{index:03d}"
    numbers = range(1, size + 1)
    board = token
    if kind == "greenhouse" and not gone:
        fake.greenhouse[token] = [_greenhouse(n, token) for n in numbers]
    elif kind == "lever" and not gone:
        fake.lever[token] = [_lever(n, token) for n in numbers]
    elif kind == "ashby" and not gone:
        fake.ashby[token] = [_ashby(n, token) for n in numbers]
    elif kind == "workday":
        tenant = f"tenant{index:03d}"
        board = f"https://{tenant}.wd5.myworkdayjobs.com/{WORKDAY_SITE}"
        if not gone:
            fake.workday[(tenant, WORKDAY_SITE)] = [workday_posting(n) for n in numbers]
    elif kind == "smartrecruiters":
        fake.smartrecruiters[token] = [smartrecruiters_posting(n, token) for n in numbers]
    elif kind == "jsonld":
        board = f"{jsonld_base_url}{JSONLD_PATH}{token}"
        if not gone:
            fake.pages[f"{JSONLD_PATH}{token}"] = careers_page(company, size)
    return BenchSource(kind, board, company, 0 if gone else size, gone)


def _greenhouse(n: int, board: str) -> dict[str, Any]:
    # Greenhouse escapes the HTML once more as entities.
    return {**greenhouse_job(n, board), "content": html.escape(description_html(n))}


def _lever(n: int, site: str) -> dict[str, Any]:
    return {
        **lever_posting(n, site),
        "description": description_html(n),
        "descriptionPlain": description_text(n),
    }


def _ashby(n: int, board: str) -> dict[str, Any]:
    return {
        **ashby_job(n, board),
        "descriptionHtml": description_html(n),
        "descriptionPlain": description_text(n),
    }


def careers_page(company: str, size: int) -> str:
    """A careers page with one schema.org JobPosting block per opening."""
    blocks = []
    for n in range(1, size + 1):
        posting = {
            "@context": "https://schema.org",
            "@type": "JobPosting",
            "title": f"Nurse {n}",
            "identifier": {"@type": "PropertyValue", "name": company, "value": f"JP-{n}"},
            "datePosted": "2024-05-01",
            "employmentType": "PART_TIME",
            "description": description_html(n),
            "hiringOrganization": {"@type": "Organization", "name": company},
            "jobLocation": {
                "@type": "Place",
                "address": {"@type": "PostalAddress", "addressLocality": "Leeds", "addressCountry": "GB"},
            },
        }
        blocks.append(f'<script type="application/ld+json">{json.dumps(posting)}</script>')
    head = f"<title>{html.escape(company)} careers</title>{''.join(blocks)}"
    return f"<!DOCTYPE html><html><head>{head}</head><body></body></html>"
