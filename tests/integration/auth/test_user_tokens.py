"""User tokens as a current Supabase project signs them, end to end through the HTTP API:
real ES256 and RS256 keys, the project's JWKS on a loopback server, and every forged,
confused or misdirected token answered 401 (or 503 when the keys cannot be had), never 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel

from scout.auth import Strategy
from scout.http_api import ScoutHttpApi
from scout.observability import logger
from scout.settings import load_settings
from scout.signing_keys import SigningKeys
from tests.integration.auth.conftest import ManualClock
from tests.support.http_events import http_event, json_body
from tests.support.http_server import Fault, LoopbackServer, run_in_thread
from tests.support.supabase_keys import (
    JWKS_PATH,
    JwksEndpoint,
    ProjectKey,
    access_claims,
    access_token,
    es256_key,
    random_kid,
    rs256_key,
    signed_with_header,
)

LEGACY_SECRET = "l" * 40
SERVICE_SECRET = "s" * 40


class Thing(BaseModel):
    name: str


@dataclass
class Project:
    """A Supabase project as scout sees it: its JWKS endpoint and the API verifying against it."""

    endpoint: JwksEndpoint
    server: LoopbackServer
    clock: ManualClock
    keys: SigningKeys
    app: ScoutHttpApi

    def call(self, token: str | None, path: str = "/me") -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token is not None else {}
        return self.app.resolve(http_event("GET", path, headers=headers), {})

    @property
    def fetches(self) -> int:
        return len([request for request in self.server.stats.requests if request.path == JWKS_PATH])


def build_app(keys: SigningKeys) -> ScoutHttpApi:
    app = ScoutHttpApi(load_settings(), title="user tokens", signing_keys=keys)

    @app.get("/me", middlewares=[app.requires(Strategy.USER)])
    def me() -> dict[str, Any]:
        principal = app.principal()
        return {
            "sub": principal.subject,
            "session_id": principal.session_id,
            "aal": principal.assurance_level,
        }

    @app.get("/user-or-service", middlewares=[app.requires(Strategy.USER, Strategy.SERVICE)])
    def either() -> dict[str, str]:
        return {"strategy": app.principal().strategy.value}

    return app


@pytest.fixture
def supabase_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Given a project on signing keys only: no legacy JWT secret."""
    for name, value in {
        "ALLOWED_HOSTS": "localhost",
        "SUPABASE_URL": "https://project.supabase.test",
        "SERVICE_TOKEN_SECRET": SERVICE_SECRET,
        "ADMIN_SESSION_SECRET": "a" * 40,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SUPABASE_JWT_SECRET", "ALLOW_ANONYMOUS_USERS", "USER_TOKEN_ISSUER", "SUPABASE_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def project(
    supabase_env: pytest.MonkeyPatch, clock: ManualClock, ec_key: ProjectKey, rsa_key: ProjectKey
) -> Iterator[Project]:
    endpoint = JwksEndpoint([ec_key, rsa_key])
    with run_in_thread(LoopbackServer(endpoint)) as server:
        supabase_env.setenv("SUPABASE_JWKS_URL", f"{server.url}{JWKS_PATH}")
        keys = SigningKeys(f"{server.url}{JWKS_PATH}", clock=clock)
        yield Project(endpoint, server, clock, keys, build_app(keys))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def public_pem(key: ProjectKey) -> bytes:
    pem: bytes = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def assert_refused(response: dict[str, Any], name: str = "") -> None:
    assert response["statusCode"] == 401, (name, response.get("body"))
    assert json_body(response)["error"]["code"] == "unauthorized", name


# ---- accepted ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key_name", ["ec_key", "rsa_key"])
def test_a_supabase_access_token_is_accepted_with_its_session_kept(
    project: Project, key_name: str, request: pytest.FixtureRequest
) -> None:
    key: ProjectKey = request.getfixturevalue(key_name)
    # Given an access token signed by the project's current key
    token = access_token(key, sub="user-1", session_id="session-1", aal="aal2")
    # When it calls a user route
    response = project.call(token)
    # Then the caller is the token's user, with its session and assurance level kept
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response) == {"sub": "user-1", "session_id": "session-1", "aal": "aal2"}


