"""Runs, budgets, a page's history and scan diffs through the audit function: real Postgres,
SQS on moto's server. The results are stored as a worker stores them (claim, finish); the
browser-made ones are in test_audit_results_with_engine.py."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from scout.audit.result import (
    AxeNode,
    AxeSummary,
    AxeViolation,
    LighthouseMetrics,
    LighthouseScores,
    LighthouseSummary,
    LighthouseTiming,
    ScanResult,
    Timings,
)
from scout.auth import Strategy
from scout.store.postgres import PostgresStore
from tests.integration.audit_api.calls import call, finish, get, get_json, post, token
from tests.integration.audit_api.conftest import LocalAws
from tests.support.http_events import http_event, json_body
from tests.support.wiring import serving_environment

PAGE = "https://example.com/a"


@pytest.fixture(autouse=True)
def roomy_rate_limit(audit_function: ModuleType, audit_env: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests make more scans than the shared fixture's limit of three an hour allows."""
    audit_env.setenv("SCAN_RATE_LIMIT", "100")
    with serving_environment():
        yield


def violation(rule: str, impact: str, *selectors: str) -> AxeViolation:
    return AxeViolation(
        id=rule,
        impact=impact,  # type: ignore[arg-type]
        help=f"{rule} help",
        nodes=[AxeNode(target=[selector], html=f"<{selector}>") for selector in selectors],
    )


def result(
    url: str = PAGE, *, performance: int = 90, lcp: float = 1800.0, violations: tuple[AxeViolation, ...] = ()
) -> dict[str, Any]:
    """A scan result as the engine reports one (the numbers are this test's own)."""
    counts = {impact: sum(item.impact == impact for item in violations) for impact in ("critical", "serious")}
    scan = ScanResult(
        url=url,
        final_url=url,
        device="mobile",
        status="succeeded",
        error=None,
        lighthouse=LighthouseSummary(
            scores=LighthouseScores(performance=performance, accessibility=95, best_practices=100, seo=90),
            metrics=LighthouseMetrics(first_contentful_paint_ms=900.0, largest_contentful_paint_ms=lcp),
            timing=LighthouseTiming(total_ms=6000.0),
            lighthouse_version="12.2.3",
            final_url=url,
        ),
        axe=AxeSummary.model_validate({"violations": list(violations), "counts": counts}),
        timings=Timings(total_ms=7000),
    )
    return scan.to_json_dict()


def scan_of(function: ModuleType, url: str = PAGE, *, subject: str = "user-1", **fields: Any) -> str:
    response = post(function, {"url": url, **fields}, subject=subject)
    assert response["statusCode"] == 202, response
    scan_id: str = json_body(response)["id"]
    return scan_id


def error_of(response: dict[str, Any]) -> dict[str, str]:
    error: dict[str, str] = json_body(response)["error"]
    return error


# ---- runs and budgets ----------------------------------------------------------------


def test_a_scan_keeps_the_runs_and_budget_it_was_asked_for(audit_function: ModuleType) -> None:
    # When a user asks for three runs held to a budget
    budget = {
        "scores": {"performance": 0.9},
        "metrics": {"largest-contentful-paint": 2500},
        "axe": {"serious": 0},
    }
    scan_id = scan_of(audit_function, runs=3, budget=budget)
    # Then the scan says so when read back (the verdict comes when it has finished)
    scan = get_json(audit_function, f"/scans/{scan_id}", as_token=token())
    assert scan["runs"] == 3
    assert scan["budget_limits"] == budget
    assert scan["budget"] is None


@pytest.mark.parametrize(
    ("budget", "named"),
    [
        ({"scores": {"perfomance": 0.9}}, "budget.scores.perfomance"),
        ({"metrics": {"lcp": 2500}}, "budget.metrics.lcp"),
        ({"axe": {"severe": 0}}, "budget.axe.severe"),
        ({"score": {"performance": 0.9}}, "budget.score"),
    ],
)
def test_a_budget_with_an_unknown_key_is_a_400_naming_the_key(
    audit_function: ModuleType, local_aws: LocalAws, budget: dict[str, Any], named: str
) -> None:
    # When a budget names a key scout does not know
    response = post(audit_function, {"url": PAGE, "budget": budget})
    # Then it is refused, naming the key, and nothing is queued
    assert response["statusCode"] == 400
    assert named in error_of(response)["message"]
    assert local_aws.messages() == []


