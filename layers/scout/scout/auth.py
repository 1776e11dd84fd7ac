"""JWT verification for the three token strategies (README.md, Configuration).

Each strategy has its own keys, issuer and audience, so a token minted for one never passes
another's routes even if an operator reused a secret. Every decode pins the algorithm,
requires ``exp``, ``iat`` and a non-empty ``sub``, and checks ``aud`` and ``iss``.

``user`` tokens are Supabase access tokens as current projects issue them (Supabase docs,
"JWT signing keys" and "JWT claims reference"): ES256 or RS256, the key chosen by the
header's ``kid`` from the project's JWKS (:mod:`scout.signing_keys`). HS256 with
``SUPABASE_JWT_SECRET`` is the legacy path, open only while that secret is configured.
``admin`` and ``service`` tokens are scout's own, HS256 with their secrets.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from scout import runtime
from scout.errors import Forbidden, ScoutError, Unauthorized
from scout.settings import Settings
from scout.signing_keys import ASYMMETRIC_ALGORITHMS, SigningKeys, signing_keys_for

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

# scout's own admin and service tokens, and Supabase's legacy user tokens.
HMAC_ALGORITHM = "HS256"
# Far above any real Supabase or scout token; refusing early bounds the work of a hostile one.
MAX_TOKEN_BYTES = 4096
# Supabase's new API keys are not JWTs; sent as a bearer token they are a client mistake
# worth naming (Supabase docs, "API keys": they belong in the ``apikey`` header).
API_KEY_PREFIXES = ("sb_publishable_", "sb_secret_")
# Header parameters that point at (or carry) a key: a verifier that follows them lets the
# token choose its own key. scout never fetches or trusts them; a token carrying one is refused.
KEY_CARRYING_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
USER_ROLE = "authenticated"
INVALID = "The token is invalid or expired."


class NotAUser(Unauthorized):
    """A genuine token that is not a signed-in user's (anon or service_role, anonymous user)."""


class Strategy(StrEnum):
    USER = "user"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    strategy: Strategy
    subject: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def session_id(self) -> str | None:
        value = self.claims.get("session_id")
        return value if isinstance(value, str) else None

    @property
    def assurance_level(self) -> str | None:
        """Supabase's ``aal`` claim (``aal1``, or ``aal2`` after multi-factor sign-in)."""
        value = self.claims.get("aal")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class TokenPolicy:
    strategy: Strategy
    secret: str | None  # HS256 secret: scout's own tokens, or Supabase's legacy JWT secret
    issuer: str
    audience: str
    signing_keys: SigningKeys | None = None  # user strategy: the project's JWKS
    allow_anonymous: bool = False

    @property
    def accepts_anything(self) -> bool:
        return self.secret is not None or self.signing_keys is not None


def user_token_issuer(settings: Settings) -> str:
    if settings.user_token_issuer:
        return settings.user_token_issuer
    if settings.supabase_url:
        return f"{settings.supabase_url.rstrip('/')}/auth/v1"
    return "scout-user"


