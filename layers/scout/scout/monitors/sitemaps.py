"""Plan a monitor's pages: from a list of URLs, or from a site's sitemaps, safely.

Every request goes through the egress guard (:func:`new_sitemap_client`); each document is
streamed and bounded in wire and decoded bytes; the whole plan is bounded in documents,
index depth, bytes and time. Pages are kept only when they are on the plan's site, pass the
include/exclude globs, and are new after normalisation; ``max_pages`` caps the plan, and
reading stops at the first page over the cap. docs/monitors.md ("Sitemaps") states the rules.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scout.egress.policy import EgressPolicy
from scout.egress.transport import new_guarded_client
from scout.egress.urls import TargetUrl, parse_target_url
from scout.errors import BlockedTarget, DnsFailed, InvalidUrl, ScoutError
from scout.monitors.sitemap_xml import BodyDecoder, SitemapFormatError, SitemapReader

SitemapErrorCode = Literal[
    "sitemap_too_large",
    "sitemap_invalid",
    "sitemap_too_deep",
    "sitemap_too_many",
    "blocked_target",
    "sitemap_unreachable",
    "http_error",
    "timeout",
    "no_pages",
]

MAX_PATTERNS = 50
MAX_PATTERN_LENGTH = 200
MAX_LISTED_URLS = 1000
MAX_REDIRECTS = 5
REQUEST_TIMEOUT_SECONDS = 10.0
ROBOTS_MAX_BYTES = 512 * 1024


class SitemapError(ScoutError):
    """A plan could not be made; ``code`` is one of :data:`SitemapErrorCode`."""

    code = "sitemap_invalid"
    status = 422

    def __init__(self, code: SitemapErrorCode, message: str) -> None:
        super().__init__(message, code=code)


class SitemapLimits(BaseModel):
    """Bounds of one plan. Defaults follow sitemaps.org (50 MB uncompressed per sitemap)."""

    model_config = ConfigDict(frozen=True)

    max_sitemap_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Per document, wire and decoded.")
    max_total_bytes: int = Field(200 * 1024 * 1024, ge=1, description="Decoded, across the plan.")
    max_sitemaps: int = Field(50, ge=1, description="Documents fetched per plan (robots.txt aside).")
    max_depth: int = Field(3, ge=0, description="Index nesting: a root index's children are depth 1.")
    total_seconds: float = Field(60.0, gt=0, description="Wall time of the whole plan.")


class PageSource(BaseModel):
    """Where a monitor's pages come from: ``urls`` or ``sitemap`` (exactly one)."""

    urls: list[str] | None = Field(None, max_length=MAX_LISTED_URLS)
    sitemap: str | None = Field(
        None, description="A sitemap URL, or a site root such as https://example.com/ (robots.txt first)."
    )
    max_pages: int = Field(50, ge=1, le=500)
    include: list[str] = Field(default_factory=list, max_length=MAX_PATTERNS)
    exclude: list[str] = Field(default_factory=list, max_length=MAX_PATTERNS)

    @model_validator(mode="after")
    def _one_source(self) -> PageSource:
        if (self.urls is None) == (self.sitemap is None):
            raise ValueError("give either urls or sitemap, not both and not neither")
        return self

    @field_validator("urls")
    @classmethod
    def _urls_parse(cls, urls: list[str] | None) -> list[str] | None:
        for url in urls or []:
            _parse_or_raise(url, "urls")
        return urls

    @field_validator("sitemap")
    @classmethod
    def _sitemap_parses(cls, sitemap: str | None) -> str | None:
        if sitemap is not None:
            _parse_or_raise(sitemap, "sitemap")
        return sitemap

    @field_validator("include", "exclude")
    @classmethod
    def _patterns_are_paths(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not pattern.startswith(("/", "*")) or len(pattern) > MAX_PATTERN_LENGTH:
                raise ValueError(
                    f"glob {pattern!r} must start with / or * and be at most {MAX_PATTERN_LENGTH} characters"
                )
        return patterns


class PagePlan(BaseModel):
    pages: list[str] = Field(description="Normalised page URLs, in the order they were listed.")
    skipped: int = Field(
        0, description="Entries dropped: other site, excluded, duplicate, invalid, over the cap."
    )
    sitemaps_read: int = Field(0, description="Sitemap documents fetched (robots.txt not counted).")
    capped: bool = Field(False, description="max_pages was reached: later entries were not read.")


def _parse_or_raise(url: str, field_name: str) -> TargetUrl:
    try:
        return parse_target_url(url)
    except InvalidUrl as exc:
        raise ValueError(f"{field_name}: {url!r} is not a valid URL: {exc.message}") from None


def new_sitemap_client(policy: EgressPolicy) -> httpx.AsyncClient:
    """A client that reaches only what ``policy`` allows; each redirect hop is re-checked."""
    client = new_guarded_client(policy, follow_redirects=True, timeout=REQUEST_TIMEOUT_SECONDS)
    client.max_redirects = MAX_REDIRECTS
    return client


async def plan_pages(
    source: PageSource, client: httpx.AsyncClient, *, limits: SitemapLimits | None = None
) -> PagePlan:
    """The pages a monitor's run scans; raise :class:`SitemapError` when no plan can be made."""
    limits = limits or SitemapLimits()
    plan = _PlanBuilder(source)
    if source.urls is not None:
        for url in source.urls:
            if plan.offer(url, site=None):
                break
    else:
        try:
            async with asyncio.timeout(limits.total_seconds):
                await _SitemapCrawl(source.sitemap or "", client, limits, plan).run()
        except TimeoutError:
            raise SitemapError(
                "timeout", f"reading the sitemaps took longer than {limits.total_seconds:g} s"
            ) from None
    if not plan.pages:
        raise SitemapError("no_pages", "no page is left to scan after the site, include and exclude rules")
    return PagePlan(
        pages=plan.pages, skipped=plan.skipped, sitemaps_read=plan.sitemaps_read, capped=plan.capped
    )


def site_of(host: str) -> str:
    """The site a host belongs to: ``www.example.com`` and ``example.com`` are one site."""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") and host.count(".") >= 2 else host


def glob_matches(pattern: str, path: str) -> bool:
    """``*`` matches any run of characters (``/`` included), ``?`` one; the rest is literal.

    Matched without regular expressions (the classic two-pointer wildcard match, at most
    len(pattern) x len(path) steps), so a pattern full of stars cannot backtrack for long.
    """
    p = s = 0
    star_p, star_s = -1, 0
    while s < len(path):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == path[s]):
            p, s = p + 1, s + 1
        elif p < len(pattern) and pattern[p] == "*":
            star_p, star_s = p, s
            p += 1
        elif star_p >= 0:
            p, star_s = star_p + 1, star_s + 1
            s = star_s
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def page_key(target: TargetUrl) -> str:
    """The normalised URL without its fragment: two spellings of one page give one key."""
    return target.origin + target.target


