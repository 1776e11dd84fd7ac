"""Real Chromium behind the egress proxy cannot reach the canary, whatever the page tries;
and scout's URL parser reads every URL it accepts exactly as Chromium does.

The page under test is served from the allow-listed origin on 127.0.0.2. It tries every way
a hostile page has to reach 127.0.0.1 (the canary, on the same port): redirects, images,
scripts, styles, frames, prefetch hints, fetch(), websockets, a service worker, WebRTC, a
beacon, and a name that rebinds from the origin to the canary. The canary counts every TCP
connection and UDP datagram; it must stay at zero while the page itself works.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright
from playwright.async_api import Error as PlaywrightError

from scout.egress.chromium import CHROMIUM_EGRESS_ARGS
from scout.egress.policy import EgressPolicy
from scout.egress.proxy import EgressProxy
from scout.egress.urls import parse_target_url
from scout.errors import BlockedTarget
from tests.integration.egress.servers import Canary, NameTable, OriginServer, Reply, twin_servers
from tests.unit.egress.url_cases import CANONICAL

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

CHROMIUM = "/usr/bin/chromium"
PAGE_DEADLINE_MS = 30_000
_rebind_names = itertools.count()

ATTACK_PAGE = """<!doctype html>
<html><head><title>attack</title>
<link rel="dns-prefetch" href="//canary.test">
<link rel="preconnect" href="http://127.0.0.1:{port}">
<link rel="prefetch" href="http://127.0.0.1:{port}/prefetch">
<link rel="stylesheet" href="http://localhost:{port}/style.css">
<script src="http://127.0.0.1:{port}/script.js"></script>
</head><body>
<img src="http://127.0.0.1:{port}/ip.png">
<img src="http://localhost:{port}/localhost.png">
<img src="http://2130706433:{port}/decimal.png">
<img src="http://0x7f.1:{port}/hex.png">
<img src="http://0177.0.0.1:{port}/octal.png">
<img src="http://[::ffff:127.0.0.1]:{port}/mapped.png">
<img src="http://canary.test:{port}/name.png">
<img src="http://0.0.0.0:{port}/zero.png">
<img src="https://127.0.0.1:{port}/tls.png">
<iframe src="http://127.0.0.1:{port}/frame"></iframe>
<script>
const CANARY = ["http://127.0.0.1:{port}/fetch", "http://localhost:{port}/fetch",
                "http://canary.test:{port}/fetch", "https://127.0.0.1:{port}/fetch",
                "http://[::ffff:7f00:1]:{port}/fetch"];
