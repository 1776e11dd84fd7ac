"""Plain-text descriptions derived from posting HTML."""

from __future__ import annotations

from scout.jobs.html_text import html_to_text


def test_paragraphs_are_separated_and_list_items_marked() -> None:
    html = "<p>Intro&nbsp;text</p><ul><li>First</li><li>Second<br>line</li></ul><p>Outro &amp; more</p>"
    assert html_to_text(html) == "Intro text\n\n- First\n- Second\nline\n\nOutro & more"


def test_scripts_and_styles_never_reach_the_text() -> None:
    html = "<style>p{color:red}</style><p>Visible</p><script>alert('x')</script>"
    assert html_to_text(html) == "Visible"


def test_whitespace_runs_collapse() -> None:
    assert html_to_text("<div>  a \n\n  b\t c </div>") == "a b c"


def test_empty_html_has_no_text() -> None:
    assert html_to_text("") is None
    assert html_to_text("<p> </p>") is None
    assert html_to_text(None) is None
