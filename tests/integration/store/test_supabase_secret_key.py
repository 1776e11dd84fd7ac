"""The supabase store with a project's secret API key (sb_secret_...), as Supabase's gateway
takes it: in the ``apikey`` header, never as a different ``Authorization`` value."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from scout.store.supabase import SupabaseStore
from tests.support.postgrest_transport import TEST_JWT_SECRET, TEST_SUPABASE_URL, PostgrestTransport

SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Keeps the headers of every request on its way to the PostgREST transport."""

    def __init__(self, inner: PostgrestTransport) -> None:
        self.inner = inner
        self.headers: list[httpx.Headers] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(request.headers)
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def gateway(clean_database: str, service_role_key: str) -> AsyncIterator[PostgrestTransport]:
    transport = PostgrestTransport(
        clean_database, jwt_secret=TEST_JWT_SECRET, api_keys=(service_role_key,), secret_keys=(SECRET_KEY,)
    )
    try:
        yield transport
    finally:
        await transport.aclose()


async def session_with(gateway: PostgrestTransport, api_key: str) -> tuple[dict[str, str], httpx.Headers]:
    """The database session of one store call made with ``api_key``, and the call's headers."""
    recording = RecordingTransport(gateway)
    store = SupabaseStore(TEST_SUPABASE_URL, api_key, transport=recording)
    try:
        session = await store.call("scout_test_session")
    finally:
        await store.aclose()
    (headers,) = recording.headers
    return session, headers


async def test_a_secret_key_runs_calls_as_the_service_role(gateway: PostgrestTransport) -> None:
    session, headers = await session_with(gateway, SECRET_KEY)
    # Then the gateway mapped the key to service_role, and the key went in apikey alone
    assert session["role"] == "service_role"
    assert headers["apikey"] == SECRET_KEY
    assert "authorization" not in headers


async def test_the_legacy_service_role_key_still_goes_in_both_headers(
    gateway: PostgrestTransport, service_role_key: str
) -> None:
    session, headers = await session_with(gateway, service_role_key)
    assert session["role"] == "service_role"
    assert headers["apikey"] == service_role_key
    assert headers["authorization"] == f"Bearer {service_role_key}"


async def test_the_gateway_refuses_a_secret_key_beside_a_different_authorization(
    gateway: PostgrestTransport,
) -> None:
    # The emulated rule the adapter keeps to: a non-JWT Authorization must equal apikey.
    async with httpx.AsyncClient(transport=gateway, base_url=TEST_SUPABASE_URL) as client:
        refused = await client.post(
            "/rest/v1/rpc/scout_ping",
            json={},
            headers={"apikey": SECRET_KEY, "Authorization": "Bearer sb_secret_another"},
        )
        same = await client.post(
            "/rest/v1/rpc/scout_ping",
            json={},
            headers={"apikey": SECRET_KEY, "Authorization": f"Bearer {SECRET_KEY}"},
        )
    assert refused.status_code == 401
    assert same.status_code == 200
