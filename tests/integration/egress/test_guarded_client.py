"""The guarded httpx client reaches allowed origins and never the canary.

An origin on 127.0.0.2 is allow-listed; a canary on 127.0.0.1 (same port) counts every
connection. Whatever the URL, redirect or DNS answer, the canary must stay at zero.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from scout.egress.policy import EgressPolicy, check_target_url
from scout.egress.transport import new_guarded_client
from scout.errors import BlockedTarget
from tests.integration.egress.servers import Canary, NameTable, OriginServer, Reply, SeenRequest, twin_servers
from tests.support.private_ca import issue_certificate

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _hello(request: SeenRequest) -> Reply:
    return Reply(200, b"hello from the allowed origin")


@pytest.fixture
async def servers() -> AsyncIterator[tuple[OriginServer, Canary]]:
    routes = {"/hello": _hello}
    async with twin_servers(routes) as (origin, canary):
        origin.routes["/to-canary"] = lambda _request: Reply(
            302, headers={"Location": f"http://127.0.0.1:{canary.port}/"}
        )
        origin.routes["/to-canary-by-name"] = lambda _request: Reply(
            307, headers={"Location": f"http://canary.test:{canary.port}/"}
        )
        origin.routes["/to-hello"] = lambda _request: Reply(301, headers={"Location": "/hello"})
        yield origin, canary


@pytest.fixture
def names() -> NameTable:
    return NameTable(
        {"allowed.test": ["127.0.0.2"], "canary.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]}
    )


@pytest.fixture
async def client(names: NameTable) -> AsyncIterator[httpx.AsyncClient]:
    policy = EgressPolicy(allow=["127.0.0.2"], resolver=names)
    async with new_guarded_client(policy, timeout=10.0) as guarded:
        yield guarded


async def test_allowed_origin_is_fetched_with_its_host_header(
    servers: tuple[OriginServer, Canary], client: httpx.AsyncClient
) -> None:
    origin, canary = servers

    # When the allowed origin is fetched by name
    response = await client.get(f"http://allowed.test:{origin.port}/hello")

    # Then it answers, the request carried the name in Host, and the canary saw nothing
    assert response.status_code == 200
    assert response.text == "hello from the allowed origin"
    assert origin.requests[-1].headers["host"] == f"allowed.test:{origin.port}"
    assert canary.hits == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://canary.test:{port}/",
        "http://2130706433:{port}/",
        "http://0x7f.1:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
    ],
)
async def test_direct_request_to_the_canary_is_refused(
    servers: tuple[OriginServer, Canary], client: httpx.AsyncClient, url: str
) -> None:
    _origin, canary = servers

    # When the canary is requested in any spelling (httpx itself rejects a few, like octal)
    with pytest.raises((BlockedTarget, httpx.InvalidURL)):
        await client.get(url.format(port=canary.port))

    # Then no connection reached it
    assert canary.hits == 0


@pytest.mark.parametrize("path", ["/to-canary", "/to-canary-by-name"])
async def test_redirect_to_the_canary_is_refused(
    servers: tuple[OriginServer, Canary], client: httpx.AsyncClient, path: str
) -> None:
    origin, canary = servers

    # When an allowed origin redirects to the canary
    with pytest.raises(BlockedTarget):
        await client.get(origin.url(path))

    # Then the allowed hop happened and the canary was never reached
    assert origin.paths() == [path]
    assert canary.hits == 0


async def test_redirect_within_the_allowed_origin_is_followed(
    servers: tuple[OriginServer, Canary], client: httpx.AsyncClient
) -> None:
    origin, _canary = servers

    response = await client.get(origin.url("/to-hello"))

    assert response.status_code == 200
    assert origin.paths() == ["/to-hello", "/hello"]


async def test_name_rebinding_to_the_canary_is_refused_on_the_next_connection(
    servers: tuple[OriginServer, Canary], client: httpx.AsyncClient, names: NameTable
) -> None:
    origin, canary = servers
    # Given a name that answers the allowed origin first and the canary afterwards
    names.rebinding("rebind.test", first=["127.0.0.2"], then=["127.0.0.1"])
    url = f"http://rebind.test:{origin.port}/hello"

    # When it is fetched twice (the origin closes each connection, so each is new)
    first = await client.get(url)
    with pytest.raises(BlockedTarget):
        await client.get(url)

    # Then the first reached the origin and the second was refused before connecting
    assert first.status_code == 200
    assert canary.hits == 0


async def test_url_checked_earlier_is_checked_again_when_connecting(
    servers: tuple[OriginServer, Canary], client: httpx.AsyncClient, names: NameTable
) -> None:
    origin, canary = servers
    # Given a URL that passed check_target_url while its name pointed at the allowed origin
    names.rebinding("rebind.test", first=["127.0.0.2"], then=["127.0.0.1"])
    policy = EgressPolicy(allow=["127.0.0.2"], resolver=names)
    target = await check_target_url(f"http://rebind.test:{origin.port}/hello", policy)

    # When the client fetches it after the name moved to the canary
    with pytest.raises(BlockedTarget):
        await client.get(target.url)

    # Then the connection was refused
    assert canary.hits == 0


async def test_name_with_one_canary_record_is_refused(
    servers: tuple[OriginServer, Canary], client: httpx.AsyncClient, names: NameTable
) -> None:
    origin, canary = servers
    names.fixed["split.test"] = ["127.0.0.2", "127.0.0.1"]

    with pytest.raises(BlockedTarget):
        await client.get(f"http://split.test:{origin.port}/hello")

    assert origin.requests == []
    assert canary.hits == 0


async def test_tls_verifies_the_hostname_while_connecting_to_the_checked_address() -> None:
    # Given a TLS origin on 127.0.0.2 whose certificate names only "allowed.test"
    pki = issue_certificate(["allowed.test"])
    async with twin_servers({"/hello": _hello}, pki.server_context()) as (origin, canary):
        policy = EgressPolicy(allow=["127.0.0.2"], resolver=NameTable({"allowed.test": ["127.0.0.2"]}))
        async with new_guarded_client(policy, ssl_context=pki.client_context()) as client:
            # When it is fetched by name
            response = await client.get(f"https://allowed.test:{origin.port}/hello")

            # Then the certificate verified against the name sent in SNI and Host
            assert response.status_code == 200
            assert origin.requests[-1].sni == "allowed.test"
            assert origin.requests[-1].headers["host"] == f"allowed.test:{origin.port}"

            # And fetching it by address fails verification: the name is what is checked
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(f"https://127.0.0.2:{origin.port}/hello")
        assert canary.hits == 0


async def test_unreachable_allowed_address_fails_as_a_connection_error() -> None:
    # Given an allowed address where nothing listens (a port just released)
    origin = OriginServer()
    await origin.start()
    port = origin.port
    await origin.stop()
    policy = EgressPolicy(allow=["127.0.0.2"])

    # When / Then the client reports an ordinary httpx connection error
    async with new_guarded_client(policy) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.2:{port}/")
