"""Posting descriptions made safe to serve: an allow-list HTML sanitiser (nh3, i.e. Ammonia).

Descriptions come from thousands of employers' ATS accounts and a front end renders them, so
everything that can run, load or submit is removed: scripts (with their content), event
handlers, ``style``, ``javascript:`` and ``data:`` URLs, iframes (``srcdoc`` included), forms,
SVG and MathML. What is left is formatting: paragraphs, headings, lists, tables, emphasis and
links, each link forced to ``rel="nofollow noopener"``.
"""

from __future__ import annotations

import nh3

_TAGS = frozenset(
    {
        *("a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small"),
        *("span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u"),
        "ul",
    }
)
# ``class`` carries no behaviour and lets a front end style an employer's sections; ``style``
# is left out (it can hide, overlay or load).
_ATTRIBUTES_ON_EVERY_TAG = frozenset({"class", "dir", "lang"})
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
# Content dropped with the element, not kept as text (nh3 keeps the text of other removed tags).
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math", "form", "select"}
)
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_CLEANER = nh3.Cleaner(
    tags=set(_TAGS),
    clean_content_tags=set(_DROPPED_WITH_CONTENT),
    attributes={
        "*": set(_ATTRIBUTES_ON_EVERY_TAG),
        **{tag: set(names) for tag, names in _ATTRIBUTES.items()},
    },
    url_schemes=set(_URL_SCHEMES),
    link_rel="nofollow noopener",
    strip_comments=True,
)


class SafeHtml(str):
    """HTML this module sanitised: a posting takes it as it is instead of sanitising it again."""

    __slots__ = ()


def sanitise_html(html: str | None) -> SafeHtml | None:
    """Allow-listed HTML, or None when nothing but whitespace is left."""
    if html is None:
        return None
    if type(html) is SafeHtml:
        return html
    cleaned = _CLEANER.clean(html).strip()
    return SafeHtml(cleaned) if cleaned else None
