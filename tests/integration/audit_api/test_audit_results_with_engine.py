"""Repeated runs, budgets and diffs made by the real engine: scans posted to the audit function,
run by the scan worker on Chromium, Lighthouse and axe against a loopback site that changes
between scans, and read back through the API. Postgres is real; SQS and S3 are moto's server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest

from scout import runtime
from scout.audit.devices import DEVICES
from scout.egress.policy import EgressPolicy
from scout.store.postgres import PostgresStore
from tests.integration.audit.servers import PNG_PIXEL, Reply, SiteServer
from tests.integration.audit_api.calls import get_json, post, token
from tests.integration.audit_api.conftest import LocalAws, process_message
from tests.support.http_events import json_body
from tests.support.wiring import serving_environment

pytestmark = pytest.mark.slow

BAKERY = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="description" content="Bread baked every morning in Leith.">
  <title>Leith Bakery</title>
  {script}
</head>
<body>
  <main>
    <h1>Bread baked every morning</h1>
    <img src="/loaf.png" {alt} width="320" height="200">
    <p>Sourdough, rye and a seeded loaf, out of the oven at seven.</p>
  </main>
</body>
</html>
"""
# A script in the head that holds the main thread for two seconds before anything paints.
BLOCKING_SCRIPT = "const until = Date.now() + 2000; while (Date.now() < until) {}"


def bakery(*, blocking_script: bool = False, image_alt: bool = True) -> dict[str, Any]:
    page = BAKERY.format(
        script='<script src="/blocking.js"></script>' if blocking_script else "",
        alt='alt="A seeded loaf on the counter"' if image_alt else "",
    )
    return {
        "/": Reply(body=page),
        "/blocking.js": Reply(body=BLOCKING_SCRIPT, content_type="text/javascript"),
        "/loaf.png": Reply(body=PNG_PIXEL, content_type="image/png"),
        "/favicon.ico": Reply(status=204),
        "/robots.txt": Reply(body="User-agent: *\nAllow: /\n", content_type="text/plain"),
    }


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(bakery()) as server:
        yield server


@pytest.fixture(autouse=True)
def loopback_targets(audit_function: ModuleType, audit_env: pytest.MonkeyPatch) -> Iterator[None]:
    """POST /scans may name the loopback site here (and only here), and scan as often as needed."""
    audit_env.setenv("SCAN_RATE_LIMIT", "100")
    with serving_environment(egress_policy=EgressPolicy(allow=["127.0.0.1"])):
        yield


@dataclass(frozen=True)
class Scanning:
    """Scans as a user gets them: POST /scans, the worker takes the queued message, GET /scans/{id}."""

    function: ModuleType
    store: PostgresStore
    aws: LocalAws
    engine: Any

    def scan(self, url: str, **fields: Any) -> dict[str, Any]:
        response = post(self.function, {"url": url, "device": "desktop", **fields})
        assert response["statusCode"] == 202, response
        scan_id = json_body(response)["id"]
        [message] = [m for m in self.aws.messages() if json.loads(m["Body"])["scan_id"] == scan_id]
        done = process_message(self.store, self.engine, self.aws, message["Body"], remaining_millis=600_000)
        assert done.outcome == "finished", done
        self.aws.sqs.delete_message(QueueUrl=self.aws.queue_url, ReceiptHandle=message["ReceiptHandle"])
        finished: dict[str, Any] = self.read(f"/scans/{scan_id}")
        assert finished["status"] == "succeeded", finished["error"]
        return finished

    def read(self, path: str, **query: str) -> Any:
        return get_json(self.function, path, as_token=token(), query=query or None)


@pytest.fixture
def scanning(
    audit_function: ModuleType, api_store: PostgresStore, local_aws: LocalAws, engine: Any
) -> Scanning:
    return Scanning(audit_function, api_store, local_aws, engine)


