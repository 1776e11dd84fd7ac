"""Which ATS and board a careers URL belongs to.

Board pages, job pages, API URLs, EU hosts and both Workday URL shapes are recognised from
the URL alone. Any other URL is fetched (through the egress guard) and searched for an
embedded board (a Greenhouse embed script, links to Lever, Ashby, Workday or SmartRecruiters);
failing that, the page itself is the board, read as schema.org JSON-LD.
"""

from __future__ import annotations

import html
import re
from collections import Counter

import httpx
from pydantic import BaseModel, ConfigDict

from scout.errors import BlockedTarget, InvalidUrl, ScoutError
from scout.jobs import clients
from scout.jobs.ats import jsonld
from scout.jobs.boards import ADAPTERS
from scout.jobs.fetching import DEFAULT_POLICY, AtsSession, FetchPolicy
from scout.jobs.posting import AtsKind
from scout.settings import Settings

_HAS_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d)", re.IGNORECASE)  # "host:8080" is not a scheme
# Absolute or protocol-relative URLs in markup and inline scripts.
_URLS_IN_PAGE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:/[^\s"'<>\\)`]*)?""")


class DetectedBoard(BaseModel):
    model_config = ConfigDict(frozen=True)

    ats: AtsKind
    board: str


def parse_careers_url(text: str) -> httpx.URL:
    """An absolute http(s) URL; a bare host and path ("jobs.lever.co/acme") gets https://."""
    raw = text.strip()
    if raw and not _HAS_SCHEME.match(raw) and not raw.startswith("//"):
        raw = "https://" + raw
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError):
        raise InvalidUrl(f"{text!r} is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidUrl(f"{text!r} is not an http(s) URL")
    return url


def detect_from_url(url: httpx.URL | str) -> DetectedBoard | None:
    """The ATS and board named by the URL itself; None when the URL is on no ATS host."""
    parsed = url if isinstance(url, httpx.URL) else parse_careers_url(url)
    parsed = parsed.copy_with(host=parsed.host.lower())
    for adapter in ADAPTERS.values():
        board = adapter.board_from_url(parsed)
        if board is not None:
            return DetectedBoard(ats=adapter.kind, board=adapter.canonical_board(board))
    return None


def detect_embedded(page: str) -> DetectedBoard | None:
    """The board a careers page embeds or links to most often, if any."""
    found: Counter[DetectedBoard] = Counter()
    for match in _URLS_IN_PAGE.finditer(page):
        candidate = html.unescape(match.group(0))
        if candidate.startswith("//"):
            candidate = "https:" + candidate
        try:
            detected = detect_from_url(candidate)
        except ScoutError:
            continue
        if detected is not None:
            found[detected] += 1
    return found.most_common(1)[0][0] if found else None


async def detect_board(
    url: str,
    *,
    client: httpx.AsyncClient | None = None,
    settings: Settings,
    policy: FetchPolicy | None = None,
    fetch_page: bool = True,
) -> DetectedBoard:
    """The ATS kind and board of a careers URL, fetching the page only when the URL says nothing.

    A page that cannot be fetched still falls back to ``jsonld``, except when the egress policy
    refuses its address: that is reported, not stored as a source.
    """
    parsed = parse_careers_url(url)
    detected = detect_from_url(parsed)
    if detected is not None:
        return detected
    page_board = jsonld.canonical_board(str(parsed))
    if fetch_page:
        session = AtsSession(
            client or clients.careers_page_client(settings), "jsonld", policy or DEFAULT_POLICY
        )
        try:
            page = await session.get_page(page_board)
        except (BlockedTarget, InvalidUrl):
            raise
        except ScoutError:
            page = None
        if page is not None:
            embedded = detect_embedded(page.text)
            if embedded is not None:
                return embedded
    return DetectedBoard(ats="jsonld", board=page_board)
