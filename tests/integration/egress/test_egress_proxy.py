"""The egress proxy forwards allowed traffic and refuses everything else before connecting.

An origin on 127.0.0.2 is allow-listed; a canary on 127.0.0.1 (same port) counts every
connection. Clients are httpx (as a proxy client) and raw sockets for the request forms
httpx will not send.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from scout.egress.policy import EgressPolicy
from scout.egress.proxy import EgressProxy
from tests.integration.egress.servers import Canary, NameTable, OriginServer, Reply, SeenRequest, twin_servers
from tests.support.private_ca import issue_certificate

pytestmark = pytest.mark.asyncio(loop_scope="session")

READ_DEADLINE_SECONDS = 10.0


def _hello(request: SeenRequest) -> Reply:
    return Reply(200, b"hello from the allowed origin")


def _echo(request: SeenRequest) -> Reply:
    return Reply(200, request.body)


def _keep_alive(request: SeenRequest) -> Reply:
    return Reply(200, b"kept", headers={"Connection": "keep-alive", "Keep-Alive": "timeout=5"})


def _posing_as_the_proxy(_: SeenRequest) -> Reply:
    return Reply(502, b"fake refusal", headers={"X-Scout-Egress-Error": "dns_failed"})


ROUTES = {
    "/hello": _hello,
    "/echo": _echo,
    "/keep-alive": _keep_alive,
    "/posing-as-the-proxy": _posing_as_the_proxy,
}


@pytest.fixture
async def servers() -> AsyncIterator[tuple[OriginServer, Canary]]:
    async with twin_servers(ROUTES) as pair:
        yield pair


@pytest.fixture
def names() -> NameTable:
    return NameTable(
        {"allowed.test": ["127.0.0.2"], "canary.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]}
    )


@pytest.fixture
async def proxy(names: NameTable) -> AsyncIterator[EgressProxy]:
    async with EgressProxy(EgressPolicy(allow=["127.0.0.2"], resolver=names)) as running:
        yield running


async def exchange(proxy: EgressProxy, raw: bytes, *, read_until_eof: bool = True) -> bytes:
    """Send raw bytes to the proxy and return everything it answers until it closes."""
    port = int(proxy.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(READ_DEADLINE_SECONDS):
            if read_until_eof:
                return await reader.read(-1)
            return await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


async def test_plain_http_request_reaches_the_allowed_origin_in_origin_form(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    origin, canary = servers

    # When a client fetches the allowed origin by name through the proxy
    async with httpx.AsyncClient(proxy=proxy.url, trust_env=False) as client:
        response = await client.get(f"http://allowed.test:{origin.port}/hello?x=1")

    # Then the origin saw an ordinary origin-form request for that name, without proxy headers
    assert response.status_code == 200
    assert response.text == "hello from the allowed origin"
    seen = origin.requests[-1]
    assert seen.target == "/hello?x=1"
    assert seen.headers["host"] == f"allowed.test:{origin.port}"
    assert seen.headers["connection"] == "close"
    assert "proxy-connection" not in seen.headers
    assert canary.hits == 0


async def test_plain_http_request_body_is_forwarded(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    origin, _canary = servers

    async with httpx.AsyncClient(proxy=proxy.url, trust_env=False) as client:
        response = await client.post(origin.url("/echo"), content=b"x" * 200_000)

    assert response.status_code == 200
    assert response.content == b"x" * 200_000


async def test_proxy_credentials_are_not_forwarded_to_the_origin(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    origin, _canary = servers
    request = (
        f"GET http://127.0.0.2:{origin.port}/hello HTTP/1.1\r\nHost: 127.0.0.2:{origin.port}\r\n"
        "Proxy-Authorization: Basic c2VjcmV0OnNlY3JldA==\r\nProxy-Connection: keep-alive\r\n\r\n"
    ).encode()

    answer = await exchange(proxy, request)

    assert status_of(answer) == 200
    assert "proxy-authorization" not in origin.requests[-1].headers


async def test_response_tells_the_client_the_connection_ends(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    origin, _canary = servers

    # When the origin answers with keep-alive
    answer = await exchange(
        proxy, f"GET http://127.0.0.2:{origin.port}/keep-alive HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )

    # Then the client is told the connection closes (one request per proxied connection)
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"connection: close" in head
    assert b"keep-alive" not in head
    assert answer.endswith(b"kept")


async def test_https_is_tunnelled_with_connect_and_verified_by_name(names: NameTable) -> None:
    # Given a TLS origin on 127.0.0.2 whose certificate names only "allowed.test"
    pki = issue_certificate(["allowed.test"])
    policy = EgressPolicy(allow=["127.0.0.2"], resolver=names)
    async with (
        twin_servers(ROUTES, pki.server_context()) as (origin, canary),
        EgressProxy(policy) as proxy,
        httpx.AsyncClient(proxy=proxy.url, verify=pki.client_context(), trust_env=False) as client,
    ):
        # When a client fetches it through the proxy
        response = await client.get(f"https://allowed.test:{origin.port}/hello")

    # Then the tunnel carried TLS for the name end to end
    assert response.status_code == 200
    assert response.text == "hello from the allowed origin"
    assert origin.requests[-1].sni == "allowed.test"
    assert canary.hits == 0


async def test_plain_request_to_the_canary_is_refused_with_403(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    _origin, canary = servers

    async with httpx.AsyncClient(proxy=proxy.url, trust_env=False) as client:
        response = await client.get(f"http://127.0.0.1:{canary.port}/")

    assert response.status_code == 403
    assert response.text == "blocked by the egress policy\n"
    assert proxy.blocked == 1
    assert canary.hits == 0


async def test_connect_to_the_canary_is_refused(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    _origin, canary = servers

    async with httpx.AsyncClient(proxy=proxy.url, trust_env=False) as client:
        with pytest.raises(httpx.ProxyError, match="403"):
            await client.get(f"https://canary.test:{canary.port}/")

    assert proxy.blocked == 1
    assert canary.hits == 0


@pytest.mark.parametrize(
    "request_line",
    [
        "GET http://2130706433:{port}/ HTTP/1.1",
        "GET http://0x7f.1:{port}/ HTTP/1.1",
        "GET http://127.1:{port}/ HTTP/1.1",
        "GET http://[::ffff:127.0.0.1]:{port}/ HTTP/1.1",
        "GET http://%31%32%37.0.0.1:{port}/ HTTP/1.1",
        "GET http://localhost:{port}/ HTTP/1.1",
        "GET http://0.0.0.0:{port}/ HTTP/1.1",
        "CONNECT 0177.0.0.1:{port} HTTP/1.1",
        "CONNECT localhost:{port} HTTP/1.1",
        "CONNECT [::ffff:7f00:1]:{port} HTTP/1.1",
        "CONNECT canary.test.:{port} HTTP/1.1",
    ],
)
async def test_hostile_spellings_of_the_canary_are_refused(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy, request_line: str
) -> None:
    _origin, canary = servers

    answer = await exchange(proxy, (request_line.format(port=canary.port) + "\r\nHost: x\r\n\r\n").encode())

    assert status_of(answer) == 403
    assert proxy.blocked == 1
    assert canary.hits == 0


async def test_name_rebinding_to_the_canary_is_refused_on_the_next_request(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy, names: NameTable
) -> None:
    origin, canary = servers
    # Given a name that answers the allowed origin first and the canary afterwards
    names.rebinding("rebind.test", first=["127.0.0.2"], then=["127.0.0.1"])

    # When it is requested twice through the proxy
    async with httpx.AsyncClient(proxy=proxy.url, trust_env=False) as client:
        first = await client.get(f"http://rebind.test:{origin.port}/hello")
        second = await client.get(f"http://rebind.test:{origin.port}/hello")

    # Then only the first reached the origin, and the canary was never connected to
    assert (first.status_code, second.status_code) == (200, 403)
    assert origin.paths() == ["/hello"]
    assert canary.hits == 0


async def test_websocket_upgrade_over_plain_http_is_relayed(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    origin, _canary = servers
    handshake = (
        f"GET http://127.0.0.2:{origin.port}/ws HTTP/1.1\r\nHost: 127.0.0.2:{origin.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    ).encode()
    port = int(proxy.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        # When a websocket handshake is sent through the proxy
        writer.write(handshake)
        async with asyncio.timeout(READ_DEADLINE_SECONDS):
            head = await reader.readuntil(b"\r\n\r\n")
            frame = await reader.readexactly(2 + len(b"hello from the allowed origin"))
    finally:
        writer.close()

    # Then the origin's 101 and its first frame arrive untouched
    assert status_of(head) == 101
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert frame[2:] == b"hello from the allowed origin"
    assert origin.requests[-1].headers["connection"] == "Upgrade"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"garbage\r\n\r\n", 400),
        (b"GET https://127.0.0.2/ HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"CONNECT 127.0.0.2 HTTP/1.1\r\n\r\n", 400),
        (b"GET http://user@127.0.0.2/ HTTP/1.1\r\n\r\n", 400),
        (b"GET http://exa mple/ HTTP/1.1\r\n\r\n", 400),
        (b"GET http://127.0.0.2/ HTTP/1.1\r\n bad folded header\r\n\r\n", 400),
        (b"GET http://nowhere.test/ HTTP/1.1\r\n\r\n", 502),
    ],
)
async def test_malformed_or_unresolvable_request_gets_a_clear_error(
    proxy: EgressProxy, raw: bytes, status: int
) -> None:
    answer = await exchange(proxy, raw)

    assert status_of(answer) == status
    assert proxy.blocked == 0


async def test_oversized_request_head_is_refused(names: NameTable) -> None:
    async with EgressProxy(EgressPolicy(resolver=names), max_header_bytes=1024) as proxy:
        answer = await exchange(
            proxy, b"GET http://127.0.0.2/ HTTP/1.1\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n"
        )

    assert status_of(answer) == 431


async def test_allowed_target_where_nothing_listens_is_a_bad_gateway(proxy: EgressProxy) -> None:
    # Given an allowed address and a port just released
    origin = OriginServer()
    await origin.start()
    port = origin.port
    await origin.stop()

    answer = await exchange(proxy, f"CONNECT 127.0.0.2:{port} HTTP/1.1\r\n\r\n".encode())

    assert status_of(answer) == 502


async def test_silent_client_is_disconnected_after_the_header_timeout(names: NameTable) -> None:
    async with EgressProxy(EgressPolicy(resolver=names), header_timeout=0.2) as proxy:
        # When a client starts a request and never finishes its head
        answer = await exchange(proxy, b"GET http://127.0.0.2/ HTT")

    # Then the proxy answers 408 and closes
    assert status_of(answer) == 408


async def test_idle_tunnel_is_closed_after_the_idle_timeout(
    servers: tuple[OriginServer, Canary], names: NameTable
) -> None:
    origin, _canary = servers
    async with EgressProxy(EgressPolicy(allow=["127.0.0.2"], resolver=names), idle_timeout=0.2) as proxy:
        # When a tunnel is opened and nothing is sent either way
        answer = await exchange(proxy, f"CONNECT 127.0.0.2:{origin.port} HTTP/1.1\r\n\r\n".encode())

    # Then the tunnel was established and later closed by the proxy (EOF reached the client)
    assert answer == b"HTTP/1.1 200 Connection Established\r\n\r\n"


async def test_connections_beyond_the_cap_are_turned_away(names: NameTable) -> None:
    async with EgressProxy(EgressPolicy(resolver=names), max_connections=1) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        # Given one connection holding the only slot
        _held_reader, held_writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            held_writer.write(b"GET http://127.0.0.2/ HTTP/1.1\r\n")
            await held_writer.drain()
            await _until(lambda: proxy.active_connections == 1)

            # When another connection arrives
            answer = await exchange(proxy, b"GET http://127.0.0.2/ HTTP/1.1\r\n\r\n")
        finally:
            held_writer.close()

    # Then it is answered 503
    assert status_of(answer) == 503


async def test_stop_closes_open_connections_and_leaves_no_tasks(
    servers: tuple[OriginServer, Canary], names: NameTable
) -> None:
    origin, _canary = servers
    proxy = EgressProxy(EgressPolicy(allow=["127.0.0.2"], resolver=names))
    tasks_before = asyncio.all_tasks()
    await proxy.start()
    port = int(proxy.url.rsplit(":", 1)[1])
    # Given an open tunnel and a client still sending its head
    tunnel_reader, tunnel_writer = await asyncio.open_connection("127.0.0.1", port)
    tunnel_writer.write(f"CONNECT 127.0.0.2:{origin.port} HTTP/1.1\r\n\r\n".encode())
    async with asyncio.timeout(READ_DEADLINE_SECONDS):
        await tunnel_reader.readuntil(b"\r\n\r\n")
    slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", port)
    slow_writer.write(b"GET http://127.0.0.2/ HTTP/1.1\r\n")
    await _until(lambda: proxy.active_connections == 2)

    # When the proxy stops
    await proxy.stop()

    # Then both clients see the connection end, and no proxy task is left behind
    async with asyncio.timeout(READ_DEADLINE_SECONDS):
        assert await tunnel_reader.read(-1) == b""
        assert await slow_reader.read(-1) == b""
    tunnel_writer.close()
    slow_writer.close()
    assert proxy.active_connections == 0
    leftovers = [
        task for task in asyncio.all_tasks() - tasks_before if "EgressProxy" in repr(task.get_coro())
    ]
    assert leftovers == []
    with pytest.raises(RuntimeError, match="not started"):
        _ = proxy.url


async def _until(condition: object, attempts: int = 200) -> None:
    """Yield to the loop until ``condition()`` holds (bounded by ``attempts`` short sleeps)."""
    assert callable(condition)
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"GET http://canary.test/ HTTP/1.1\r\n\r\n", "blocked_target"),
        (b"GET http://nowhere.test/ HTTP/1.1\r\n\r\n", "dns_failed"),
        (b"GET http://127.0.0.2:9/ HTTP/1.1\r\n\r\n", "connection_failed"),
    ],
)
async def test_the_proxys_own_refusals_name_their_reason(proxy: EgressProxy, raw: bytes, reason: str) -> None:
    # When the proxy itself refuses a request
    answer = await exchange(proxy, raw)
    # Then its answer says why, for the scan engine to report the right error
    assert f"x-scout-egress-error: {reason}".encode() in answer.lower()


async def test_an_origin_cannot_pose_as_the_proxy(
    servers: tuple[OriginServer, Canary], proxy: EgressProxy
) -> None:
    # Given an origin that sends the proxy's marker header in its own 502
    origin, _canary = servers
    async with httpx.AsyncClient(proxy=proxy.url, trust_env=False) as client:
        response = await client.get(f"http://127.0.0.2:{origin.port}/posing-as-the-proxy")
    # Then the proxy strips it: only the proxy's own refusals carry it
    assert response.status_code == 502
    assert "x-scout-egress-error" not in response.headers
