"""Token verification in the style of a JWT library's advisory suite.

Every hostile or broken token gets 401 with a JSON error body, never a 500, for each of the
three strategies, and a valid token of one strategy never passes another's routes.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel

from scout.auth import Strategy, TokenPolicy, mint, policies
from scout.http_api import ScoutHttpApi
from scout.settings import load_settings
from tests.support.http_events import http_event, json_body


class Widget(BaseModel):
    name: str


ROUTES = {Strategy.USER: "/user-only", Strategy.ADMIN: "/admin-only", Strategy.SERVICE: "/service-only"}


@pytest.fixture
def app(scout_env: pytest.MonkeyPatch) -> ScoutHttpApi:
    app = ScoutHttpApi(load_settings(), title="auth test")

    for strategy, path in ROUTES.items():

        @app.get(path, middlewares=[app.requires(strategy)])
        def whoami() -> dict[str, str]:
            principal = app.principal()
            return {"strategy": principal.strategy.value, "sub": principal.subject}

    @app.post("/admin-widgets", middlewares=[app.requires(Strategy.ADMIN)])
    def create_widget(widget: Widget) -> dict[str, str]:
        return {"name": widget.name}

    @app.get("/user-or-service", middlewares=[app.requires(Strategy.USER, Strategy.SERVICE)])
    def either() -> dict[str, str]:
        return {"strategy": app.principal().strategy.value}

    return app


@pytest.fixture
def policy_of(scout_env: pytest.MonkeyPatch) -> dict[Strategy, TokenPolicy]:
    return policies(load_settings())


def call(app: ScoutHttpApi, path: str, authorization: str | None) -> dict[str, Any]:
    headers = {"authorization": authorization} if authorization is not None else {}
    return app.resolve(http_event("GET", path, headers=headers), {})


def claims_for(policy: TokenPolicy, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "subject-1",
        "iat": now,
        "exp": now + 600,
        "aud": policy.audience,
        "iss": policy.issuer,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def signed(policy: TokenPolicy, **overrides: Any) -> str:
    assert policy.secret is not None
    return jwt.encode(claims_for(policy, **overrides), policy.secret, algorithm="HS256")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_alg_none(policy: TokenPolicy) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims_for(policy)).encode())
    return f"{header}.{payload}."


def rs256_key_confusion(policy: TokenPolicy) -> list[str]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    rs_token = jwt.encode(claims_for(policy), private_key, algorithm="RS256")
    # The classic confusion: HMAC-sign with the public key, hoping the verifier uses it as a secret.
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims_for(policy)).encode())
    import hashlib
    import hmac

    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return [rs_token, f"{header}.{payload}.{b64(mac)}"]


def tampered(policy: TokenPolicy) -> str:
    token = signed(policy)
    head, _payload, signature = token.split(".")
    forged_payload = b64(json.dumps(claims_for(policy, sub="someone-else")).encode())
    return f"{head}.{forged_payload}.{signature}"


def flipped_signature(policy: TokenPolicy) -> str:
    token = signed(policy)
    last = "A" if token[-2] != "A" else "B"
    return token[:-2] + last + token[-1]


def hostile_tokens(policy: TokenPolicy) -> dict[str, str]:
    now = int(time.time())
    tokens = {
        "alg none": unsigned_alg_none(policy),
        "tampered payload": tampered(policy),
        "flipped signature": flipped_signature(policy),
        "missing exp": signed(policy, exp=None),
        "missing iat": signed(policy, iat=None),
        "missing sub": signed(policy, sub=None),
        "empty sub": signed(policy, sub=""),
        "blank sub": signed(policy, sub="   "),
        "non-string sub": signed(policy, sub=12345),
        "expired": signed(policy, iat=now - 3600, exp=now - 120),
        "nbf in the future": signed(policy, nbf=now + 300),
        "iat in the future": signed(policy, iat=now + 300, exp=now + 900),
        "wrong aud": signed(policy, aud="someone-else"),
        "missing aud": signed(policy, aud=None),
        "wrong iss": signed(policy, iss="https://evil.test"),
        "missing iss": signed(policy, iss=None),
        "wrong secret": jwt.encode(claims_for(policy), "w" * 40, algorithm="HS256"),
        "HS512 with the right secret": jwt.encode(claims_for(policy), policy.secret or "", algorithm="HS512"),
        "10 kB token": signed(policy, padding="x" * 10_000),
    }
    for index, token in enumerate(rs256_key_confusion(policy)):
        tokens[f"HS/RS confusion {index}"] = token
    return tokens


@pytest.mark.parametrize("strategy", list(Strategy))
def test_valid_token_passes_its_own_strategy(
    app: ScoutHttpApi, policy_of: dict[Strategy, TokenPolicy], strategy: Strategy
) -> None:
    # Given a token minted for the strategy
    token = mint(policy_of[strategy], "subject-1")
    # When it calls that strategy's route
    response = call(app, ROUTES[strategy], f"Bearer {token}")
    # Then the principal is the token's subject under that strategy
    assert response["statusCode"] == 200
    assert json_body(response) == {"strategy": strategy.value, "sub": "subject-1"}


@pytest.mark.parametrize("strategy", list(Strategy))
def test_hostile_tokens_get_401_with_json_error(
    app: ScoutHttpApi, policy_of: dict[Strategy, TokenPolicy], strategy: Strategy
) -> None:
    for name, token in hostile_tokens(policy_of[strategy]).items():
        # When a hostile token calls the strategy's route
        response = call(app, ROUTES[strategy], f"Bearer {token}")
        # Then it is refused with 401 and a JSON error, never a 500
        assert response["statusCode"] == 401, name
        assert json_body(response)["error"]["code"] == "unauthorized", name


@pytest.mark.parametrize("strategy", list(Strategy))
def test_valid_token_of_another_strategy_gets_403_naming_both_strategies(
    app: ScoutHttpApi, policy_of: dict[Strategy, TokenPolicy], strategy: Strategy
) -> None:
    for other in Strategy:
        if other is strategy:
            continue
        # Given a valid token of another strategy
        token = mint(policy_of[other], "subject-1")
        # When it calls this strategy's route
        response = call(app, ROUTES[strategy], f"Bearer {token}")
        # Then it is refused as the wrong kind of token, not as an invalid one
        assert response["statusCode"] == 403, other
        error = json_body(response)["error"]
        assert error["code"] == "forbidden"
        assert f"takes {strategy.value} tokens, not {other.value} tokens" in error["message"]


def test_token_signed_with_another_strategys_secret_and_claims_is_refused(
    app: ScoutHttpApi, policy_of: dict[Strategy, TokenPolicy]
) -> None:
    # Given a token carrying the admin audience and issuer but signed with the user secret
    admin = policy_of[Strategy.ADMIN]
    forged = jwt.encode(claims_for(admin), policy_of[Strategy.USER].secret or "", algorithm="HS256")
    # Then the admin route refuses it
    assert call(app, ROUTES[Strategy.ADMIN], f"Bearer {forged}")["statusCode"] == 401


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "bearer",
        "Token abc",
        "Bearer not-a-jwt",
        "Bearer a.b",
        "Bearer a.b.c.d",
        "Bearer ..",
        "Bearer \u00e9\u00e9.\u00e9.\u00e9",
        "Bearer " + "A" * 10_240,
    ],
)
def test_malformed_authorization_header_gets_401(app: ScoutHttpApi, authorization: str | None) -> None:
    response = call(app, ROUTES[Strategy.USER], authorization)
    assert response["statusCode"] == 401
    assert json_body(response)["error"]["code"] == "unauthorized"


def test_route_accepting_two_strategies_takes_either(
    app: ScoutHttpApi, policy_of: dict[Strategy, TokenPolicy]
) -> None:
    for strategy in (Strategy.USER, Strategy.SERVICE):
        response = call(app, "/user-or-service", f"Bearer {mint(policy_of[strategy], 'svc')}")
        assert json_body(response) == {"strategy": strategy.value}
    admin_token = mint(policy_of[Strategy.ADMIN], "admin")
    assert call(app, "/user-or-service", f"Bearer {admin_token}")["statusCode"] == 403


def test_strategy_without_a_secret_refuses_every_token(scout_env: pytest.MonkeyPatch) -> None:
    # Given no service secret configured: the strategy is disabled, not open
    scout_env.delenv("SERVICE_TOKEN_SECRET")
    app = ScoutHttpApi(load_settings(), title="no service secret")

    @app.get("/service-only", middlewares=[app.requires(Strategy.SERVICE)])
    def service_only() -> dict[str, str]:
        return {"ok": "yes"}

    forged = jwt.encode(claims_for(policies(load_settings())[Strategy.SERVICE]), "g" * 40, algorithm="HS256")
    assert call(app, "/service-only", f"Bearer {forged}")["statusCode"] == 401


def test_user_tokens_use_supabase_issuer_and_authenticated_audience(
    policy_of: dict[Strategy, TokenPolicy],
) -> None:
    user = policy_of[Strategy.USER]
    assert user.audience == "authenticated"
    assert user.issuer == "https://project.supabase.test/auth/v1"


def test_anonymous_malformed_body_on_a_protected_route_gets_401_not_400(app: ScoutHttpApi) -> None:
    # Given no token and a body that fails validation
    event = http_event("POST", "/admin-widgets", raw_body="{not json")
    # Then the caller learns it needs a token, not the route's body shape
    response = app.resolve(event, {})
    assert response["statusCode"] == 401


def test_authenticated_malformed_body_on_a_protected_route_gets_400(
    app: ScoutHttpApi, policy_of: dict[Strategy, TokenPolicy]
) -> None:
    token = mint(policy_of[Strategy.ADMIN], "admin")
    response = app.resolve(http_event("POST", "/admin-widgets", raw_body="{not json", token=token), {})
    assert response["statusCode"] == 400