def policies(settings: Settings, *, signing_keys: SigningKeys | None = None) -> dict[Strategy, TokenPolicy]:
    """Each strategy's policy; ``signing_keys`` replaces the shared JWKS cache (tests)."""

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    jwks_url = settings.jwks_url
    if signing_keys is None and jwks_url is not None:
        signing_keys = signing_keys_for(jwks_url)
    return {
        Strategy.USER: TokenPolicy(
            Strategy.USER,
            secret(settings.supabase_jwt_secret),
            user_token_issuer(settings),
            "authenticated",
            signing_keys=signing_keys,
            allow_anonymous=settings.allow_anonymous_users,
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
    if token.startswith(API_KEY_PREFIXES):
        raise Unauthorized(
            "The bearer token is a Supabase API key, not a user access token: send the signed-in "
            "user's access token (session.access_token) as the bearer token."
        )
    return token


def verify(token: str, policy: TokenPolicy, *, leeway_seconds: int) -> Principal:
    """Decode ``token`` under one strategy's policy or raise :class:`Unauthorized`.

    Raises :class:`scout.signing_keys.SigningKeysUnavailable` (503) when the token names a
    signing key and the project's key set cannot be had: the token is neither good nor bad.
    """
    if not policy.accepts_anything:
        raise Unauthorized(f"{policy.strategy} tokens are not accepted here.")
    # Imported on the first token, not at cold start: PyJWT loads cryptography's backends.
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized(INVALID) from None
    if KEY_CARRYING_HEADERS & header.keys():
        raise Unauthorized(INVALID)
    algorithm = header.get("alg")
    if algorithm == HMAC_ALGORITHM and policy.secret is not None:
        key: Any = policy.secret
    elif algorithm in ASYMMETRIC_ALGORITHMS and policy.signing_keys is not None:
        key = _public_key(header, policy.signing_keys)
    else:
        # alg none, HS* without a secret (a public key as an HMAC secret), anything else.
        raise Unauthorized(INVALID)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=policy.audience,
            issuer=policy.issuer,
            leeway=leeway_seconds,
            options={"require": ["exp", "iat", "sub", "aud", "iss"], "verify_iat": True},
        )
    except jwt.PyJWTError:
        # One message for every failure: the caller learns nothing about which check tripped.
        raise Unauthorized(INVALID) from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthorized(INVALID)
    if policy.strategy is Strategy.USER:
        _check_user_claims(claims, policy)
    return Principal(policy.strategy, subject, claims)


def _public_key(header: dict[str, Any], signing_keys: SigningKeys) -> Any:
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise Unauthorized(INVALID)
    found = runtime.run(signing_keys.key_for(kid))
    # The header's alg must be the key's own: an ES256 token naming an RSA key is forged.
    if found is None or found.algorithm != header["alg"]:
        raise Unauthorized(INVALID)
    return found.key


def _check_user_claims(claims: dict[str, Any], policy: TokenPolicy) -> None:
    # aud "authenticated" alone is not enough: an anon or service_role key shares the project's
    # signing key, and only role "authenticated" is a signed-in user.
    if claims.get("role") != USER_ROLE:
        raise NotAUser("The token is not a signed-in user's access token.")
    if claims.get("is_anonymous") is True and not policy.allow_anonymous:
        raise NotAUser("Anonymous users cannot use this API; sign in first.")


def authenticate(
    authorization: str | None,
    accepted: tuple[Strategy, ...],
    all_policies: dict[Strategy, TokenPolicy],
    *,
    leeway_seconds: int,
) -> Principal:
    """The principal of the first accepted strategy the token verifies under."""
    token = bearer_token(authorization)
    not_a_user: NotAUser | None = None
    for strategy in accepted:
        try:
            return verify(token, all_policies[strategy], leeway_seconds=leeway_seconds)
        except NotAUser as refused:
            not_a_user = refused
        except Unauthorized:
            continue
    if not_a_user is not None:
        raise not_a_user  # a genuine token that is not a user's says so
    other = _claimed_strategy(token, all_policies)
    if other is not None and other not in accepted:
        try:
            verify(token, all_policies[other], leeway_seconds=leeway_seconds)
        except ScoutError:  # refused, or its keys out of reach: not known to be genuine
            pass
        else:
            # A genuine token, just not one this route takes: say so, rather than "invalid".
            wanted = " or ".join(strategy.value for strategy in accepted)
            raise Forbidden(f"This route takes {wanted} tokens, not {other.value} tokens.")
    raise Unauthorized(INVALID)


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


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs development user tokens as a Supabase project would."""

    kid: str
    algorithm: str
    private_key: EllipticCurvePrivateKey | RSAPrivateKey


def mint(
    policy: TokenPolicy,
    subject: str,
    *,
    ttl_seconds: int = 3600,
    signing_key: SigningKey | None = None,
    **extra: Any,
) -> str:
    """Sign a token for development and tests (``scout token``).

    A user token carries the claims Supabase Auth puts in an access token; with
    ``signing_key`` it is signed like a current project's (ES256 with a ``kid``), else with
    the legacy HS256 secret.
    """
    if not subject.strip():
        raise ValueError("subject must not be empty")
    if signing_key is None and policy.secret is None:
        raise RuntimeError(f"cannot mint a {policy.strategy} token: its secret is not set")
    if signing_key is not None and policy.strategy is not Strategy.USER:
        raise ValueError("only user tokens are signed with a signing key")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": now,
        "exp": now + ttl_seconds,
        "aud": policy.audience,
        "iss": policy.issuer,
    }
    if policy.strategy is Strategy.USER:
        claims.update(role=USER_ROLE, aal="aal1", session_id=str(uuid.uuid4()), is_anonymous=False, amr=[])
    claims.update(extra)
    import jwt

    if signing_key is not None:
        return jwt.encode(
            claims,
            signing_key.private_key,
            algorithm=signing_key.algorithm,
            headers={"kid": signing_key.kid, "typ": "JWT"},
        )
    assert policy.secret is not None
    return jwt.encode(claims, policy.secret, algorithm=HMAC_ALGORITHM)