@dataclass
class _PlanBuilder:
    source: PageSource
    pages: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    skipped: int = 0
    sitemaps_read: int = 0
    capped: bool = False

    def offer(self, url: str, *, site: str | None) -> bool:
        """Consider one listed page; True once a page over the cap was met (stop reading)."""
        try:
            target = parse_target_url(url)
        except InvalidUrl:
            self.skipped += 1
            return False
        path = target.target.partition("?")[0]
        key = page_key(target)
        if (
            (site is not None and site_of(target.host) != site)
            or (self.source.include and not any(glob_matches(glob, path) for glob in self.source.include))
            or any(glob_matches(glob, path) for glob in self.source.exclude)
            or key in self.seen
        ):
            self.skipped += 1
            return False
        if len(self.pages) >= self.source.max_pages:
            self.skipped += 1
            self.capped = True
            return True
        self.seen.add(key)
        self.pages.append(key)
        return False


class _SitemapCrawl:
    def __init__(self, start: str, client: httpx.AsyncClient, limits: SitemapLimits, plan: _PlanBuilder):
        self.start = parse_target_url(start)
        self.site = site_of(self.start.host)
        self.client = client
        self.limits = limits
        self.plan = plan
        self.total_bytes = 0
        self.queued: set[str] = set()
        self.queue: deque[tuple[str, int]] = deque()
        self.unqueued = 0  # sitemaps listed beyond max_sitemaps: fetched never, an error if needed

    async def run(self) -> None:
        if self.start.target == "/":
            for url in await self._robots_sitemaps():
                self._enqueue(url, 0, at_end=True)
        else:
            self._enqueue(page_key(self.start), 0, at_end=True)
        while self.queue:
            url, depth = self.queue.popleft()
            if depth > self.limits.max_depth:
                raise SitemapError(
                    "sitemap_too_deep", f"sitemap indexes are nested more than {self.limits.max_depth} deep"
                )
            if await self._read_sitemap(url, depth):
                return
        if self.unqueued:
            raise SitemapError(
                "sitemap_too_many",
                f"the site lists more than {self.limits.max_sitemaps} sitemaps before the plan is full",
            )

    def _enqueue(self, url: str, depth: int, *, at_end: bool = False, position: int = 0) -> bool:
        try:
            target = parse_target_url(url)
        except InvalidUrl:
            self.plan.skipped += 1
            return False
        key = page_key(target)
        if site_of(target.host) != self.site or key in self.queued:
            self.plan.skipped += 1
            return False
        if len(self.queued) >= self.limits.max_sitemaps:
            self.unqueued += 1
            return False
        self.queued.add(key)
        if at_end:
            self.queue.append((key, depth))
        else:
            self.queue.insert(position, (key, depth))
        return True

    async def _robots_sitemaps(self) -> list[str]:
        robots_url = self.start.origin + "/robots.txt"
        async with self._get(robots_url) as response:
            if response.status_code >= 400:
                return [self.start.origin + "/sitemap.xml"]
            body = bytearray()
            async for chunk in self._chunks(response, robots_url, ROBOTS_MAX_BYTES):
                body.extend(chunk)
        listed = []
        for line in body.decode("utf-8", errors="replace").splitlines():
            name, colon, value = line.partition(":")
            if colon and name.strip().lower() == "sitemap" and value.strip():
                listed.append(value.strip())
        return listed or [self.start.origin + "/sitemap.xml"]

    async def _read_sitemap(self, url: str, depth: int) -> bool:
        """Read one document; True when the plan is full."""
        reader = SitemapReader()
        children = 0
        async with self._get(url) as response:
            if response.status_code >= 400:
                raise SitemapError("http_error", f"{url} answered HTTP {response.status_code}")
            self.plan.sitemaps_read += 1
            try:
                decoder = BodyDecoder(response.headers.get("content-encoding", ""))
                decoded = 0
                async for chunk in self._chunks(response, url, self.limits.max_sitemap_bytes):
                    for piece in decoder.feed(chunk):
                        decoded += len(piece)
                        self._count_decoded(url, decoded, len(piece))
                        reader.feed(piece)
                        full, children = self._take(reader, depth, children)
                        if full:
                            return True
                for piece in decoder.finish():
                    decoded += len(piece)
                    self._count_decoded(url, decoded, len(piece))
                    reader.feed(piece)
                reader.finish()
            except SitemapFormatError as exc:
                raise SitemapError("sitemap_invalid", f"{url} is not a valid sitemap: {exc}") from None
            full, children = self._take(reader, depth, children)
            return full

    def _take(self, reader: SitemapReader, depth: int, children: int) -> tuple[bool, int]:
        for entry in reader.take():
            if entry.kind == "sitemap":
                # Children go before what was queued already: pages keep the order they are listed in.
                if self._enqueue(entry.loc, depth + 1, position=children):
                    children += 1
            elif self.plan.offer(entry.loc, site=self.site):
                return True, children
        return False, children

    def _count_decoded(self, url: str, decoded: int, piece: int) -> None:
        self.total_bytes += piece
        if decoded > self.limits.max_sitemap_bytes:
            raise SitemapError(
                "sitemap_too_large", f"{url} is larger than {self.limits.max_sitemap_bytes} bytes decoded"
            )
        if self.total_bytes > self.limits.max_total_bytes:
            raise SitemapError(
                "sitemap_too_large", f"the sitemaps add up to more than {self.limits.max_total_bytes} bytes"
            )

    def _get(self, url: str) -> _GuardedGet:
        return _GuardedGet(self.client, url)

    async def _chunks(self, response: httpx.Response, url: str, limit: int) -> AsyncIterator[bytes]:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise SitemapError("sitemap_too_large", f"{url} declares {declared} bytes, over {limit}")
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > limit:
                raise SitemapError("sitemap_too_large", f"{url} is larger than {limit} bytes")
            yield chunk


