"""Descriptions are sanitised to an allow-list of formatting before they are stored or served."""

from __future__ import annotations

import pytest

from scout.jobs.posting import Posting
from scout.jobs.safe_html import sanitise_html

HOSTILE = (
    "<p>Join us<script>alert('script')</script></p>"
    '<img src="x" onerror="alert(\'onerror\')">'
    "<a href=\"javascript:alert('link')\">apply</a>"
    '<svg onload="alert(\'svg\')"><circle r="1"/></svg>'
    "<p>&lt;script&gt;alert('encoded')&lt;/script&gt;</p>"
    '<iframe srcdoc="&lt;script&gt;alert(\'srcdoc\')&lt;/script&gt;"><iframe src="https://evil.example"></iframe></iframe>'
    '<form action="https://evil.example"><input name="card"><button>Pay</button></form>'
    '<p style="position:fixed;top:0">cover</p>'
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>'
    '<div onclick="alert(\'click\')" class="benefits">Benefits</div>'
)


@pytest.fixture(scope="module")
def cleaned() -> str:
    result = sanitise_html(HOSTILE)
    assert result is not None
    return result


@pytest.mark.parametrize(
    "forbidden",
    [
        "<script",
        "onerror",
        "onload",
        "onclick",
        "javascript:",
        "<svg",
        "<iframe",
        "srcdoc",
        "<form",
        "<input",
    ],
)
def test_nothing_that_runs_loads_or_submits_survives(cleaned: str, forbidden: str) -> None:
    assert forbidden not in cleaned.lower()


def test_style_attributes_and_data_urls_are_removed(cleaned: str) -> None:
    assert "style=" not in cleaned
    assert "data:" not in cleaned
    assert "<p>cover</p>" in cleaned


def test_script_content_is_dropped_not_kept_as_text(cleaned: str) -> None:
    assert "alert('script')" not in cleaned
    assert "alert('svg')" not in cleaned


def test_entity_encoded_script_stays_inert_text(cleaned: str) -> None:
    # Given text that only looks like a tag, it stays escaped: shown, never parsed as markup
    assert "<p>&lt;script&gt;alert('encoded')&lt;/script&gt;</p>" in cleaned


def test_formatting_and_classes_are_kept(cleaned: str) -> None:
    assert "<p>Join us</p>" in cleaned
    assert '<div class="benefits">Benefits</div>' in cleaned


def test_links_are_forced_to_nofollow_noopener() -> None:
    html = '<a href="https://acme.example/apply" rel="opener" target="_blank">Apply</a>'
    assert sanitise_html(html) == '<a href="https://acme.example/apply" rel="nofollow noopener">Apply</a>'


def test_a_link_with_a_forbidden_scheme_loses_its_target(cleaned: str) -> None:
    assert '<a rel="nofollow noopener">apply</a>' in cleaned


def test_markup_that_sanitises_to_nothing_is_no_description() -> None:
    assert sanitise_html("<script>alert(1)</script>  ") is None
    assert sanitise_html(None) is None


def test_every_posting_is_sanitised_whatever_its_adapter_gave() -> None:
    posting = Posting(ats="lever", board="acme", external_id="1", title="Engineer", description_html=HOSTILE)
    assert posting.description_html is not None
    assert "<script" not in posting.description_html
    assert "onerror" not in posting.description_html
