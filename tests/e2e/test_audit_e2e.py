"""Audit end to end: `scout dev`, a scan posted over HTTP, the worker's real scan of a page on
127.0.0.2, and artifact links that download.

The page is served on 127.0.0.2, which only SCOUT_EGRESS_ALLOW lets a scan reach: the same
egress guard that refuses private addresses in production is in the path here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import local_stack
from tests.support.audit_pages import product_site

pytestmark = pytest.mark.slow

PAGE_HOST = "127.0.0.2"
SCAN_DEADLINE_SECONDS = 240
POLL_INTERVAL_SECONDS = 1.0


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    with product_site(PAGE_HOST) as url:
        yield url


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copied: Path = local_stack.copy_real_project(tmp_path_factory.mktemp("audit-e2e"))
    return copied


@pytest.fixture(scope="module")
def dev(project: Path) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        # Only the test page's address: every other private address stays refused.
        patch.setenv("SCOUT_EGRESS_ALLOW", PAGE_HOST)
        with local_stack.running_dev(project, ready_timeout=120) as running:
            yield running


@pytest.fixture(scope="module")
def user_token(dev: Any, project: Path) -> str:
    # Signed with the secret `scout dev` generated for this project (kept in its .scout/).
    result = local_stack.scout("token", "--strategy", "user", "--sub", "e2e-user", cwd=project)
    assert result.returncode == 0, result.stderr
    token: str = result.stdout.strip()
    return token


def wait_until_finished(client: httpx.Client, scan_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SCAN_DEADLINE_SECONDS
    scan: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/scans/{scan_id}")
        assert response.status_code == 200, response.text
        scan = response.json()
        if scan["status"] in ("succeeded", "partial", "failed"):
            return scan
        time.sleep(POLL_INTERVAL_SECONDS)
    raise AssertionError(f"scan {scan_id} did not finish in {SCAN_DEADLINE_SECONDS} s; last seen: {scan}")


def test_a_scan_posted_over_http_succeeds_with_working_artifact_links(
    dev: Any, user_token: str, page_url: str
) -> None:
    with httpx.Client(
        base_url=dev.url, headers={"Authorization": f"Bearer {user_token}"}, timeout=30
    ) as client:
        # Given a page on 127.0.0.2, when a user posts a scan of it
        posted = client.post("/scans", json={"url": page_url, "device": "mobile"})
        assert posted.status_code == 202, posted.text
        scan_id = posted.json()["id"]
        assert posted.json()["status"] == "queued"

        # Then the worker scans it: the scan succeeds, with scores and axe's findings
        scan = wait_until_finished(client, scan_id)
        assert scan["status"] == "succeeded", (scan["error"], dev.output[-4000:])
        assert scan["final_url"] == page_url
        assert set(scan["lighthouse"]["scores"]) == {"performance", "accessibility", "best-practices", "seo"}
        assert "image-alt" in {violation["id"] for violation in scan["axe"]["violations"]}

        # And every artifact link downloads its file
        links = {artifact["name"]: artifact["url"] for artifact in scan["artifacts"]}
        assert set(links) == {"screenshot.png", "lighthouse.html", "lighthouse.json", "axe.json"}
        screenshot = httpx.get(links["screenshot.png"], timeout=30)
        assert screenshot.status_code == 200
        assert screenshot.content.startswith(b"\x89PNG\r\n\x1a\n")
        assert "<html" in httpx.get(links["lighthouse.html"], timeout=30).text[:2000].lower()
        assert httpx.get(links["lighthouse.json"], timeout=30).json()["finalDisplayedUrl"] == page_url
        assert isinstance(httpx.get(links["axe.json"], timeout=30).json()["violations"], list)

        # And the scan is in the user's list
        listed = client.get("/scans").json()
        assert scan_id in [item["id"] for item in listed["items"]]


def test_a_private_address_not_allowed_is_refused_before_queueing(dev: Any, user_token: str) -> None:
    response = httpx.post(
        f"{dev.url}/scans",
        json={"url": "http://10.0.0.1/"},
        headers={"Authorization": f"Bearer {user_token}"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "blocked_target"


def test_budgets_history_and_a_diff_over_http(dev: Any, user_token: str, page_url: str) -> None:
    with httpx.Client(
        base_url=dev.url, headers={"Authorization": f"Bearer {user_token}"}, timeout=30
    ) as client:
        # Given the product page (an image without alt text and an unlabelled input: two
        # critical violations), scanned against a budget it holds and then one it misses
        held = client.post("/scans", json={"url": page_url, "budget": {"axe": {"critical": 2}}})
        assert held.status_code == 202, held.text
        first = wait_until_finished(client, held.json()["id"])
        missed = client.post("/scans", json={"url": page_url, "runs": 2, "budget": {"axe": {"critical": 0}}})
        assert missed.status_code == 202, missed.text
        second = wait_until_finished(client, missed.json()["id"])

        # Then the first passed its budget and the second failed it, naming the limit
        assert first["status"] == second["status"] == "succeeded", (second["error"], dev.output[-4000:])
        assert first["budget"] == {"passed": True, "failures": []}
        assert second["budget"]["passed"] is False
        critical = second["axe"]["counts"]["critical"]
        assert [(f["kind"], f["key"], f["actual"]) for f in second["budget"]["failures"]] == [
            ("axe", "critical", critical)
        ]
        assert len(second["lighthouse"]["runs"]) == 2

        # And the page's history lists both, newest first, with their verdicts
        history = client.get("/history", params={"url": page_url}).json()
        assert [item["id"] for item in history["items"][:2]] == [second["id"], first["id"]]
        assert [item["budget"]["passed"] for item in history["items"][:2]] == [False, True]

        # And the second scan's diff is against the first: the same violation is still there
        diff = client.get(f"/scans/{second['id']}/diff").json()
        assert diff["against_id"] == first["id"]
        assert "image-alt" in {violation["id"] for violation in diff["axe"]["still"]}
        assert diff["axe"]["new"] == []