def test_three_runs_give_three_runs_and_the_median_runs_report(scanning: Scanning, site: SiteServer) -> None:
    # When a scan of the bakery asks for three Lighthouse runs
    finished = scanning.scan(site.url("/"), runs=3)
    lighthouse = finished["lighthouse"]
    # Then the result keeps three runs, each with its scores and key metrics
    assert finished["runs"] == 3
    assert [run["run"] for run in lighthouse["runs"]] == [1, 2, 3]
    for run in lighthouse["runs"]:
        assert set(run["scores"]) == {"performance", "accessibility", "best-practices", "seo"}
        assert set(run["metrics"]) == {
            "first-contentful-paint",
            "largest-contentful-paint",
            "total-blocking-time",
            "cumulative-layout-shift",
            "speed-index",
        }
        assert run["metrics"]["first-contentful-paint"] > 0
        assert run["scores"]["performance"] is not None
    # And the first run scored every category; the later ones measured performance only
    first, *later = lighthouse["runs"]
    assert None not in first["scores"].values()
    for run in later:
        assert {key for key, score in run["scores"].items() if score is not None} == {"performance"}
    # And the reported run is the one whose performance score is the median, with the first
    # run's other scores
    performances = sorted(run["scores"]["performance"] for run in lighthouse["runs"])
    median = next(run for run in lighthouse["runs"] if run["run"] == lighthouse["median_run"])
    assert median["scores"]["performance"] == performances[1]
    assert lighthouse["scores"] == {**first["scores"], "performance": median["scores"]["performance"]}
    # And the stored Lighthouse report is that run's, complete with all four categories
    links = {artifact["name"]: artifact["url"] for artifact in finished["artifacts"]}
    report = httpx.get(links["lighthouse.json"], timeout=10).json()
    assert round(report["categories"]["performance"]["score"] * 100) == median["scores"]["performance"]
    assert report["audits"]["first-contentful-paint"]["numericValue"] == pytest.approx(
        median["metrics"]["first-contentful-paint"]
    )
    assert {
        category: round(report["categories"][category]["score"] * 100) for category in report["categories"]
    } == lighthouse["scores"]
    assert b"<html" in httpx.get(links["lighthouse.html"], timeout=10).content[:2000]
    # And the page was opened for axe once (with the scan's own User-Agent); every other
    # load of it was Lighthouse's
    browser_version = runtime.run(scanning.engine.browser_pool.browser()).version
    scan_user_agent = DEVICES["desktop"].user_agent(browser_version)
    assert [seen.user_agent for seen in site.seen("/")].count(scan_user_agent) == 1
    assert len(site.seen("/")) >= 4
    assert finished["axe"]["counts"]["critical"] == 0


def test_a_budget_the_page_holds_passes(scanning: Scanning, site: SiteServer) -> None:
    budget = {
        "scores": {"accessibility": 0.8, "seo": 0.5},
        "metrics": {"cumulative-layout-shift": 0.25, "total-blocking-time": 1500},
        "axe": {"critical": 0, "serious": 0},
    }
    finished = scanning.scan(site.url("/"), budget=budget)
    assert finished["budget"] == {"passed": True, "failures": []}
    assert finished["budget_limits"] == budget


def test_a_budget_the_page_misses_fails_with_each_failure(scanning: Scanning, site: SiteServer) -> None:
    # Given the bakery with an image that lost its alt text
    site.routes.update(bakery(image_alt=False))
    # When it is scanned against a budget of no critical violations and a perfect performance
    budget = {"axe": {"critical": 0}, "metrics": {"first-contentful-paint": 1}}
    finished = scanning.scan(site.url("/"), budget=budget)
    # Then the verdict fails, naming what missed, by how much
    verdict = finished["budget"]
    assert verdict["passed"] is False
    failures = {(failure["kind"], failure["key"]): failure for failure in verdict["failures"]}
    assert set(failures) == {("axe", "critical"), ("metrics", "first-contentful-paint")}
    assert failures[("axe", "critical")]["actual"] == finished["axe"]["counts"]["critical"] == 1
    assert failures[("metrics", "first-contentful-paint")]["actual"] > 1
    # And the history shows the verdict beside the scan
    [item] = scanning.read("/history", url=site.url("/"), device="desktop")["items"]
    assert item["budget"]["passed"] is False


def test_a_page_that_gets_worse_shows_the_regression_and_a_fixed_page_shows_fixed(
    scanning: Scanning, site: SiteServer
) -> None:
    url = site.url("/")
    # Given a scan of the bakery as it should be
    good = scanning.scan(url)
    # When a blocking script is added and the image loses its alt text, and it is scanned again
    site.routes.update(bakery(blocking_script=True, image_alt=False))
    worse = scanning.scan(url)
    diff = scanning.read(f"/scans/{worse['id']}/diff")
    # Then the diff is against the good scan and names the regressions: performance fell,
    # and the image is a new critical violation
    assert diff["against_id"] == good["id"]
    assert diff["regression"] is True
    assert diff["scores"]["performance"]["delta"] < -0.05
    # (the script runs before the first paint, so it shows as a later paint, not as blocking time)
    assert diff["metrics"]["first-contentful-paint"]["delta"] > 1000
    kinds = {(regression["kind"], regression["key"]) for regression in diff["regressions"]}
    assert {("score", "performance"), ("violation", "image-alt")} <= kinds
    [new_alt] = [v for v in diff["axe"]["new"] if v["id"] == "image-alt"]
    assert new_alt["impact"] == "critical"
    assert new_alt["target"] == ["img"]
    # When the page is fixed and scanned once more
    site.routes.update(bakery())
    fixed = scanning.scan(url)
    repaired = scanning.read(f"/scans/{fixed['id']}/diff")
    # Then, against the worse scan, the violation is fixed and nothing regressed
    assert repaired["against_id"] == worse["id"]
    assert [v["id"] for v in repaired["axe"]["fixed"]] == ["image-alt"]
    assert repaired["axe"]["new"] == []
    assert repaired["regression"] is False
    assert repaired["scores"]["performance"]["delta"] > 0.05
    # And the page's history lists all three, newest first
    history = scanning.read("/history", url=url, device="desktop")
    assert [item["id"] for item in history["items"]] == [fixed["id"], worse["id"], good["id"]]
