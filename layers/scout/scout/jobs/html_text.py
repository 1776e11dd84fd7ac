"""Plain text from a posting's HTML description (what search and previews use).

The text is read from the sanitised HTML (scout.jobs.safe_html), never from what the ATS sent:
the sanitiser has already dropped scripts and styles with their content and serialised the rest
as well-formed, lower-case markup with escaped text, so one split at its tags is a complete
reading of it. That pass replaced an ``html.parser`` walk of the raw
HTML that cost about two thirds of a poll's CPU per posting (bench/results/polling.md).
"""

from __future__ import annotations

import html as html_entities
import re
from typing import Any

from scout.jobs.safe_html import SafeHtml, sanitise_html

_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figcaption"),
        *("figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav"),
        *("ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "ul"),
    }
)
# Runs that need rewriting only (single spaces are left alone: matching each cost more than
# all the rest of the conversion).
_SPACES = re.compile(r"  +|[\t\r\f\v\xa0][ \t\r\f\v\xa0]*")
_BLANK_LINES = re.compile(r"\n\n+")


def text_of_safe_html(safe: str | None) -> str | None:
    """Readable text of sanitised HTML: paragraphs separated by a blank line, list items as ``- item``.

    Sanitised markup has no ``<`` or ``>`` outside tags (text is escaped), so splitting at
    ``<`` yields one tag per piece, its text after the ``>``.
    """
    if not safe:
        return None
    # Line breaks in the markup are only whitespace; the tags say where lines break.
    pieces = safe.replace("\n", " ").split("<")
    out = [pieces[0]]
    for piece in pieces[1:]:
        end = piece.find(">")
        tag, after = piece[:end], piece[end + 1 :]
        closing = tag.startswith("/")
        name = (tag[1:] if closing else tag).split(" ", 1)[0].rstrip("/").lower()
        if name == "br":
            out.append("\n")
        elif name == "li":
            if not closing:
                out.append("\n- ")
        elif name in _BLOCKS:
            out.append("\n\n")
        elif name in ("td", "th") and not closing:
            out.append(" ")
        out.append(after)
    text = "".join(out)
    if "&" in text:
        text = html_entities.unescape(text)
    lines = [line.strip() for line in _SPACES.sub(" ", text).split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return text or None


def html_to_text(html: str | None) -> str | None:
    """Readable text of any posting HTML (sanitised first)."""
    if not html or not html.strip():
        return None
    return text_of_safe_html(sanitise_html(html))


def description_fields(html: str | None, plain_text: Any = None) -> dict[str, str | None]:
    """A posting's ``description_html`` (sanitised) and ``description_text``, sanitising once.

    ``plain_text`` (an ATS's own plain version) is the text when the HTML yields none.
    """
    safe: SafeHtml | None = sanitise_html(html) if html and html.strip() else None
    text = text_of_safe_html(safe)
    if text is None and isinstance(plain_text, str):
        text = " ".join(plain_text.split()) or None
    return {"description_html": safe, "description_text": text}
