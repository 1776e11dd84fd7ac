"""Monitor requests: what POST /monitors and PATCH /monitors/{id} accept, and what they refuse."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from scout.monitors.models import DEFAULT_MAX_PAGES, MonitorPatch, MonitorRequest


def request(**fields: Any) -> MonitorRequest:
    return MonitorRequest.model_validate({"name": "shop", "urls": ["https://shop.example/"], **fields})


def refusal(**fields: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        MonitorRequest.model_validate({"name": "shop", **fields})
    return str(refused.value)


def test_a_list_of_urls_gets_the_defaults_and_normalised_urls() -> None:
    # Given only a name and pages
    # When the request is read
    monitor = request(urls=["HTTPS://Shop.Example:443/a", "https://shop.example/b#top"])
    # Then the pages are normalised as scan targets, and the rest takes its defaults
    assert monitor.urls == ["https://shop.example/a", "https://shop.example/b#top"]
    assert monitor.max_pages == DEFAULT_MAX_PAGES
    assert (monitor.device, monitor.runs, monitor.schedule, monitor.webhook_url) == ("mobile", 1, None, None)


def test_urls_and_sitemap_together_or_neither_are_refused() -> None:
    # Given both page sources, then none
    # Then each is refused with the rule named
    assert "exactly one of urls and sitemap" in refusal(
        urls=["https://a.example/"], sitemap="https://a.example/s.xml"
    )
    assert "exactly one of urls and sitemap" in refusal()


@pytest.mark.parametrize("max_pages", [0, 501])
def test_max_pages_outside_1_to_500_is_refused(max_pages: int) -> None:
    assert "max_pages" in refusal(sitemap="https://a.example/", max_pages=max_pages)


@pytest.mark.parametrize("runs", [0, 6])
def test_runs_outside_1_to_5_are_refused(runs: int) -> None:
    assert "runs" in refusal(urls=["https://a.example/"], runs=runs)


def test_a_budget_with_an_unknown_key_is_refused_as_post_scans_refuses_it() -> None:
    # Given a misspelt metric
    message = refusal(urls=["https://a.example/"], budget={"metrics": {"largest-paint": 2500}})
    # Then the key is named
    assert "largest-paint" in message


def test_schedules_are_read_with_eventbridge_rules() -> None:
    # Given a rate, a cron and two expressions EventBridge refuses
    assert request(schedule="rate(1 day)").schedule == "rate(1 day)"
    assert request(schedule="cron(0 6 ? * MON-FRI *)").schedule == "cron(0 6 ? * MON-FRI *)"
    # Then a wrong plural and a cron with both day fields are refused
    assert "schedule" in refusal(urls=["https://a.example/"], schedule="rate(1 days)")
    assert "schedule" in refusal(urls=["https://a.example/"], schedule="cron(0 6 * * MON *)")
    assert "schedule" in refusal(urls=["https://a.example/"], schedule="every day")


def test_a_webhook_must_be_https() -> None:
    # Given a plain-http receiver and one with credentials
    assert "https" in refusal(urls=["https://a.example/"], webhook_url="http://hooks.example/in")
    assert "webhook_url" in refusal(
        urls=["https://a.example/"], webhook_url="https://user:pw@hooks.example/in"
    )
    # Then an https one is kept
    assert request(webhook_url="https://hooks.example/in").webhook_url == "https://hooks.example/in"


def test_pages_that_are_not_web_urls_are_refused() -> None:
    assert "urls" in refusal(urls=["ftp://a.example/file"])
    assert "sitemap" in refusal(sitemap="javascript:alert(1)")


def test_empty_globs_and_unknown_fields_are_refused() -> None:
    assert "glob" in refusal(urls=["https://a.example/"], exclude=[""])
    assert "crawl_depth" in refusal(urls=["https://a.example/"], crawl_depth=3)


def test_a_patch_keeps_what_it_does_not_name_and_can_clear_the_schedule() -> None:
    # Given a patch that clears the schedule and sets a budget
    patch = MonitorPatch.model_validate({"schedule": None, "budget": {"scores": {"performance": 0.9}}})
    # Then only those two fields change, the budget as its limits
    assert patch.changes() == {
        "schedule": None,
        "budget": {"scores": {"performance": 0.9}, "metrics": {}, "axe": {}},
    }


def test_a_patch_cannot_null_a_required_field_or_name_both_page_sources() -> None:
    with pytest.raises(ValidationError, match="name cannot be null"):
        MonitorPatch.model_validate({"name": None})
    with pytest.raises(ValidationError, match="at most one of urls and sitemap"):
        MonitorPatch.model_validate({"urls": ["https://a.example/"], "sitemap": "https://a.example/"})
