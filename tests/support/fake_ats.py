"""A fake of all six ATS kinds behind one loopback server, at the documented paths.

Point the ATS base-URL settings (``GREENHOUSE_API_URL`` ... ``WORKDAY_BASE_URL``) at
``server.url``; careers pages are served from ``pages``. Boards are plain lists of raw
postings (see ``ats_payloads``), so a test or benchmark sets up exactly what it needs::

    fake = FakeAts(greenhouse={"acme": [greenhouse_job(n) for n in range(3)]})
    async with fake.server(latency=0.05) as server:
        ...

Workday and SmartRecruiters also answer each posting's detail: ``workday_details`` /
``smartrecruiters_details`` when a test sets one, otherwise one generated from the list entry;
``detail_failures`` maps a posting (Workday ``externalPath``, SmartRecruiters id) to the HTTP
status its detail answers with; ``detail_requests`` counts detail requests per posting.

Quirks a test can turn on: ``workday_offset_clamp`` (offsets at or past it answer page one
again), ``greenhouse_total_drift`` (meta.total off by that much), ``lever_ignores_skip``,
``page_size_cap``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.support.ats_payloads import smartrecruiters_detail, workday_detail
from tests.support.http_server import LoopbackServer, Request, Response

_GREENHOUSE = re.compile(r"^/v1/boards/(?P<board>[^/]+)/jobs$")
_LEVER = re.compile(r"^/v0/postings/(?P<board>[^/]+)$")
_ASHBY = re.compile(r"^/posting-api/job-board/(?P<board>[^/]+)$")
_WORKDAY = re.compile(r"^/wday/cxs/(?P<tenant>[^/]+)/(?P<site>[^/]+)/jobs$")
_SMARTRECRUITERS = re.compile(r"^/v1/companies/(?P<board>[^/]+)/postings$")
_WORKDAY_DETAIL = re.compile(r"^/wday/cxs/(?P<tenant>[^/]+)/(?P<site>[^/]+)(?P<path>/job/.+)$")
_SMARTRECRUITERS_DETAIL = re.compile(r"^/v1/companies/(?P<board>[^/]+)/postings/(?P<posting_id>[^/]+)$")

WORKDAY_MAX_LIMIT = 20
SMARTRECRUITERS_MAX_LIMIT = 100


@dataclass
class FakeAts:
    greenhouse: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lever: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ashby: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # keyed by (tenant, site)
    workday: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    smartrecruiters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    workday_offset_clamp: int | None = None
    greenhouse_total_drift: int = 0
    # The most postings any page holds, whatever the client asks for (Lever, SmartRecruiters, Workday).
    page_size_cap: int | None = None
    lever_ignores_skip: bool = False
    workday_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    smartrecruiters_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    detail_failures: dict[str, int] = field(default_factory=dict)
    detail_requests: Counter[str] = field(default_factory=Counter)

    def server(self, **options: Any) -> LoopbackServer:
        return LoopbackServer(self.handle, **options)

    def handle(self, request: Request) -> Response:
        routes = (
            ("GET", _GREENHOUSE, self._greenhouse),
            ("GET", _LEVER, self._lever),
            ("GET", _ASHBY, self._ashby),
            ("POST", _WORKDAY, self._workday),
            ("GET", _SMARTRECRUITERS, self._smartrecruiters),
            ("GET", _WORKDAY_DETAIL, self._workday_detail),
            ("GET", _SMARTRECRUITERS_DETAIL, self._smartrecruiters_detail),
        )
        for method, pattern, route in routes:
            match = pattern.match(request.path)
            if match and request.method == method:
                return route(request, **match.groupdict())
        if request.method == "GET" and request.path in self.pages:
            return Response.html(self.pages[request.path])
        return Response.html("<html><body>Not Found</body></html>", status=404)

    def _capped(self, limit: int) -> int:
        return limit if self.page_size_cap is None else min(limit, self.page_size_cap)

    def _greenhouse(self, request: Request, board: str) -> Response:
        if board not in self.greenhouse:
            return Response.json({"status": 404, "error": "Job not found"}, status=404)
        jobs = self.greenhouse[board]
        if request.param("content") != "true":
            jobs = [
                {k: v for k, v in job.items() if k not in ("content", "departments", "offices")}
                for job in jobs
            ]
        return Response.json({"jobs": jobs, "meta": {"total": len(jobs) + self.greenhouse_total_drift}})

    def _lever(self, request: Request, board: str) -> Response:
        if board not in self.lever:
            return Response.json({"ok": False, "error": "Document not found"}, status=404)
        if request.param("mode") != "json":
            return Response.html("<html><body>Jobs</body></html>")
        skip = 0 if self.lever_ignores_skip else int(request.param("skip", "0") or 0)
        limit = int(request.param("limit", "0") or 0) or len(self.lever[board])
        limit = self._capped(limit)
        return Response.json(self.lever[board][skip : skip + limit])

    def _ashby(self, request: Request, board: str) -> Response:
        if board not in self.ashby:
            return Response.json({"success": False, "errors": ["Job board not found"]}, status=404)
        jobs = self.ashby[board]
        if request.param("includeCompensation") != "true":
            jobs = [{k: v for k, v in job.items() if k != "compensation"} for job in jobs]
        return Response.json({"apiVersion": "1", "jobs": jobs})

    def _workday(self, request: Request, tenant: str, site: str) -> Response:
        postings = self.workday.get((tenant, site))
        if postings is None:
            return Response.json({"errorCode": "HTTP_404", "message": "Not Found"}, status=404)
        body = request.json() or {}
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", WORKDAY_MAX_LIMIT))
        if limit > WORKDAY_MAX_LIMIT:
            return Response.json({"errorCode": "HTTP_400", "message": "limit too large"}, status=400)
        if self.workday_offset_clamp is not None and offset >= self.workday_offset_clamp:
            offset = 0
        page = postings[offset : offset + self._capped(limit)]
        # Workday only counts on the first page; later pages say 0.
        total = len(postings) if body.get("offset", 0) == 0 else 0
        return Response.json({"total": total, "jobPostings": page, "facets": [], "userAuthenticated": False})

    def _smartrecruiters(self, request: Request, board: str) -> Response:
        postings = self.smartrecruiters.get(board, [])
        offset = int(request.param("offset", "0") or 0)
        limit = self._capped(min(int(request.param("limit", "10") or 10), SMARTRECRUITERS_MAX_LIMIT))
        return Response.json(
            {
                "offset": offset,
                "limit": limit,
                "totalFound": len(postings),
                "content": postings[offset : offset + limit],
            }
        )

    def _detail_failure(self, key: str) -> Response | None:
        self.detail_requests[key] += 1
        status = self.detail_failures.get(key)
        if status is None:
            return None
        return Response.json({"errorCode": f"HTTP_{status}", "message": "detail failed"}, status=status)

    def _workday_detail(self, request: Request, tenant: str, site: str, path: str) -> Response:
        failure = self._detail_failure(path)
        if failure is not None:
            return failure
        if path in self.workday_details:
            return Response.json(self.workday_details[path])
        listings = self.workday.get((tenant, site), [])
        listing = next((raw for raw in listings if raw["externalPath"] == path), None)
        if listing is None:
            return Response.json({"errorCode": "HTTP_404", "message": "Not Found"}, status=404)
        # The detail names every place the requisition is listed at, the other ones as additional.
        requisition = (listing.get("bulletFields") or [None])[0]
        others = [
            raw["locationsText"]
            for raw in listings
            if raw is not listing and requisition and (raw.get("bulletFields") or [None])[0] == requisition
        ]
        return Response.json(workday_detail(listing, additional_locations=others))

    def _smartrecruiters_detail(self, request: Request, board: str, posting_id: str) -> Response:
        failure = self._detail_failure(posting_id)
        if failure is not None:
            return failure
        if posting_id in self.smartrecruiters_details:
            return Response.json(self.smartrecruiters_details[posting_id])
        listed = next((raw for raw in self.smartrecruiters.get(board, []) if raw["id"] == posting_id), None)
        if listed is None:
            return Response.json({"message": "Posting not found"}, status=404)
        return Response.json(smartrecruiters_detail(listed))


def settings_for(base_url: str, **overrides: str) -> Any:
    """Settings with every ATS base URL pointing at ``base_url`` (a fake ATS server)."""
    from scout.settings import Settings

    values = {
        "ALLOWED_HOSTS": "localhost",
        "GREENHOUSE_API_URL": base_url,
        "LEVER_API_URL": base_url,
        "LEVER_EU_API_URL": base_url,
        "ASHBY_API_URL": base_url,
        "SMARTRECRUITERS_API_URL": base_url,
        "WORKDAY_BASE_URL": base_url,
        **overrides,
    }
    return Settings(**values)


def ats_environment(base_url: str) -> dict[str, str]:
    """The same, as environment variables for a ``scout`` subprocess."""
    return {
        "ALLOWED_HOSTS": "localhost",
        "GREENHOUSE_API_URL": base_url,
        "LEVER_API_URL": base_url,
        "LEVER_EU_API_URL": base_url,
        "ASHBY_API_URL": base_url,
        "SMARTRECRUITERS_API_URL": base_url,
        "WORKDAY_BASE_URL": base_url,
    }
