"""Realistic ATS payloads for tests and benchmarks: the fixture files, and generated boards.

Generated items follow each API's documented shape (the same one the fixtures under
``tests/fixtures/ats`` show in full) and differ by a number ``n``, so a test can build a
board of any size.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ats"
_EPOCH = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def greenhouse_job(n: int, board: str = "acme") -> dict[str, Any]:
    published = _EPOCH + timedelta(hours=n)
    return {
        "id": 4000000 + n,
        "internal_job_id": 3000000 + n,
        "title": f"Software Engineer {n}",
        "updated_at": (published + timedelta(days=2)).isoformat(),
        "first_published": published.isoformat(),
        "requisition_id": f"REQ-{n:04d}",
        "location": {"name": "Berlin, Germany"},
        "absolute_url": f"https://boards.greenhouse.io/{board}/jobs/{4000000 + n}",
        "language": "en",
        "company_name": "Acme",
        "metadata": [
            {"id": 77, "name": "Employment Type", "value": "Full-time", "value_type": "single_select"}
        ],
        "content": "&lt;p&gt;Build things &amp;amp; ship them.&lt;/p&gt;",
        "departments": [{"id": 10, "name": "Engineering", "parent_id": None, "child_ids": []}],
        "offices": [
            {"id": 20, "name": "Berlin", "location": "Berlin, Germany", "parent_id": None, "child_ids": []}
        ],
    }


def lever_posting(n: int, site: str = "acme") -> dict[str, Any]:
    posting_id = f"5ac21346-8e0c-4494-8e7a-{n:012d}"
    return {
        "id": posting_id,
        "text": f"Account Executive {n}",
        "categories": {
            "commitment": "Full-time",
            "department": "Sales",
            "location": "Toronto, ON",
            "team": "Mid-Market",
            "allLocations": ["Toronto, ON"],
        },
        "country": "CA",
        "createdAt": int((_EPOCH + timedelta(hours=n)).timestamp() * 1000),
        "descriptionPlain": "Sell things.",
        "description": "<div>Sell things.</div>",
        "lists": [{"text": "What you'll do", "content": "<li>Close deals</li>"}],
        "additional": "<div>Benefits.</div>",
        "additionalPlain": "Benefits.",
        "hostedUrl": f"https://jobs.lever.co/{site}/{posting_id}",
        "applyUrl": f"https://jobs.lever.co/{site}/{posting_id}/apply",
        "workplaceType": "hybrid",
    }


def ashby_job(n: int, board: str = "acme") -> dict[str, Any]:
    job_id = f"0c5f8a3e-1d2b-4c6f-9a7e-{n:012d}"
    return {
        "id": job_id,
        "title": f"Product Designer {n}",
        "location": "New York, NY",
        "secondaryLocations": [],
        "department": "Design",
        "team": "Product Design",
        "isListed": True,
        "isRemote": False,
        "workplaceType": "OnSite",
        "descriptionHtml": "<p>Design things.</p>",
        "descriptionPlain": "Design things.",
        "publishedAt": (_EPOCH + timedelta(hours=n)).isoformat(),
        "employmentType": "FullTime",
        "jobUrl": f"https://jobs.ashbyhq.com/{board}/{job_id}",
        "applyUrl": f"https://jobs.ashbyhq.com/{board}/{job_id}/application",
    }


def workday_posting(n: int, *, suffix: str = "", location: str = "Austin, TX") -> dict[str, Any]:
    requisition = f"JR{100000 + n}"
    city = location.split(",")[0].replace(" ", "-")
    return {
        "title": f"Data Engineer {n}",
        "externalPath": f"/job/{city}/Data-Engineer-{n}_{requisition}{suffix}",
        "locationsText": location,
        "postedOn": "Posted 3 Days Ago",
        "bulletFields": [requisition],
    }


def workday_detail(
    listing: dict[str, Any],
    *,
    description_html: str | None = None,
    additional_locations: list[str] | None = None,
) -> dict[str, Any]:
    """The detail answer (``jobPostingInfo``) of a generated Workday listing."""
    requisition = listing["externalPath"].rsplit("_", 1)[-1]
    return {
        "jobPostingInfo": {
            "id": f"{abs(hash(requisition)):032x}"[:32],
            "title": listing["title"],
            "jobDescription": description_html or f"<p>Build pipelines for {listing['title']}.</p>",
            "location": listing["locationsText"],
            "additionalLocations": additional_locations or [],
            "postedOn": listing["postedOn"],
            "startDate": "2024-04-29",
            "timeType": "Full time",
            "jobReqId": requisition,
            "jobPostingId": listing["externalPath"].rsplit("/", 1)[-1],
            "country": {"descriptor": "United States of America", "id": "bc33aa3152ec42d4995f4791a106ed09"},
            "canApply": True,
            "posted": True,
            "remoteType": "Hybrid",
        },
        "hiringOrganization": {"name": "Acme", "url": ""},
        "similarJobs": [],
        "userAuthenticated": False,
    }


def smartrecruiters_detail(listed: dict[str, Any], *, job_description: str | None = None) -> dict[str, Any]:
    """The posting detail (``jobAd.sections``) of a generated SmartRecruiters list entry."""
    company = listed["company"]["identifier"]
    page = f"https://jobs.smartrecruiters.com/{company}/{listed['id']}"
    return {
        **listed,
        "postingUrl": page,
        "applyUrl": f"{page}?oga=true",
        "jobAd": {
            "sections": {
                "companyDescription": {"title": "Company Description", "text": "<p>We move goods.</p>"},
                "jobDescription": {
                    "title": "Job Description",
                    "text": job_description or f"<p>{listed['name']}: pick and pack orders.</p>",
                },
                "qualifications": {"title": "Qualifications", "text": "<ul><li>Forklift licence</li></ul>"},
                "additionalInformation": {"title": "Additional Information", "text": "<p>Shifts.</p>"},
            }
        },
    }


def smartrecruiters_posting(n: int, company: str = "Acme") -> dict[str, Any]:
    posting_id = str(744000010000000 + n)
    return {
        "id": posting_id,
        "name": f"Warehouse Associate {n}",
        "uuid": f"3f2a0c1e-7b4d-4e8a-9c1f-{n:012d}",
        "refNumber": f"REF{n:05d}",
        "company": {"identifier": company, "name": "Acme Logistics"},
        "releasedDate": (_EPOCH + timedelta(hours=n)).isoformat().replace("+00:00", ".000Z"),
        "location": {"city": "Leipzig", "region": "SN", "country": "de", "remote": False},
        "industry": {"id": "logistics", "label": "Logistics"},
        "department": {"id": "81234", "label": "Operations"},
        "function": {"id": "other", "label": "Other"},
        "typeOfEmployment": {"id": "permanent", "label": "Full-time"},
        "experienceLevel": {"id": "entry_level", "label": "Entry Level"},
        "ref": f"https://api.smartrecruiters.com/v1/companies/{company}/postings/{posting_id}",
    }


def jsonld_job_page(n: int) -> str:
    posting = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": f"Nurse {n}",
        "identifier": {"@type": "PropertyValue", "name": "Acme Health", "value": f"AH-{n}"},
        "datePosted": "2024-05-01",
        "employmentType": "PART_TIME",
        "description": "<p>Care for people.</p>",
        "jobLocation": {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "addressLocality": "Leeds", "addressCountry": "GB"},
        },
    }
    return f'<html><head><script type="application/ld+json">{json.dumps(posting)}</script></head></html>'