const results = {{}};
async function attempt(name, action) {{
  try {{ results[name] = await action(); }} catch (error) {{ results[name] = "error: " + error; }}
}}
function websocket(url) {{
  return new Promise((resolve) => {{
    const socket = new WebSocket(url);
    const timer = setTimeout(() => resolve("timeout"), 5000);
    socket.onmessage = (event) => {{
      clearTimeout(timer); socket.close(); resolve("message: " + event.data);
    }};
    socket.onerror = () => {{ clearTimeout(timer); resolve("error"); }};
  }});
}}
async function webrtc() {{
  const peer = new RTCPeerConnection({{iceServers: [
    {{urls: "stun:127.0.0.1:{port}"}},
    {{urls: "turn:127.0.0.1:{port}?transport=tcp", username: "u", credential: "p"}},
    {{urls: "turn:127.0.0.1:{port}?transport=udp", username: "u", credential: "p"}}]}});
  const candidates = [];
  peer.onicecandidate = (event) => {{ if (event.candidate) candidates.push(event.candidate.type); }};
  peer.createDataChannel("probe");
  await peer.setLocalDescription(await peer.createOffer());
  await new Promise((resolve) => {{
    const timer = setTimeout(resolve, 4000);
    peer.onicegatheringstatechange = () => {{
      if (peer.iceGatheringState === "complete") {{ clearTimeout(timer); resolve(); }}
    }};
  }});
  peer.close();
  return candidates.join(",");
}}
(async () => {{
  await attempt("allowed_fetch", async () => (await fetch("/data", {{cache: "no-store"}})).text());
  for (const url of CANARY) {{
    await attempt("fetch " + url, async () => "answered " + (await fetch(url, {{mode: "no-cors"}})).type);
  }}
  results.allowed_websocket = await websocket("ws://" + location.host + "/ws");
  results.canary_websocket = await websocket("ws://127.0.0.1:{port}/ws");
  results.canary_secure_websocket = await websocket("wss://127.0.0.1:{port}/ws");
  await attempt("service_worker", async () => {{
    await navigator.serviceWorker.register("/sw.js");
    return (await navigator.serviceWorker.getRegistrations()).length + " registrations";
  }});
  await attempt("webrtc", webrtc);
  await attempt("beacon", async () => navigator.sendBeacon("http://127.0.0.1:{port}/beacon", "x"));
  window.results = results;
  window.done = true;
}})();
</script></body></html>
"""

SERVICE_WORKER = """
self.addEventListener("install", (event) => event.waitUntil(fetch("http://127.0.0.1:{port}/sw")));
self.addEventListener("fetch", (event) => event.respondWith(fetch("http://127.0.0.1:{port}/sw-fetch")));
"""

WORKER_PAGE = """<!doctype html><title>worker</title><script>
(async () => {
  try {
    const registration = await navigator.serviceWorker.register("/sw.js");
    const worker = registration.installing || registration.waiting || registration.active;
    window.state = await new Promise((resolve) => {
      if (!worker) return resolve("no worker");
      const timer = setTimeout(() => resolve(worker.state), 10000);
      worker.onstatechange = () => {
        if (worker.state === "activated" || worker.state === "redundant") {
          clearTimeout(timer); resolve(worker.state);
        }
      };
    });
  } catch (error) { window.state = "error: " + error; }
  window.done = true;
})();
</script>"""

REBIND_PAGE = """<!doctype html><title>rebind</title><script>
(async () => {
  try { window.again = (await fetch("/data", {cache: "no-store"})).status; }
  catch (error) { window.again = "error: " + error; }
  window.done = true;
})();
</script>"""


def _routes(port: int) -> dict[str, Any]:
    def page(body: str, content_type: str = "text/html; charset=utf-8") -> Any:
        return lambda _request: Reply(200, body.encode(), content_type=content_type)

    return {
        "/attack": page(ATTACK_PAGE.format(port=port)),
        "/sw.js": page(SERVICE_WORKER.format(port=port), "text/javascript"),
        "/rebind": page(REBIND_PAGE),
        "/worker": page(WORKER_PAGE),
        "/data": page("allowed data", "text/plain"),
        "/redirect": lambda _request: Reply(302, headers={"Location": f"http://127.0.0.1:{port}/"}),
        "/redirect-tls": lambda _request: Reply(302, headers={"Location": f"https://localhost:{port}/"}),
    }


@pytest.fixture(scope="module")
def names() -> NameTable:
    return NameTable(
        {"allowed.test": ["127.0.0.2"], "canary.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]}
    )


class RecordingPolicy(EgressPolicy):
    """The real policy, remembering which hosts it refused (to show where a request died)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        try:
            return await super().resolve(host, port)
        except BlockedTarget:
            self.refused.append(host)
            raise


@pytest.fixture(scope="module")
def policy(names: NameTable) -> RecordingPolicy:
    return RecordingPolicy(allow=["127.0.0.2"], resolver=names)


@pytest.fixture(scope="module")
async def proxy(policy: RecordingPolicy) -> AsyncIterator[EgressProxy]:
    async with EgressProxy(policy) as running:
        yield running