def test_an_audience_list_holding_authenticated_is_accepted(project: Project, ec_key: ProjectKey) -> None:
    token = access_token(ec_key, aud=["authenticated", "storage"])
    assert project.call(token)["statusCode"] == 200


def test_anonymous_users_are_accepted_when_allowed(
    project: Project, supabase_env: pytest.MonkeyPatch, ec_key: ProjectKey
) -> None:
    supabase_env.setenv("ALLOW_ANONYMOUS_USERS", "true")
    app = build_app(project.keys)
    token = access_token(ec_key, is_anonymous=True)
    assert app.resolve(http_event("GET", "/me", token=token), {})["statusCode"] == 200


# ---- forged and misdirected ----------------------------------------------------------------------


@pytest.mark.parametrize("key_name", ["ec_key", "rsa_key"])
def test_forged_and_confused_tokens_get_401(
    project: Project, key_name: str, request: pytest.FixtureRequest, other_project_key: ProjectKey
) -> None:
    key: ProjectKey = request.getfixturevalue(key_name)
    other_algorithm_key: ProjectKey = request.getfixturevalue("rsa_key" if key_name == "ec_key" else "ec_key")
    impostor = (es256_key if key.algorithm == "ES256" else rs256_key)(key.kid)  # same kid, wrong key
    claims = access_claims()
    jwk_json = json.dumps(key.public_jwk).encode()
    tokens = {
        "signed with another key under the project's kid": access_token(impostor),
        "another project's key and kid": access_token(other_project_key),
        "kid missing": access_token(key, headers={"kid": None}),
        "kid unknown": access_token(key.with_kid(random_kid())),
        "kid of a key of the other algorithm": access_token(key.with_kid(other_algorithm_key.kid)),
        "empty kid": access_token(key.with_kid("")),
        "non-string kid": signed_with_header(key, {"alg": key.algorithm, "kid": 7}, claims),
        "kid naming the key in a list": signed_with_header(
            key, {"alg": key.algorithm, "kid": [key.kid]}, claims
        ),
        "HS256 signed with the public key's PEM": hmac_signed(
            {"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims, public_pem(key)
        ),
        "HS256 signed with the public JWK": hmac_signed(
            {"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims, jwk_json
        ),
        "alg none": f"{b64(json.dumps({'alg': 'none', 'kid': key.kid}).encode())}."
        f"{b64(json.dumps(claims).encode())}.",
        "embedded jwk header": access_token(impostor, headers={"jwk": impostor.public_jwk}),
        "expired": access_token(key, iat=claims["iat"] - 7200, exp=claims["iat"] - 3600),
        "missing exp": access_token(key, exp=None),
        "missing iat": access_token(key, iat=None),
        "missing sub": access_token(key, sub=None),
        "empty sub": access_token(key, sub=""),
        "wrong iss": access_token(key, iss="https://other.supabase.test/auth/v1"),
        "missing iss": access_token(key, iss=None),
        "aud anon": access_token(key, aud="anon"),
        "aud list without authenticated": access_token(key, aud=["anon", "storage"]),
        "role anon": access_token(key, role="anon"),
        "role service_role": access_token(key, role="service_role"),
        "no role": access_token(key, role=None),
        "anonymous user": access_token(key, is_anonymous=True),
    }
    for name, token in tokens.items():
        assert_refused(project.call(token), name)


def test_the_service_role_and_anon_messages_say_the_token_is_not_a_users(
    project: Project, ec_key: ProjectKey
) -> None:
    for role in ("anon", "service_role"):
        message = json_body(project.call(access_token(ec_key, role=role)))["error"]["message"]
        assert "not a signed-in user" in message


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_a_key_url_in_the_header_is_never_fetched(
    project: Project, header: str, other_project_key: ProjectKey, ec_key: ProjectKey
) -> None:
    # Given an attacker's server publishing the attacker's key
    attacker = JwksEndpoint([other_project_key.with_kid(ec_key.kid)])
    with run_in_thread(LoopbackServer(attacker)) as attacker_server:
        # When a token signed by the attacker points scout at that server
        forged = access_token(
            other_project_key.with_kid(ec_key.kid), headers={header: f"{attacker_server.url}{JWKS_PATH}"}
        )
        genuine_with_url = access_token(ec_key, headers={header: f"{attacker_server.url}{JWKS_PATH}"})
        # Then both are refused and the attacker's server saw no request at all
        assert_refused(project.call(forged))
        assert_refused(project.call(genuine_with_url))
        assert attacker_server.stats.requests == []


@pytest.mark.parametrize("api_key", ["sb_publishable_Abc123xyz", "sb_secret_Abc123xyz"])
def test_an_api_key_as_bearer_token_is_401_saying_it_is_an_api_key(project: Project, api_key: str) -> None:
    response = project.call(api_key)
    assert_refused(response)
    assert "API key" in json_body(response)["error"]["message"]
    assert project.fetches == 0


def test_hs256_tokens_are_refused_when_no_legacy_secret_is_set(project: Project) -> None:
    # Given a token signed HS256 as a legacy project would, but this project has no legacy secret
    token = jwt.encode(access_claims(), LEGACY_SECRET, algorithm="HS256")
    assert_refused(project.call(token))


def test_legacy_and_signing_key_tokens_both_pass_during_a_migration(
    project: Project, supabase_env: pytest.MonkeyPatch, ec_key: ProjectKey
) -> None:
    # Given the legacy secret is still configured beside the JWKS
    supabase_env.setenv("SUPABASE_JWT_SECRET", LEGACY_SECRET)
    app = build_app(project.keys)
    legacy = jwt.encode(access_claims(), LEGACY_SECRET, algorithm="HS256")
    current = access_token(ec_key)
    for token in (legacy, current):
        assert app.resolve(http_event("GET", "/me", token=token), {})["statusCode"] == 200
    # And HS256 signed with the public key is still refused (the secret is the only HS key)
    confused = hmac_signed({"alg": "HS256", "kid": ec_key.kid}, access_claims(), public_pem(ec_key))
    assert app.resolve(http_event("GET", "/me", token=confused), {})["statusCode"] == 401


# ---- the endpoint misbehaving --------------------------------------------------------------------


def test_an_unreachable_jwks_on_a_cold_start_is_503_with_a_json_error(
    project: Project, ec_key: ProjectKey
) -> None:
    project.server.inject(Fault(path=JWKS_PATH, kind="status", status=503, times=100))
    response = project.call(access_token(ec_key))
    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "auth_unavailable"


def test_a_refused_jwks_connection_on_a_cold_start_is_503_not_500(
    supabase_env: pytest.MonkeyPatch, clock: ManualClock, ec_key: ProjectKey
) -> None:
    keys = SigningKeys(f"http://127.0.0.1:9{JWKS_PATH}", clock=clock)
    response = build_app(keys).resolve(http_event("GET", "/me", token=access_token(ec_key)), {})
    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "auth_unavailable"


def test_a_503_on_a_protected_route_with_a_bad_body_is_still_json(
    project: Project, ec_key: ProjectKey
) -> None:
    # Powertools validates the body before route middlewares; the token is checked there too.
    app = project.app

    @app.post("/things", middlewares=[app.requires(Strategy.USER)])
    def things(body: Thing) -> dict[str, str]:
        return {"name": body.name}

    project.server.inject(Fault(path=JWKS_PATH, kind="status", status=503, times=100))
    event = http_event("POST", "/things", raw_body="{oops", token=access_token(ec_key))
    response = app.resolve(event, {})
    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "auth_unavailable"


def test_a_warm_cache_keeps_verifying_while_the_jwks_is_down(project: Project, ec_key: ProjectKey) -> None:
    assert project.call(access_token(ec_key))["statusCode"] == 200
    project.server.inject(Fault(path=JWKS_PATH, kind="status", status=503, times=100))
    project.clock.advance(900)  # past the ten minutes: a refetch is tried, and fails
    assert project.call(access_token(ec_key))["statusCode"] == 200
    assert project.fetches == 2


def test_garbage_from_the_jwks_is_503_cold_and_cache_warm(project: Project, ec_key: ProjectKey) -> None:
    project.endpoint.body = b"<html>upstream error</html>"
    assert project.call(access_token(ec_key))["statusCode"] == 503
    project.endpoint.body = None
    project.clock.advance(10)
    assert project.call(access_token(ec_key))["statusCode"] == 200
    project.endpoint.body = b'{"keys": "rotating"}'
    project.clock.advance(700)
    assert project.call(access_token(ec_key))["statusCode"] == 200


def test_a_rotation_between_two_requests_verifies_both_keys(
    project: Project, ec_key: ProjectKey, ec_standby: ProjectKey
) -> None:
    # Given a request with the current key warmed the cache
    assert project.call(access_token(ec_key))["statusCode"] == 200
    # When the project rotates: the standby key becomes current, the old one stays published
    project.endpoint.publish(ec_standby, ec_key)
    project.clock.advance(45)
    # Then a token of the new key verifies (fetched at once), and so does one of the old key
    assert project.call(access_token(ec_standby))["statusCode"] == 200
    assert project.call(access_token(ec_key))["statusCode"] == 200
    assert project.fetches == 2


def test_standby_and_current_keys_both_verify(
    project: Project, ec_key: ProjectKey, ec_standby: ProjectKey
) -> None:
    project.endpoint.publish(ec_key, ec_standby)
    assert project.call(access_token(ec_key))["statusCode"] == 200
    assert project.call(access_token(ec_standby))["statusCode"] == 200
    assert project.fetches == 1


def test_a_revoked_key_stops_verifying_once_the_set_is_refetched(
    project: Project, ec_key: ProjectKey, ec_standby: ProjectKey
) -> None:
    assert project.call(access_token(ec_key))["statusCode"] == 200
    project.endpoint.publish(ec_standby)  # ec_key revoked
    project.clock.advance(601)
    assert_refused(project.call(access_token(ec_key)))


def test_a_thousand_tokens_with_random_kids_cause_a_handful_of_fetches(
    project: Project, ec_key: ProjectKey
) -> None:
    # When 1,000 tokens with made-up kids arrive over 100 seconds
    for index in range(1000):
        assert project.call(access_token(ec_key.with_kid(random_kid())))["statusCode"] == 401
        if index % 10 == 9:
            project.clock.advance(1)
    # Then the endpoint was asked a handful of times, and real tokens still pass
    assert project.fetches <= 5
    assert project.call(access_token(ec_key))["statusCode"] == 200


def test_a_service_token_passes_a_shared_route_without_touching_the_jwks(
    project: Project,
) -> None:
    project.server.inject(Fault(path=JWKS_PATH, kind="status", status=503, times=100))
    token = jwt.encode(
        {**access_claims(iss="scout-service"), "aud": "scout-service"}, SERVICE_SECRET, algorithm="HS256"
    )
    response = project.call(token, "/user-or-service")
    assert json_body(response) == {"strategy": "service"}
    assert project.fetches == 0


def test_the_callers_session_is_logged_and_never_outlives_its_request(
    project: Project, ec_key: ProjectKey
) -> None:
    # When a user's request is served
    assert project.call(access_token(ec_key, session_id="session-9", aal="aal2"))["statusCode"] == 200
    # Then the logs of that request carry its session and assurance level
    keys = logger.get_current_keys()
    assert (keys.get("session_id"), keys.get("aal"), keys.get("caller_strategy")) == (
        "session-9",
        "aal2",
        "user",
    )
    # And a refused request after it in the same environment logs no session at all
    assert_refused(project.call("not-a-token"))
    assert "session_id" not in logger.get_current_keys()
