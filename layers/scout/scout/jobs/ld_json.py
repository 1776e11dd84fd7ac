"""schema.org JobPosting data from the ``<script type="application/ld+json">`` blocks of a page.

Careers pages write JSON-LD in every shape the spec allows and several it does not: one
object, an array, an ``@graph``, ``@type`` as a string, a list or a prefixed IRI, postings
inside an ``ItemList`` or under a ``WebPage``; blocks wrapped in CDATA or HTML comments,
entity-encoded as a whole, or carrying raw control characters. This module finds every
JobPosting in all of them and reports the blocks it could not read.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

_WRAPPERS = re.compile(
    r"^\s*(?://\s*|/\*\s*)?(?:<!\[CDATA\[|<!--)\s*(?:\*/)?(?P<body>.*?)(?://\s*|/\*\s*)?(?:\]\]>|-->)\s*(?:\*/)?\s*$",
    re.DOTALL,
)
# JSON allows none of these raw; tabs and newlines are accepted inside strings with strict=False.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_DEPTH = 24


class _LdJsonScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        script_type = (dict(attrs).get("type") or "").split(";")[0].strip().lower()
        self._current = [] if script_type == "application/ld+json" else None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.blocks.append("".join(self._current))
            self._current = None


def ld_json_blocks(page: str) -> list[str]:
    """The text of every JSON-LD script block, in page order."""
    parser = _LdJsonScripts()
    parser.feed(page)
    parser.close()
    return parser.blocks


def parse_block(block: str) -> Any:
    """One block's JSON, repaired where pages commonly break it; ``ValueError`` if unreadable."""
    text = block.strip()
    wrapped = _WRAPPERS.match(text)
    if wrapped:
        text = wrapped["body"].strip()
    text = _CONTROL_CHARACTERS.sub("", text)
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as first_error:
        if "&quot;" in text or "&#" in text:
            try:
                return json.loads(html.unescape(text), strict=False)
            except json.JSONDecodeError:
                pass
        raise ValueError(f"unreadable JSON-LD block: {first_error}") from None


def schema_types(node: dict[str, Any]) -> set[str]:
    """``@type`` as bare names: "JobPosting", ["JobPosting"], "schema:JobPosting", "https://schema.org/JobPosting"."""
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {re.split(r"[/:#]", value)[-1] for value in values if isinstance(value, str) and value}


@dataclass
class JobPostingScan:
    postings: list[dict[str, Any]] = field(default_factory=list)
    # Links from ItemList entries that are not inline JobPostings (the postings live there).
    listed_urls: list[str] = field(default_factory=list)
    item_lists: int = 0
    problems: list[str] = field(default_factory=list)


def scan_job_postings(page: str) -> JobPostingScan:
    scan = JobPostingScan()
    for number, block in enumerate(ld_json_blocks(page), start=1):
        try:
            data = parse_block(block)
        except ValueError as exc:
            scan.problems.append(f"JSON-LD block {number}: {exc}")
            continue
        _walk(data, scan, depth=0)
    return scan


def _walk(node: Any, scan: JobPostingScan, depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            _walk(item, scan, depth + 1)
        return
    if not isinstance(node, dict):
        return
    types = schema_types(node)
    if "JobPosting" in types:
        scan.postings.append(node)
        return
    if "ItemList" in types:
        _item_list(node, scan, depth)
        return
    for value in node.values():
        if isinstance(value, dict | list):
            _walk(value, scan, depth + 1)


def _item_list(node: dict[str, Any], scan: JobPostingScan, depth: int) -> None:
    scan.item_lists += 1
    elements = node.get("itemListElement")
    elements = elements if isinstance(elements, list) else [elements] if elements is not None else []
    declared = node.get("numberOfItems")
    if isinstance(declared, int) and not isinstance(declared, bool) and declared != len(elements):
        scan.problems.append(f"an ItemList declares {declared} items but lists {len(elements)}")
    for element in elements:
        item = element.get("item", element) if isinstance(element, dict) else element
        if isinstance(item, dict) and "JobPosting" in schema_types(item) and _has_content(item):
            scan.postings.append(item)
        elif isinstance(item, dict) and isinstance(item.get("url") or item.get("@id"), str):
            scan.listed_urls.append(item.get("url") or item["@id"])
        elif isinstance(element, dict) and isinstance(element.get("url"), str):
            scan.listed_urls.append(element["url"])
        elif isinstance(item, str):
            scan.listed_urls.append(item)
        else:
            _walk(item, scan, depth + 1)


def _has_content(posting: dict[str, Any]) -> bool:
    """An inline posting with a title, rather than a reference ``{"@type": "JobPosting", "url": ...}``."""
    return isinstance(posting.get("title") or posting.get("name"), str)
