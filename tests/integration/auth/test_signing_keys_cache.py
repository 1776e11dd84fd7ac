"""The JWKS cache against a real JWKS endpoint on loopback: fetched once, kept at most 10
minutes, refetched for an unknown kid at most once per 30 s, stale for a bounded time when
the endpoint is down or answers garbage, unavailable (503) only when it never answered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from scout.runtime import new_http_client
from scout.signing_keys import SigningKeys, SigningKeysUnavailable
from tests.integration.auth.conftest import ManualClock
from tests.support.http_server import Fault, LoopbackServer
from tests.support.supabase_keys import JWKS_PATH, JwksEndpoint, ProjectKey, random_kid


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client() as client:
        yield client


@pytest.fixture
def endpoint(ec_key: ProjectKey, rsa_key: ProjectKey) -> JwksEndpoint:
    return JwksEndpoint([ec_key, rsa_key])


@pytest.fixture
async def server(endpoint: JwksEndpoint) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer(endpoint) as server:
        yield server


def cache_of(server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock) -> SigningKeys:
    return SigningKeys(f"{server.url}{JWKS_PATH}", http_client=lambda: client, clock=clock)


def down_for(server: LoopbackServer, times: int = 1000) -> None:
    server.inject(Fault(path=JWKS_PATH, kind="status", status=503, times=times))


async def test_keys_are_fetched_once_and_served_from_the_cache(
    server: LoopbackServer,
    client: httpx.AsyncClient,
    clock: ManualClock,
    ec_key: ProjectKey,
    rsa_key: ProjectKey,
) -> None:
    keys = cache_of(server, client, clock)
    # When both keys are looked up many times within ten minutes
    for _ in range(50):
        ec = await keys.key_for(ec_key.kid)
        rsa = await keys.key_for(rsa_key.kid)
        clock.advance(5)
    # Then one request fetched the set, and each key carries its own algorithm
    assert len(server.stats.requests) == 1
    assert ec is not None
    assert (ec.algorithm, ec.key_type) == ("ES256", "EC")
    assert rsa is not None
    assert (rsa.algorithm, rsa.key_type) == ("RS256", "RSA")


async def test_the_set_is_refetched_once_it_is_ten_minutes_old(
    server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    keys = cache_of(server, client, clock)
    await keys.key_for(ec_key.kid)
    clock.advance(599)
    await keys.key_for(ec_key.kid)
    assert len(server.stats.requests) == 1
    clock.advance(1)
    await keys.key_for(ec_key.kid)
    assert len(server.stats.requests) == 2


async def test_a_key_rotated_in_is_found_by_refetching_for_its_kid(
    server: LoopbackServer,
    endpoint: JwksEndpoint,
    client: httpx.AsyncClient,
    clock: ManualClock,
    ec_key: ProjectKey,
    ec_standby: ProjectKey,
) -> None:
    keys = cache_of(server, client, clock)
    await keys.key_for(ec_key.kid)
    # Given the project rotates: a new key becomes current, the old one stays published
    endpoint.publish(ec_standby, ec_key)
    clock.advance(31)
    # When a token names the new key
    found = await keys.key_for(ec_standby.kid)
    # Then the set is fetched again at once and both keys verify
    assert found is not None
    assert await keys.key_for(ec_key.kid) is not None
    assert len(server.stats.requests) == 2


async def test_a_thousand_random_kids_cause_at_most_a_handful_of_fetches(
    server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    keys = cache_of(server, client, clock)
    await keys.key_for(ec_key.kid)
    # When an attacker sends 1,000 tokens with made-up kids over 100 seconds
    for index in range(1000):
        assert await keys.key_for(random_kid()) is None
        if index % 10 == 0:
            clock.advance(1)
    # Then the endpoint saw the first fetch plus one per 30 s at most
    assert len(server.stats.requests) <= 1 + 100 // 30 + 1
    assert await keys.key_for(ec_key.kid) is not None


async def test_concurrent_misses_share_one_fetch(
    endpoint: JwksEndpoint, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    # Given a slow endpoint and a cold cache
    async with LoopbackServer(endpoint, latency=0.2) as server:
        keys = cache_of(server, client, clock)
        # When twenty requests need a key at once
        found = await asyncio.gather(*(keys.key_for(ec_key.kid) for _ in range(20)))
    # Then they waited for one fetch
    assert all(key is not None for key in found)
    assert len(server.stats.requests) == 1


async def test_a_cold_cache_with_the_endpoint_down_is_unavailable(
    server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    down_for(server)
    keys = cache_of(server, client, clock)
    with pytest.raises(SigningKeysUnavailable) as raised:
        await keys.key_for(ec_key.kid)
    assert (raised.value.status, raised.value.code) == (503, "auth_unavailable")
    # And requests right after it do not hammer the endpoint
    for _ in range(20):
        with pytest.raises(SigningKeysUnavailable):
            await keys.key_for(ec_key.kid)
    assert len(server.stats.requests) == 1


async def test_a_refused_connection_is_unavailable_too(client: httpx.AsyncClient, clock: ManualClock) -> None:
    keys = SigningKeys(f"http://127.0.0.1:9{JWKS_PATH}", http_client=lambda: client, clock=clock)
    with pytest.raises(SigningKeysUnavailable):
        await keys.key_for("any")


async def test_a_cold_cache_recovers_once_the_endpoint_answers(
    server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    down_for(server, times=1)
    keys = cache_of(server, client, clock)
    with pytest.raises(SigningKeysUnavailable):
        await keys.key_for(ec_key.kid)
    clock.advance(5)
    assert await keys.key_for(ec_key.kid) is not None


async def test_a_warm_cache_serves_the_last_set_while_the_endpoint_is_down(
    server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    keys = cache_of(server, client, clock)
    await keys.key_for(ec_key.kid)
    down_for(server)
    # When the set is past its ten minutes and the endpoint is down
    clock.advance(700)
    # Then the last good set is still served, for a bounded time
    assert await keys.key_for(ec_key.kid) is not None
    clock.advance(1000)
    assert await keys.key_for(ec_key.kid) is not None
    clock.advance(600 + 1800 - 1700)
    with pytest.raises(SigningKeysUnavailable):
        await keys.key_for(ec_key.kid)


@pytest.mark.parametrize(
    "garbage",
    [
        b"<html><body>Bad gateway</body></html>",
        b'{"keys": ',
        b'{"keys": {"kid": "x"}}',
        b"[]",
        json.dumps({"keys": "none"}).encode(),
        b"\xff\xfe\x00",
        b'{"keys": [' + b" " * 70_000 + b"]}",
    ],
    ids=["html", "truncated", "keys-not-a-list", "array", "keys-a-string", "binary", "oversized"],
)
async def test_garbage_from_the_endpoint_keeps_the_last_good_set(
    server: LoopbackServer,
    endpoint: JwksEndpoint,
    client: httpx.AsyncClient,
    clock: ManualClock,
    ec_key: ProjectKey,
    garbage: bytes,
) -> None:
    keys = cache_of(server, client, clock)
    await keys.key_for(ec_key.kid)
    # Given the endpoint starts answering garbage with status 200
    endpoint.body = garbage
    clock.advance(601)
    # Then the last good set is served
    assert await keys.key_for(ec_key.kid) is not None
    assert len(server.stats.requests) == 2


async def test_garbage_on_a_cold_cache_is_unavailable(
    server: LoopbackServer, endpoint: JwksEndpoint, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    endpoint.body = b"<html>maintenance</html>"
    with pytest.raises(SigningKeysUnavailable):
        await cache_of(server, client, clock).key_for("ec-current")


async def test_only_public_es256_and_rs256_signature_keys_are_kept(
    endpoint: JwksEndpoint,
    client: httpx.AsyncClient,
    clock: ManualClock,
    ec_key: ProjectKey,
    rsa_key: ProjectKey,
) -> None:
    # Given a set holding, beside one good key, keys scout must never verify with
    private_ec = {**ec_key.public_jwk, "kid": "has-private-part", "d": "AAAA"}
    hmac = {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256"}
    ec_claiming_rs256 = {**ec_key.public_jwk, "kid": "ec-as-rs256", "alg": "RS256"}
    rsa_claiming_es256 = {**rsa_key.public_jwk, "kid": "rsa-as-es256", "alg": "ES256"}
    encryption = {**ec_key.public_jwk, "kid": "for-encryption", "use": "enc"}
    ps256 = {**rsa_key.public_jwk, "kid": "ps256", "alg": "PS256"}
    not_a_key = {"kid": "nothing"}
    entries = [ec_key.public_jwk, private_ec, hmac, ec_claiming_rs256, rsa_claiming_es256, encryption, ps256]
    endpoint.body = json.dumps({"keys": [*entries, not_a_key, "text"]}).encode()
    async with LoopbackServer(endpoint) as server:
        keys = cache_of(server, client, clock)
        # Then only the good key is found
        assert await keys.key_for(ec_key.kid) is not None
        for kid in ("has-private-part", "hmac", "ec-as-rs256", "rsa-as-es256", "for-encryption", "ps256"):
            assert await keys.key_for(kid) is None, kid


async def test_a_redirect_from_the_endpoint_is_not_followed(
    server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    # Given an endpoint that redirects to another server publishing other keys
    async with LoopbackServer(JwksEndpoint([ec_key])) as elsewhere:
        server.inject(
            Fault(
                path=JWKS_PATH, kind="status", status=302, headers={"Location": f"{elsewhere.url}{JWKS_PATH}"}
            )
        )
        # Then the redirect is a failed fetch, and the other server sees nothing
        with pytest.raises(SigningKeysUnavailable):
            await cache_of(server, client, clock).key_for(ec_key.kid)
        assert elsewhere.stats.requests == []


async def test_a_stalled_endpoint_is_given_up_on_within_the_fetch_timeout(
    server: LoopbackServer, client: httpx.AsyncClient, clock: ManualClock, ec_key: ProjectKey
) -> None:
    server.inject(Fault(path=JWKS_PATH, kind="stall", seconds=5.0))
    keys = SigningKeys(
        f"{server.url}{JWKS_PATH}", http_client=lambda: client, clock=clock, fetch_timeout_seconds=0.2
    )
    with pytest.raises(SigningKeysUnavailable):
        await asyncio.wait_for(keys.key_for(ec_key.kid), timeout=3)