class _GuardedGet:
    """``client.stream("GET", url)`` with every failure turned into a :class:`SitemapError`."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._stream = client.stream(
            "GET", url, headers={"Accept-Encoding": "gzip", "Accept": "application/xml, text/xml, text/plain"}
        )
        self._url = url

    async def __aenter__(self) -> httpx.Response:
        try:
            return await self._stream.__aenter__()
        except BaseException as exc:
            raise _as_sitemap_error(exc, self._url) from None

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stream.__aexit__(None, None, None)
        error = exc_info[1]
        if isinstance(error, BaseException) and not isinstance(error, SitemapError | asyncio.CancelledError):
            mapped = _as_sitemap_error(error, self._url)
            if mapped is not error:
                raise mapped from None


def _as_sitemap_error(exc: BaseException, url: str) -> BaseException:
    if isinstance(exc, SitemapError | asyncio.CancelledError | TimeoutError):
        return exc
    if isinstance(exc, BlockedTarget):
        return SitemapError("blocked_target", f"{url}: {exc.message}")
    if isinstance(exc, httpx.TooManyRedirects):
        return SitemapError("http_error", f"{url} redirects more than {MAX_REDIRECTS} times")
    if isinstance(exc, httpx.TimeoutException):
        return SitemapError("timeout", f"{url} did not answer in time")
    if isinstance(exc, DnsFailed | InvalidUrl):
        return SitemapError("sitemap_unreachable", f"{url}: {exc.message}")
    if isinstance(exc, httpx.HTTPError | httpx.InvalidURL):
        return SitemapError("sitemap_unreachable", f"{url} could not be fetched ({exc})")
    return exc
