"""JWT verification for the three token strategies (README.md, Configuration).

Each strategy has its own secret, issuer and audience, so a token minted for one never
passes another's routes even if an operator reused a secret. Every decode pins HS256,
requires ``exp``, ``iat`` and a non-empty ``sub``, and checks ``aud`` and ``iss``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from scout.errors import Forbidden, Unauthorized
from scout.settings import Settings

ALGORITHM = "HS256"
# Far above any real Supabase or scout token; refusing early bounds the work of a hostile one.
MAX_TOKEN_BYTES = 4096


class Strategy(StrEnum):
    USER = "user"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    strategy: Strategy
    subject: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenPolicy:
    strategy: Strategy
    secret: str | None
    issuer: str
    audience: str


def policies(settings: Settings) -> dict[Strategy, TokenPolicy]:
    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    user_issuer = settings.user_token_issuer or (
        f"{settings.supabase_url.rstrip('/')}/auth/v1" if settings.supabase_url else "scout-user"
    )
    return {
        Strategy.USER: TokenPolicy(
            Strategy.USER, secret(settings.supabase_jwt_secret), user_issuer, "authenticated"
        ),
        Strategy.ADMIN: TokenPolicy(
            Strategy.ADMIN, secret(settings.admin_session_secret), settings.admin_token_issuer, "scout-admin"
        ),
        Strategy.SERVICE: TokenPolicy(
            Strategy.SERVICE,
            secret(settings.service_token_secret),
            settings.service_token_issuer,
            "scout-service",
        ),
    }


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("This route needs a bearer token in the Authorization header.")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    if len(token) > MAX_TOKEN_BYTES:
        raise Unauthorized("The token is too large.")
    return token


def verify(token: str, policy: TokenPolicy, *, leeway_seconds: int) -> Principal:
    """Decode ``token`` under one strategy's policy or raise :class:`Unauthorized`."""
    if policy.secret is None:
        raise Unauthorized(f"{policy.strategy} tokens are not accepted here.")
    # Imported on the first token, not at cold start: PyJWT loads cryptography's backends.
    import jwt

    try:
        claims = jwt.decode(
            token,
            policy.secret,
            algorithms=[ALGORITHM],
            audience=policy.audience,
            issuer=policy.issuer,
            leeway=leeway_seconds,
            options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_iat": True},
        )
    except jwt.PyJWTError:
        # One message for every failure: the caller learns nothing about which check tripped.
        raise Unauthorized("The token is invalid or expired.") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthorized("The token is invalid or expired.")
    return Principal(policy.strategy, subject, claims)


def authenticate(
    authorization: str | None,
    accepted: tuple[Strategy, ...],
    all_policies: dict[Strategy, TokenPolicy],
    *,
    leeway_seconds: int,
) -> Principal:
    """The principal of the first accepted strategy the token verifies under."""
    token = bearer_token(authorization)
    for strategy in accepted:
        try:
            return verify(token, all_policies[strategy], leeway_seconds=leeway_seconds)
        except Unauthorized:
            continue
    other = _claimed_strategy(token, all_policies)
    if other is not None and other not in accepted:
        try:
            verify(token, all_policies[other], leeway_seconds=leeway_seconds)
        except Unauthorized:
            pass
        else:
            # A genuine token, just not one this route takes: say so, rather than "invalid".
            wanted = " or ".join(strategy.value for strategy in accepted)
            raise Forbidden(f"This route takes {wanted} tokens, not {other.value} tokens.")
    raise Unauthorized("The token is invalid or expired.")


def _claimed_strategy(token: str, all_policies: dict[Strategy, TokenPolicy]) -> Strategy | None:
    """The strategy whose audience the token names (unverified: only to pick which to check)."""
    import jwt  # imported on the first token, as in verify (cold start)

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    for strategy, policy in all_policies.items():
        if policy.audience in audiences:
            return strategy
    return None


def mint(policy: TokenPolicy, subject: str, *, ttl_seconds: int = 3600, **extra: Any) -> str:
    """Sign a token for development and tests (``scout token``)."""
    if policy.secret is None:
        raise RuntimeError(f"cannot mint a {policy.strategy} token: its secret is not set")
    if not subject.strip():
        raise ValueError("subject must not be empty")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": now,
        "exp": now + ttl_seconds,
        "aud": policy.audience,
        "iss": policy.issuer,
    }
    if policy.strategy is Strategy.USER:
        claims.setdefault("role", "authenticated")
    claims.update(extra)
    import jwt

    return jwt.encode(claims, policy.secret, algorithm=ALGORITHM)
