"""Monitors end to end through `scout dev`: a monitor over a loopback site's sitemap (an index
with a nested index, a gzipped child and an excluded page), its scans one at a time for that
host, the run finished once, and signed webhooks to an https receiver behind a private CA
that is down for its first attempts; then a page gets worse and the next run reports it.

The site is served on 127.0.0.2 and the receiver on 127.0.0.1; SCOUT_EGRESS_ALLOW lets the
stack reach only those two, and WEBHOOK_CA_BUNDLE makes the sender trust the test CA that
signed the receiver's certificate (the sender always verifies certificates).
"""

from __future__ import annotations

import gzip
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import local_stack
from tests.support.audit_pages import PIXEL_PNG
from tests.support.http_server import LoopbackServer, Request, Response, run_in_thread
from tests.support.private_ca import make_private_ca
from tests.support.webhooks import SignatureCheckingReceiver

pytestmark = pytest.mark.slow

SITE_HOST = "127.0.0.2"
RUN_DEADLINE_SECONDS = 150
WEBHOOK_DEADLINE_SECONDS = 60
RECEIVER_FAILURES = 2
PLANNED = ["/", "/about", "/mugs/speckled"]
EXCLUDED = "/drafts/new-mug"
WORSENED = "/mugs/speckled"

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="description" content="Handmade ceramics from Kiln and Co.">
  <title>{title} - Kiln &amp; Co.</title>
</head>
<body>
  <main>
    <h1>{title}</h1>
    <img src="/mug.png" width="160" height="160"{alt}>
    <p>Stoneware, fired in small batches. Each piece is thrown by hand.</p>
  </main>