def test_a_score_budget_outside_zero_to_one_is_a_400(audit_function: ModuleType) -> None:
    response = post(audit_function, {"url": PAGE, "budget": {"scores": {"performance": 90}}})
    assert response["statusCode"] == 400
    assert "budget.scores.performance" in error_of(response)["message"]


@pytest.mark.parametrize("runs", [0, 6])
def test_runs_outside_one_to_five_are_a_400(audit_function: ModuleType, runs: int) -> None:
    response = post(audit_function, {"url": PAGE, "runs": runs})
    assert response["statusCode"] == 400
    assert "runs" in error_of(response)["message"]


def test_more_runs_than_the_scan_worker_can_hold_are_refused_with_a_sentence(
    audit_function: ModuleType, local_aws: LocalAws, audit_env: pytest.MonkeyPatch
) -> None:
    # Given a scan worker whose timeout holds two Lighthouse runs of 120 seconds
    audit_env.setenv("SCAN_WORKER_TIMEOUT_SECONDS", "300")
    with serving_environment():
        # When a user asks for three
        response = post(audit_function, {"url": PAGE, "runs": 3})
    # Then the answer says why and how many fit, and nothing is queued
    assert response["statusCode"] == 400
    error = error_of(response)
    assert error["code"] == "too_many_runs"
    assert "at most 2 runs fit" in error["message"]
    assert local_aws.messages() == []


def test_the_same_idempotency_key_with_other_runs_is_a_409(audit_function: ModuleType) -> None:
    assert post(audit_function, {"url": PAGE, "runs": 1}, key="key-1")["statusCode"] == 202
    again = post(audit_function, {"url": PAGE, "runs": 3}, key="key-1")
    assert again["statusCode"] == 409
    assert error_of(again)["code"] == "idempotency_key_reused"


def test_the_same_idempotency_key_with_the_same_budget_replays_the_scan(audit_function: ModuleType) -> None:
    body = {"url": PAGE, "runs": 2, "budget": {"axe": {"critical": 0}}}
    first = post(audit_function, body, key="key-1")
    again = post(audit_function, body, key="key-1")
    assert again["statusCode"] == 202
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert json_body(again)["id"] == json_body(first)["id"]


# ---- history -------------------------------------------------------------------------


def test_history_finds_the_scans_of_a_page_however_its_url_is_spelt(audit_function: ModuleType) -> None:
    # Given scans of one page spelt two ways, of another page, and of the page as a desktop
    first = scan_of(audit_function, "https://example.com/a")
    second = scan_of(audit_function, "HTTPS://Example.COM:443/a#reviews")
    scan_of(audit_function, "https://example.com/b")
    scan_of(audit_function, "https://example.com/a", device="desktop")
    # When the history of the page is asked for in a third spelling
    history = get_json(
        audit_function, "/history", as_token=token(), query={"url": "https://EXAMPLE.com/a#top"}
    )
    # Then it holds the page's two mobile scans, newest first
    assert history["page_url"] == "https://example.com/a"
    assert [item["id"] for item in history["items"]] == [second, first]
    assert history["next_cursor"] is None
    # And the desktop scan is in the desktop history
    desktop = get_json(
        audit_function,
        "/history",
        as_token=token(),
        query={"url": "https://example.com/a", "device": "desktop"},
    )
    assert len(desktop["items"]) == 1


def test_history_is_read_in_pages_following_next_cursor(audit_function: ModuleType) -> None:
    created = [scan_of(audit_function) for _ in range(3)]
    first = get_json(audit_function, "/history", as_token=token(), query={"url": PAGE, "limit": "2"})
    second = get_json(
        audit_function,
        "/history",
        as_token=token(),
        query={"url": PAGE, "limit": "2", "cursor": first["next_cursor"]},
    )
    assert [item["id"] for item in first["items"] + second["items"]] == list(reversed(created))
    assert second["next_cursor"] is None


def test_a_scans_list_cursor_does_not_page_a_history(audit_function: ModuleType) -> None:
    for _ in range(2):
        scan_of(audit_function)
    scans_cursor = get_json(audit_function, "/scans", as_token=token(), query={"limit": "1"})["next_cursor"]
    response = get(audit_function, "/history", as_token=token(), query={"url": PAGE, "cursor": scans_cursor})
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "invalid_cursor"


