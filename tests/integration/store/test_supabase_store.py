"""What only the Supabase adapter does: the service-role key, as PostgREST sees it."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from scout.errors import UpstreamFailed
from scout.store.supabase import SupabaseStore
from tests.support.postgrest_transport import TEST_JWT_SECRET, TEST_SUPABASE_URL, PostgrestTransport


async def test_calls_run_as_the_service_role(supabase_store: SupabaseStore) -> None:
    # When the adapter calls a function through PostgREST
    session = await supabase_store.call("scout_test_session")
    # Then the function ran as service_role, the role of the key's JWT
    assert session["role"] == "service_role"


async def test_a_key_the_api_does_not_know_is_upstream_failed(
    postgrest_transport: PostgrestTransport,
) -> None:
    # Given a store holding a key signed with another secret
    now = int(time.time())
    forged = jwt.encode({"role": "service_role", "iat": now, "exp": now + 60}, "x" * 40, algorithm="HS256")
    store = SupabaseStore(TEST_SUPABASE_URL, forged, transport=postgrest_transport)
    # When it calls, then the API gateway turns it away
    with pytest.raises(UpstreamFailed):
        await store.call("scout_ping")
    await store.aclose()
    assert postgrest_transport.requests == 1


async def test_an_anon_key_cannot_call_api_functions(postgrest_transport: PostgrestTransport) -> None:
    # Given the public anon key, which browsers hold
    now = int(time.time())
    anon = jwt.encode({"role": "anon", "iat": now, "exp": now + 60}, TEST_JWT_SECRET, algorithm="HS256")
    transport = PostgrestTransport(postgrest_transport.dsn, jwt_secret=TEST_JWT_SECRET, api_keys=(anon,))
    store = SupabaseStore(TEST_SUPABASE_URL, anon, transport=transport)
    # When it calls an API function
    with pytest.raises(UpstreamFailed):
        await store.call("scout_ping")
    # Then Postgres refused it: anon lacks the EXECUTE privilege
    await store.aclose()
    assert transport.last_error_code == "42501"


async def test_an_http_client_passed_in_is_left_open(
    postgrest_transport: PostgrestTransport, service_role_key: str
) -> None:
    async with httpx.AsyncClient(transport=postgrest_transport) as client:
        store = SupabaseStore(TEST_SUPABASE_URL, service_role_key, http_client=client)
        assert (await store.call("scout_ping"))["ok"] is True
        await store.aclose()
        assert not client.is_closed


def test_a_supabase_url_that_is_not_http_is_refused(service_role_key: str) -> None:
    with pytest.raises(ValueError, match="http"):
        SupabaseStore("db.example.supabase.co", service_role_key)