@pytest.fixture(scope="module")
async def browser(proxy: EgressProxy) -> AsyncIterator[Browser]:
    args = [
        *CHROMIUM_EGRESS_ARGS(proxy.url),
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    isolated = await browser.new_context(service_workers="block")
    isolated.set_default_timeout(PAGE_DEADLINE_MS)
    try:
        yield isolated
    finally:
        await isolated.close()


@pytest.fixture
async def context_allowing_workers(browser: Browser) -> AsyncIterator[BrowserContext]:
    isolated = await browser.new_context(service_workers="allow")
    isolated.set_default_timeout(PAGE_DEADLINE_MS)
    try:
        yield isolated
    finally:
        await isolated.close()


@pytest.fixture
async def servers() -> AsyncIterator[tuple[OriginServer, Canary]]:
    async with twin_servers() as (origin, canary):
        origin.routes.update(_routes(origin.port))
        yield origin, canary


async def test_hostile_page_loads_but_reaches_nothing_on_loopback(
    servers: tuple[OriginServer, Canary], policy: RecordingPolicy, context: BrowserContext
) -> None:
    origin, canary = servers
    already_refused = len(policy.refused)
    page = await context.new_page()

    # When the hostile page is loaded and has tried everything
    response = await page.goto(origin.url("/attack"))
    await page.wait_for_function("window.done === true")
    results = await page.evaluate("window.results")

    # Then the canary saw no connection and no datagram ...
    assert canary.tcp_hits == 0
    assert canary.udp_hits == 0
    # ... the page and its own origin work (fetch and websocket through the proxy) ...
    assert response is not None
    assert response.status == 200
    assert await page.title() == "attack"
    assert results["allowed_fetch"] == "allowed data"
    assert results["allowed_websocket"] == "message: hello from the allowed origin"
    # ... every spelling of the canary reached the proxy and was refused there ...
    refused_hosts = set(policy.refused[already_refused:])
    assert {"127.0.0.1", "localhost", "canary.test", "::ffff:7f00:1", "0.0.0.0"} <= refused_hosts
    assert results["canary_websocket"] == "error"
    assert results["canary_secure_websocket"] == "error"
    assert results["service_worker"] == "0 registrations"


async def test_service_worker_traffic_goes_through_the_proxy_too(
    servers: tuple[OriginServer, Canary], policy: RecordingPolicy, context_allowing_workers: BrowserContext
) -> None:
    origin, canary = servers
    already_refused = len(policy.refused)
    page = await context_allowing_workers.new_page()

    # When service workers are not blocked and the page installs one that fetches the canary
    await page.goto(origin.url("/worker"))
    await page.wait_for_function("window.done === true")

    # Then the canary saw nothing: the worker's fetch was refused by the proxy, so its
    # install failed
    assert canary.hits == 0
    assert "/sw.js" in origin.paths()
    assert await page.evaluate("window.state") == "redundant"
    assert "127.0.0.1" in policy.refused[already_refused:]


async def test_navigation_redirected_to_the_canary_is_refused(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy, context: BrowserContext
) -> None:
    origin, canary = servers
    page = await context.new_page()

    # When an allowed page redirects the browser to the canary (plain and TLS)
    plain = await page.goto(origin.url("/redirect"))
    tls_error = None
    try:
        await page.goto(origin.url("/redirect-tls"))
    except PlaywrightError as error:
        tls_error = error.message

    # Then the canary saw nothing: the proxy answered the plain target itself and refused
    # the tunnel to the TLS one
    assert canary.hits == 0
    assert tls_error is not None
    assert "ERR_TUNNEL_CONNECTION_FAILED" in tls_error
    assert plain is not None
    assert plain.status == 403
    assert origin.paths()[:1] == ["/redirect"]
    assert "/redirect-tls" in origin.paths()


async def test_name_rebinding_to_the_canary_after_the_page_loaded_is_refused(
    servers: tuple[OriginServer, Canary], names: NameTable, context: BrowserContext
) -> None:
    origin, canary = servers
    # Given a name that answers the allowed origin once and the canary afterwards
    name = f"rebind-{next(_rebind_names)}.test"
    names.rebinding(name, first=["127.0.0.2"], then=["127.0.0.1"])
    page = await context.new_page()

    # When the page loads from it and then fetches from its own (now rebound) origin
    response = await page.goto(f"http://{name}:{origin.port}/rebind")
    await page.wait_for_function("window.done === true")

    # Then the canary saw nothing: the page came from the origin and the later request was
    # refused by the proxy
    assert canary.hits == 0
    assert response is not None
    assert response.status == 200
    assert await page.evaluate("window.again") == 403
    assert origin.paths().count("/data") == 0


async def test_every_url_scout_accepts_is_read_the_same_way_by_chromium(context: BrowserContext) -> None:
    # Given the URLs scout's parser accepts, hostile spellings included
    submitted = [url for url, _canonical in CANONICAL]
    page = await context.new_page()

    # When Chromium's own URL parser reads them
    chromium_reads = await page.evaluate(
        "(urls) => urls.map((url) => { try { return new URL(url).href; } catch (e) { return null; } })",
        submitted,
    )

    # Then it reaches the same URL (so the same host) as scout, every time
    assert chromium_reads == [parse_target_url(url).url for url in submitted]