def test_history_holds_only_the_callers_own_scans(audit_function: ModuleType) -> None:
    # Given a scan of the page by user-1
    scan_of(audit_function)
    # Then user-2 and a service see none of it in their histories
    for other in (token(subject="user-2"), token(Strategy.SERVICE, "reporting")):
        assert get_json(audit_function, "/history", as_token=other, query={"url": PAGE})["items"] == []


def test_a_history_item_carries_scores_metrics_axe_counts_and_the_budget_verdict(
    audit_function: ModuleType, api_store: PostgresStore
) -> None:
    # Given a finished scan that did not hold its budget
    scan_id = scan_of(audit_function, budget={"scores": {"performance": 0.95}})
    finished = result(performance=80, violations=(violation("image-alt", "critical", "img.hero"),))
    finished["budget"] = {
        "passed": False,
        "failures": [{"kind": "scores", "key": "performance", "limit": 0.95, "actual": 0.8}],
    }
    finish(api_store, scan_id, finished)
    # When its page's history is read
    [item] = get_json(audit_function, "/history", as_token=token(), query={"url": PAGE})["items"]
    # Then the item shows what a history is for
    assert item["status"] == "succeeded"
    assert item["scores"]["performance"] == 80
    assert item["metrics"]["largest_contentful_paint_ms"] == 1800.0
    assert item["axe_counts"]["critical"] == 1
    assert item["budget"]["passed"] is False
    assert item["finished_at"] is not None


@pytest.mark.parametrize("url", ["ftp://example.com/a", "https://user:secret@example.com/", "not a url"])
def test_history_of_what_is_not_a_scannable_url_is_a_400(audit_function: ModuleType, url: str) -> None:
    response = get(audit_function, "/history", as_token=token(), query={"url": url})
    assert response["statusCode"] == 400
    assert error_of(response)["code"] == "invalid_url"


def test_history_needs_a_token(audit_function: ModuleType) -> None:
    assert call(audit_function, http_event("GET", "/history", query={"url": PAGE}))["statusCode"] == 401


# ---- diffs ---------------------------------------------------------------------------


def test_a_diff_compares_with_the_previous_finished_scan_and_names_the_regressions(
    audit_function: ModuleType, api_store: PostgresStore
) -> None:
    # Given a good scan of the page, a failed one, and a worse one: slower, a serious
    # violation on a new element, one violation fixed and one still there
    good = scan_of(audit_function)
    finish(
        api_store,
        good,
        result(
            performance=92,
            lcp=1500.0,
            violations=(
                violation("color-contrast", "serious", "p.price"),
                violation("region", "moderate", "footer"),
            ),
        ),
    )
    broken = scan_of(audit_function)
    failed = result()
    failed.update(status="failed", lighthouse=None, axe=None, error={"code": "timeout", "message": "slow"})
    finish(api_store, broken, failed)
    worse = scan_of(audit_function)
    finish(
        api_store,
        worse,
        result(
            performance=70,
            lcp=3100.0,
            violations=(
                violation("color-contrast", "serious", "p.price", "a.more"),
                violation("image-alt", "critical", "img.hero"),
            ),
        ),
    )
    # When the worse scan's diff is read
    diff = get_json(audit_function, f"/scans/{worse}/diff", as_token=token())
    # Then it is against the good scan (the failed one has nothing to compare)
    assert (diff["scan_id"], diff["against_id"], diff["threshold"]) == (worse, good, 0.05)
    # And the deltas are on Lighthouse's 0-1 scale, metrics in ms
    assert diff["scores"]["performance"] == {"before": 0.92, "after": 0.7, "delta": -0.22}
    assert diff["scores"]["accessibility"]["delta"] == 0
    assert diff["metrics"]["largest-contentful-paint"] == {"before": 1500.0, "after": 3100.0, "delta": 1600.0}
    # And the violations are new, fixed or still there, by rule and element, with impact
    summary = {
        kind: {(v["id"], v["target"][0], v["impact"]) for v in diff["axe"][kind]} for kind in diff["axe"]
    }
    assert summary == {
        "new": {("color-contrast", "a.more", "serious"), ("image-alt", "img.hero", "critical")},
        "fixed": {("region", "footer", "moderate")},
        "still": {("color-contrast", "p.price", "serious")},
    }
    # And the regressions are the score drop and both new serious-or-worse violations
    assert diff["regression"] is True
    assert {(r["kind"], r["key"]) for r in diff["regressions"]} == {
        ("score", "performance"),
        ("violation", "color-contrast"),
        ("violation", "image-alt"),
    }


