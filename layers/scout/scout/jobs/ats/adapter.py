"""The shape every ATS module shares, and the board-id checks they have in common."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from scout.errors import InvalidBoard
from scout.jobs.fetching import AtsSession
from scout.jobs.posting import AtsKind, Posting
from scout.jobs.results import FetchResult, MalformedPosting
from scout.settings import Settings


@dataclass(frozen=True)
class AtsAdapter:
    kind: AtsKind
    # Checks a board id and returns its canonical spelling; raises InvalidBoard.
    canonical_board: Callable[[str], str]
    # The board a careers/job/API URL on this ATS's hosts belongs to, without fetching anything.
    board_from_url: Callable[[httpx.URL], str | None]
    fetch: Callable[[str, AtsSession, Settings], Awaitable[FetchResult]]
    # Kinds whose list leaves out the description (Workday, SmartRecruiters): the posting
    # completed from its detail page, given the board, the list's posting and its detail key.
    fetch_detail: Callable[[str, Posting, str, AtsSession, Settings], Awaitable[Posting]] | None = None


def merged_posting(listed: Posting, detail: dict[str, Any]) -> Posting:
    """The list's posting with every field the detail states (not None, not empty) winning.

    Validated again, so the annualised salary and the sanitised HTML follow the merged fields.
    """
    stated = {key: value for key, value in detail.items() if value is not None and value != []}
    return Posting.model_validate({**listed.model_dump(), **stated})


# Board tokens, Lever sites, Ashby names and SmartRecruiters ids are single URL path segments.
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def looks_like_token(text: str) -> bool:
    return bool(_TOKEN.match(text)) and ".." not in text


def board_token(board: str, kind: str) -> str:
    token = board.strip()
    if not looks_like_token(token):
        raise InvalidBoard(f"{board!r} is not a {kind} board id (letters, digits, '.', '_' and '-')")
    return token


def first_path_segment(url: httpx.URL, *, after: tuple[str, ...] = ()) -> str | None:
    """The path segment following the ``after`` prefix, if it looks like a board token."""
    segments = [segment for segment in url.path.split("/") if segment]
    if segments[: len(after)] != list(after) or len(segments) <= len(after):
        return None
    candidate = segments[len(after)]
    return candidate if looks_like_token(candidate) else None


def api_url(base_url: str, *segments: str) -> str:
    """The settings' scheme and host plus the documented path, each segment escaped."""
    return base_url.rstrip("/") + "/" + "/".join(quote(segment, safe="") for segment in segments)


def required_text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise MalformedPosting(f"posting has no {key!r}")
    return " ".join(value.split())


def html_or_none(value: Any) -> str | None:
    """An HTML fragment as given, or None when absent or blank."""
    return value if isinstance(value, str) and value.strip() else None


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (optional nested objects)."""
    return value if isinstance(value, dict) else {}


def objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects in ``value`` if it is an array (optional nested arrays)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
