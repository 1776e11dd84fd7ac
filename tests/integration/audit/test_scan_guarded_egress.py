"""The scan engine behind the real egress guard (scout.egress).

Loopback stands in for the internet: the policy allows 127.0.0.1 only, so 127.0.0.2 plays
the private address that must never be reached. A server listens there to prove it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from scout.audit.axe import AxeScript
from scout.audit.egress_gate import GuardedEgress
from scout.audit.engine import ScanEngine, ScanOptions
from scout.egress.policy import EgressPolicy
from scout.settings import load_settings
from tests.integration.audit.conftest import CHROMIUM
from tests.integration.audit.servers import Reply, SiteServer, shop_routes

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def private_site() -> Iterator[SiteServer]:
    with SiteServer(shop_routes(), host="127.0.0.2") as site:
        yield site


@pytest.fixture(scope="module")
def public_site(private_site: SiteServer) -> Iterator[SiteServer]:
    routes = shop_routes()
    routes["/to-private"] = Reply(302, "", headers={"Location": private_site.url("/")})
    with SiteServer(routes) as site:
        yield site


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def guarded_engine(axe_script: AxeScript) -> AsyncIterator[ScanEngine]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALLOWED_HOSTS", "localhost")
        patch.setenv("CHROMIUM_PATH", CHROMIUM)
        gate = GuardedEgress(EgressPolicy(allow=("127.0.0.1",), resolver=None))
        engine = ScanEngine.with_own_browsers(
            load_settings(),
            egress=gate,
            axe_script=axe_script,
            options=ScanOptions(navigation_timeout_seconds=20),
        )
        yield engine
        await engine.aclose()
        await gate.aclose()


async def test_allowed_page_is_scanned_through_the_guard(
    guarded_engine: ScanEngine, public_site: SiteServer
) -> None:
    # Given a page on an address the policy allows
    # When it is scanned with every browser routed through the egress proxy
    outcome = await guarded_engine.scan(public_site.url("/"), "mobile")

    # Then the scan is complete
    assert outcome.result.status == "succeeded", outcome.result.error
    assert outcome.result.lighthouse is not None
    assert outcome.result.axe is not None


async def test_address_outside_the_policy_is_refused_before_navigation(
    guarded_engine: ScanEngine, private_site: SiteServer
) -> None:
    # Given a page on an address the policy does not allow
    # When it is scanned
    outcome = await guarded_engine.scan(private_site.url("/"), "mobile")

    # Then the scan failed as blocked_target and nothing reached the address
    assert outcome.result.status == "failed"
    assert outcome.result.error is not None
    assert outcome.result.error.code == "blocked_target"
    assert private_site.requests == []


async def test_redirect_to_an_address_outside_the_policy_is_blocked_target(
    guarded_engine: ScanEngine, public_site: SiteServer, private_site: SiteServer
) -> None:
    # Given an allowed page that redirects to a disallowed address
    # When it is scanned
    outcome = await guarded_engine.scan(public_site.url("/to-private"), "mobile")

    # Then neither browser reached the disallowed address, and the scan says why it failed
    assert private_site.requests == []
    assert outcome.result.status == "failed"
    assert outcome.result.error is not None
    assert outcome.result.error.code == "blocked_target"