</body>
</html>
"""


def page_html(title: str, *, alt: bool = True) -> bytes:
    return PAGE.format(title=title, alt=f' alt="{title}"' if alt else "").encode()


def urlset(base: str, paths: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{base}{path}</loc></url>" for path in paths)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


def sitemap_index(base: str, paths: list[str]) -> bytes:
    entries = "".join(f"<sitemap><loc>{base}{path}</loc></sitemap>" for path in paths)
    return (
        f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    ).encode()


@dataclass
class ShopSite:
    """A loopback shop: its sitemaps, three pages and a draft, and a log of page requests
    (path, started, ended) by monotonic clock."""

    pages: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    page_log: list[tuple[str, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def page_intervals(self) -> dict[str, tuple[float, float]]:
        """Per page, from its first request's start to its last one's end."""
        intervals: dict[str, tuple[float, float]] = {}
        with self.lock:
            for path, started, ended in self.page_log:
                first, last = intervals.get(path, (started, ended))
                intervals[path] = (min(first, started), max(last, ended))
        return intervals

    def requested_pages(self) -> set[str]:
        with self.lock:
            return {path for path, _, _ in self.page_log}


@pytest.fixture
def site() -> Iterator[tuple[ShopSite, str]]:
    shop = ShopSite()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            started = time.monotonic()
            if path in shop.pages:
                content_type, body = "text/html; charset=utf-8", shop.pages[path]
            else:
                content_type, body = shop.files.get(path, ("text/plain", b"not found"))
            known = path in shop.pages or path in shop.files
            self.send_response(200 if known else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if path in shop.pages or path == EXCLUDED:
                with shop.lock:
                    shop.page_log.append((path, started, time.monotonic()))

        def log_message(self, format: str, *args: object) -> None:
            return

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            return  # browsers drop kept-alive connections

    server = Quiet((SITE_HOST, 0), Handler)
    base = f"http://{SITE_HOST}:{server.server_address[1]}"
    shop.pages = {
        "/": page_html("Kiln and Co."),
        "/about": page_html("About us"),
        WORSENED: page_html("Speckled mug"),
    }
    shop.files = {
        "/mug.png": ("image/png", PIXEL_PNG),
        "/favicon.ico": ("image/png", PIXEL_PNG),
        # The index: a page sitemap, a gzipped one, and a nested index.
        "/sitemap.xml": (
            "application/xml",
            sitemap_index(base, ["/sitemaps/pages.xml", "/sitemaps/products.xml.gz", "/sitemaps/more.xml"]),
        ),
        "/sitemaps/pages.xml": ("application/xml", urlset(base, ["/", EXCLUDED])),
        "/sitemaps/products.xml.gz": (
            "application/gzip",
            gzip.compress(urlset(base, [WORSENED, "/#reviews"])),
        ),
        "/sitemaps/more.xml": ("application/xml", sitemap_index(base, ["/sitemaps/company.xml"])),
        "/sitemaps/company.xml": ("application/xml", urlset(base, ["/about", "/"])),
    }
    thread = threading.Thread(target=server.serve_forever, name="shop-site", daemon=True)
    thread.start()
    try:
        yield shop, base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class FlakyReceiver:
    """Answers 503 to its first ``failures`` requests, then verifies Scout-Signature (once the
    test has the monitor's secret) as a user's receiver would."""

    failures: int
    failed: list[tuple[float, Request]] = field(default_factory=list)
    checker: SignatureCheckingReceiver | None = None
    arrivals: list[tuple[float, Request]] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        arrived = time.time()
        if len(self.failed) < self.failures:
            self.failed.append((arrived, request))
            return Response.json({"error": "down for maintenance"}, status=503)
        assert self.checker is not None
        answer = self.checker(request)
        if answer.status == 200:
            self.arrivals.append((arrived, request))
        return answer

    def events(self, event_type: str) -> list[tuple[float, dict[str, Any]]]:
        return [
            (at, request.json())
            for at, request in list(self.arrivals)
            if request.json()["type"] == event_type
        ]


def signed_at(request: Request) -> int:
    header = request.headers["scout-signature"]
    return int(dict(part.split("=", 1) for part in header.split(","))["t"])


def finished_runs(client: httpx.Client, monitor_id: str, count: int) -> list[dict[str, Any]] | None:
    runs = client.get(f"/monitors/{monitor_id}/runs").json()["items"]
    if len(runs) >= count and all(run["status"] == "finished" for run in runs[:count]):
        return list(runs)
    return None


def test_a_monitor_scans_its_sitemap_one_page_at_a_time_and_delivers_signed_webhooks(
    real_project: Path, site: tuple[ShopSite, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop, base = site
    private_ca = make_private_ca(tmp_path / "ca")
    receiver = FlakyReceiver(failures=RECEIVER_FAILURES)
    monkeypatch.setenv("SCOUT_EGRESS_ALLOW", f"{SITE_HOST},127.0.0.1")
    monkeypatch.setenv("WEBHOOK_CA_BUNDLE", str(private_ca.ca_pem))
    monkeypatch.setenv("WEBHOOK_FIRST_RETRY_SECONDS", "1")
    with (
        run_in_thread(LoopbackServer(receiver, tls=private_ca.server_context())) as hooks,
        local_stack.running_dev(real_project, ready_timeout=120) as dev,
    ):
        token = local_stack.scout("token", "--strategy", "user", "--sub", "monitor-e2e", cwd=real_project)
        assert token.returncode == 0, token.stderr
        with httpx.Client(
            base_url=dev.url, headers={"Authorization": f"Bearer {token.stdout.strip()}"}, timeout=30
        ) as client:
            # Given a monitor over the shop's sitemap index, its drafts excluded, with a webhook
            created = client.post(
                "/monitors",
                json={
                    "name": "Kiln and Co.",
                    "sitemap": f"{base}/sitemap.xml",
                    "exclude": ["*/drafts/*"],
                    "runs": 1,
                    "webhook_url": f"{hooks.url}/hook",
                },
            )
            assert created.status_code == 201, created.text
            monitor_id = created.json()["id"]
            receiver.checker = SignatureCheckingReceiver(created.json()["webhook_secret"], time.time)

            # When it is run now
            started = client.post(f"/monitors/{monitor_id}/run")
            assert started.status_code == 202, started.text
            first_run_id = started.json()["id"]

            # Then its run finishes once, with the three planned pages scanned
            runs = local_stack.eventually(
                lambda: finished_runs(client, monitor_id, 1), RUN_DEADLINE_SECONDS, interval=1.0
            )
            assert [run["id"] for run in runs] == [first_run_id], dev.output[-4000:]
            first = runs[0]
            assert sorted(first["pages"]) == sorted(f"{base}{path}" for path in PLANNED)
            assert (first["pages_planned"], first["pages_scanned"], first["pages_failed"]) == (3, 3, 0)

            # And exactly the planned pages were requested from the site, never two at once
            assert shop.requested_pages() == set(PLANNED)
            intervals = sorted(shop.page_intervals().values())
            for (_, ended), (next_started, _) in itertools.pairwise(intervals):
                assert ended <= next_started, f"two pages of {SITE_HOST} were scanned at once: {intervals}"

            # And the receiver, down for its first attempts, verified a freshly signed event later
            finished = local_stack.eventually(
                lambda: receiver.events("monitor.run.finished"), WEBHOOK_DEADLINE_SECONDS, interval=0.5
            )
            arrived, event = finished[0]
            assert len(receiver.failed) == RECEIVER_FAILURES
            assert event["run"]["id"] == first_run_id
            assert event["monitor"]["id"] == monitor_id
            assert sorted(page["url"] for page in event["pages"]) == sorted(first["pages"])
            delivered = next(request for at, request in receiver.arrivals if at == arrived)
            assert signed_at(delivered) >= signed_at(receiver.failed[-1][1])
            assert abs(arrived - signed_at(delivered)) < 30
            assert receiver.checker.refused == []

            # And the delivery log lists the failed attempts, then the delivered one
            attempts = [
                item
                for item in reversed(client.get(f"/monitors/{monitor_id}/deliveries").json()["items"])
                if item["run_id"] == first_run_id and item["event_type"] == "monitor.run.finished"
            ]
            assert [(item["attempt"], item["outcome"], item["status_code"]) for item in attempts] == [
                (1, "retry", 503),
                (2, "retry", 503),
                (3, "delivered", 200),
            ]

            # When a page gets worse (its image loses its alt text) and the monitor runs again
            shop.pages[WORSENED] = page_html("Speckled mug", alt=False)
            again = client.post(f"/monitors/{monitor_id}/run")
            assert again.status_code == 202, again.text
            second_run_id = again.json()["id"]
            runs = local_stack.eventually(
                lambda: finished_runs(client, monitor_id, 2), RUN_DEADLINE_SECONDS, interval=1.0
            )
            assert [run["id"] for run in runs[:2]] == [second_run_id, first_run_id]

            # Then a signed monitor.regression names that page and its new critical violation
            regressions = local_stack.eventually(
                lambda: receiver.events("monitor.regression"), WEBHOOK_DEADLINE_SECONDS, interval=0.5
            )
            _, regression = regressions[0]
            assert regression["run"]["id"] == second_run_id
            regressed = {page["url"]: page for page in regression["pages"]}
            assert f"{base}{WORSENED}" in regressed, regression
            reasons = regressed[f"{base}{WORSENED}"]["reasons"]
            assert ("violation", "image-alt") in {(reason["kind"], reason["key"]) for reason in reasons}
            assert receiver.checker.refused == []
