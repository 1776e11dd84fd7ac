"""Finding JobPostings in the JSON-LD of real-world careers pages."""

from __future__ import annotations

import json

from scout.jobs.ld_json import ld_json_blocks, parse_block, scan_job_postings
from tests.support.ats_payloads import fixture_text


def page(*blocks: str) -> str:
    scripts = "".join(f'<script type="application/ld+json">{block}</script>' for block in blocks)
    return f"<html><head>{scripts}<script>var x = 1;</script></head><body></body></html>"


def posting(title: str, **extra: object) -> dict[str, object]:
    return {"@context": "https://schema.org", "@type": "JobPosting", "title": title, **extra}


def test_only_json_ld_script_blocks_are_read() -> None:
    html = page('{"a": 1}') + '<script type="text/javascript">{"b": 2}</script>'
    assert ld_json_blocks(html) == ['{"a": 1}']


def test_postings_are_found_in_objects_arrays_and_graphs() -> None:
    scan = scan_job_postings(fixture_text("jsonld_graph_page.html"))
    assert [p["title"] for p in scan.postings] == [
        "Registered Nurse &ndash; ICU",
        "Medical Coder",
        "Pharmacy Assistant",
    ]
    assert scan.problems == []


def test_type_may_be_a_list_or_a_prefixed_iri() -> None:
    html = page(
        json.dumps(posting("A") | {"@type": ["JobPosting", "Thing"]}),
        json.dumps(posting("B") | {"@type": "https://schema.org/JobPosting"}),
    )
    assert [p["title"] for p in scan_job_postings(html).postings] == ["A", "B"]


def test_a_posting_under_a_web_page_is_found() -> None:
    html = page(json.dumps({"@type": "WebPage", "mainEntity": posting("Nested")}))
    assert [p["title"] for p in scan_job_postings(html).postings] == ["Nested"]


def test_cdata_entity_encoding_and_control_characters_are_tolerated() -> None:
    scan = scan_job_postings(fixture_text("jsonld_quirks_page.html"))
    assert [p["title"] for p in scan.postings] == [
        "Robotics Technician",
        "Firmware Engineer",
        "Field Service\tEngineer",
    ]
    assert scan.problems == []


def test_comment_wrapped_blocks_are_read() -> None:
    assert parse_block('<!-- {"@type": "JobPosting"} -->') == {"@type": "JobPosting"}
    assert parse_block('/*<![CDATA[*/ {"a": 1} /*]]>*/') == {"a": 1}


def test_an_unreadable_block_is_reported_and_the_others_still_read() -> None:
    scan = scan_job_postings(page('{"@type": "JobPosting", "title": ', json.dumps(posting("Fine"))))
    assert [p["title"] for p in scan.postings] == ["Fine"]
    assert len(scan.problems) == 1


def test_item_lists_give_inline_postings() -> None:
    items = [{"@type": "ListItem", "position": n, "item": posting(f"Job {n}")} for n in (1, 2)]
    scan = scan_job_postings(
        page(json.dumps({"@type": "ItemList", "numberOfItems": 2, "itemListElement": items}))
    )
    assert [p["title"] for p in scan.postings] == ["Job 1", "Job 2"]
    assert scan.listed_urls == []
    assert scan.problems == []


def test_item_lists_of_links_give_the_pages_to_follow() -> None:
    scan = scan_job_postings(fixture_text("jsonld_listing_page.html"))
    assert scan.postings == []
    assert scan.listed_urls == ["/vacancies/1", "/vacancies/2", "/vacancies/3"]
    assert scan.item_lists == 1


def test_an_item_list_shorter_than_it_declares_is_a_problem() -> None:
    items = [{"@type": "ListItem", "item": posting("Only")}]
    scan = scan_job_postings(
        page(json.dumps({"@type": "ItemList", "numberOfItems": 25, "itemListElement": items}))
    )
    assert scan.problems == ["an ItemList declares 25 items but lists 1"]
