"""Supabase projects' signing keys for tests: real ES256 / RS256 key pairs, access tokens signed
as Supabase Auth signs them, and a JWKS endpoint served on loopback.

Supabase publishes the public half of each signing key at
``{SUPABASE_URL}/auth/v1/.well-known/jwks.json`` (``kty``, ``kid``, ``alg``, ``use: sig``,
``key_ops: [verify]`` and the curve or modulus members); an access token's header carries
``alg``, ``kid`` and ``typ: JWT``, and its payload the claims of Supabase's
"JWT claims reference".
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.support.http_server import Request, Response

JWKS_PATH = "/auth/v1/.well-known/jwks.json"
ISSUER = "https://project.supabase.test/auth/v1"


@dataclass(frozen=True)
class ProjectKey:
    kid: str
    algorithm: str
    private_key: Any

    @property
    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        exported = (
            ECAlgorithm.to_jwk(public, as_dict=True)
            if self.algorithm == "ES256"
            else RSAAlgorithm.to_jwk(public, as_dict=True)
        )
        return {**exported, "kid": self.kid, "alg": self.algorithm, "use": "sig", "key_ops": ["verify"]}

    def with_kid(self, kid: str) -> ProjectKey:
        return ProjectKey(kid, self.algorithm, self.private_key)


def es256_key(kid: str | None = None) -> ProjectKey:
    return ProjectKey(kid or str(uuid.uuid4()), "ES256", ec.generate_private_key(ec.SECP256R1()))


def rs256_key(kid: str | None = None) -> ProjectKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ProjectKey(kid or str(uuid.uuid4()), "RS256", private)


def access_claims(issuer: str = ISSUER, **overrides: Any) -> dict[str, Any]:
    """A signed-in user's access token payload; an override of None drops the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(uuid.uuid4()),
        "aud": "authenticated",
        "exp": now + 3600,
        "iat": now,
        "email": "ada@example.com",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def access_token(key: ProjectKey, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
    header = {"kid": key.kid, "typ": "JWT", **(headers or {})}
    header = {name: value for name, value in header.items() if value is not None}
    return jwt.encode(access_claims(**claims), key.private_key, algorithm=key.algorithm, headers=header)


def signed_with_header(key: ProjectKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Signed by ``key`` with exactly ``header``, even one PyJWT would refuse to write."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = jwt.get_algorithm_by_name(key.algorithm).sign(signing_input.encode(), key.private_key)
    return f"{signing_input}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class JwksEndpoint:
    """What the project publishes; change ``keys`` to rotate. Serve it with LoopbackServer."""

    keys: list[ProjectKey] = field(default_factory=list)
    body: bytes | None = None  # answered instead of the set when not None (garbage)

    def publish(self, *keys: ProjectKey) -> None:
        self.keys = list(keys)

    def document(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self.keys]}

    def __call__(self, request: Request) -> Response:
        if request.path != JWKS_PATH:
            return Response.json({"message": "no route"}, status=404)
        if self.body is not None:
            return Response(200, self.body, {"Content-Type": "application/json"})
        return Response(200, json.dumps(self.document()).encode(), {"Content-Type": "application/json"})


def random_kid() -> str:
    return secrets.token_hex(16)