def test_a_score_drop_within_the_threshold_is_no_regression(
    audit_function: ModuleType, api_store: PostgresStore
) -> None:
    earlier, later = scan_of(audit_function), scan_of(audit_function)
    finish(api_store, earlier, result(performance=90))
    finish(api_store, later, result(performance=86))
    diff = get_json(audit_function, f"/scans/{later}/diff", as_token=token())
    assert diff["scores"]["performance"]["delta"] == -0.04
    assert (diff["regression"], diff["regressions"]) == (False, [])
    # And with a stricter threshold the same drop is one
    strict = get_json(audit_function, f"/scans/{later}/diff", as_token=token(), query={"threshold": "0.02"})
    assert [r["key"] for r in strict["regressions"]] == ["performance"]


def test_a_diff_against_a_named_scan_compares_with_that_one(
    audit_function: ModuleType, api_store: PostgresStore
) -> None:
    first, second, third = (scan_of(audit_function) for _ in range(3))
    for scan_id, performance in ((first, 50), (second, 60), (third, 90)):
        finish(api_store, scan_id, result(performance=performance))
    diff = get_json(audit_function, f"/scans/{third}/diff", as_token=token(), query={"against": first})
    assert diff["against_id"] == first
    assert diff["scores"]["performance"]["delta"] == 0.4


def test_a_diff_across_two_owners_is_404(audit_function: ModuleType, api_store: PostgresStore) -> None:
    # Given a finished scan of user-1 and one of user-2, of the same page
    mine, theirs = scan_of(audit_function), scan_of(audit_function, subject="user-2")
    finish(api_store, mine, result())
    finish(api_store, theirs, result())
    # When either compares with the other's, or reads the other's diff
    answers = [
        get(audit_function, f"/scans/{theirs}/diff", as_token=token(), query={"against": mine}),
        get(audit_function, f"/scans/{mine}/diff", as_token=token(), query={"against": theirs}),
        get(audit_function, f"/scans/{theirs}/diff", as_token=token()),
    ]
    # Then it is as if the scan did not exist
    assert [answer["statusCode"] for answer in answers] == [404, 404, 404]
    # And even a service, which reads every scan, cannot pair scans of two owners
    service = get(
        audit_function, f"/scans/{theirs}/diff", as_token=token(Strategy.SERVICE), query={"against": mine}
    )
    assert service["statusCode"] == 404


def test_a_service_reads_the_diff_of_a_users_scan(
    audit_function: ModuleType, api_store: PostgresStore
) -> None:
    earlier, later = scan_of(audit_function), scan_of(audit_function)
    finish(api_store, earlier, result())
    finish(api_store, later, result())
    diff = get_json(audit_function, f"/scans/{later}/diff", as_token=token(Strategy.SERVICE, "reporting"))
    assert diff["against_id"] == earlier


def test_the_first_scan_of_a_page_has_no_diff(audit_function: ModuleType, api_store: PostgresStore) -> None:
    only = scan_of(audit_function)
    finish(api_store, only, result())
    # A scan of the same page by someone else does not count
    other = scan_of(audit_function, subject="user-2")
    finish(api_store, other, result())
    response = get(audit_function, f"/scans/{only}/diff", as_token=token())
    assert response["statusCode"] == 404
    assert error_of(response)["code"] == "no_previous_scan"


def test_a_diff_of_a_scan_still_queued_is_a_409(audit_function: ModuleType, api_store: PostgresStore) -> None:
    earlier = scan_of(audit_function)
    finish(api_store, earlier, result())
    queued = scan_of(audit_function)
    response = get(audit_function, f"/scans/{queued}/diff", as_token=token())
    assert response["statusCode"] == 409
    assert error_of(response)["code"] == "scan_not_comparable"


def test_history_and_diff_are_one_round_trip_each(
    audit_function: ModuleType, api_store: PostgresStore
) -> None:
    earlier, later = scan_of(audit_function), scan_of(audit_function)
    finish(api_store, earlier, result())
    finish(api_store, later, result())
    before = api_store.round_trips
    get_json(audit_function, "/history", as_token=token(), query={"url": PAGE})
    after_history = api_store.round_trips
    get_json(audit_function, f"/scans/{later}/diff", as_token=token())
    assert (after_history - before, api_store.round_trips - after_history) == (1, 1)
