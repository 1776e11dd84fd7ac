"""Development signing keys, so ``scout dev`` signs and verifies user tokens as a current
Supabase project does: ES256 with a ``kid``, the public keys published as a JWKS.

The private keys live in ``.scout/dev-signing-keys.json`` (mode 0600, git-ignored), newest
first; the first is the current key. ``scout token --strategy user`` signs with it,
``--rotate`` puts a new current key in front and keeps the earlier ones in the set (as a
project keeps its previously used keys until their tokens have expired), and ``scout dev``
serves the public halves at ``/auth/v1/.well-known/jwks.json``, read from the file on every
request so a rotation shows at once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from scout.auth import SigningKey
from scout.local.dev_settings import state_dir, write_private_json

KEYS_FILE = "dev-signing-keys.json"
ALGORITHM = "ES256"
KEPT_KEYS = 5  # a rotation keeps this many earlier keys verifying
JWKS_PATH = "/auth/v1/.well-known/jwks.json"
PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


def signing_keys_path(root: Path) -> Path:
    return state_dir(root) / KEYS_FILE


def read_private_jwks(root: Path) -> list[dict[str, Any]]:
    """The kept private JWKs, current first; [] when none were made yet."""
    path = signing_keys_path(root)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except json.JSONDecodeError:
        raise RuntimeError(
            f"{path} is not valid JSON; delete it to make new development signing keys"
        ) from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not all(isinstance(key, dict) and key.get("kid") for key in keys):
        raise RuntimeError(f"{path} has no list of keys; delete it to make new development signing keys")
    return keys


def current_signing_key(root: Path) -> SigningKey:
    """The current development key, made (once) when there is none."""
    keys = read_private_jwks(root) or _write_keys(root, [_new_private_jwk()], first=True)
    return _signing_key(keys[0])


def rotate_signing_key(root: Path) -> SigningKey:
    """Make a new current key; the earlier ones stay in the published set."""
    keys = [_new_private_jwk(), *read_private_jwks(root)][: KEPT_KEYS + 1]
    _write_keys(root, keys)
    return _signing_key(keys[0])


def public_jwks(root: Path) -> dict[str, Any]:
    """The JWKS document of the kept keys, as Supabase publishes one (public members only)."""
    return {
        "keys": [
            {
                **{name: key[name] for name in PUBLIC_MEMBERS},
                "kid": key["kid"],
                "alg": ALGORITHM,
                "use": "sig",
                "key_ops": ["verify"],
            }
            for key in read_private_jwks(root)
        ]
    }


def served_jwks_default(api_url: str, *settings_layers: Mapping[str, str]) -> dict[str, str]:
    """``SUPABASE_JWKS_URL`` of the set served at ``api_url``, unless a layer names a project.

    Like a current Supabase project, the local stack's user tokens verify against the JWKS
    served beside its API; a shell or env.json that sets ``SUPABASE_URL`` means a real project,
    whose own keys (derived from that URL) must be used instead.
    """
    if any("SUPABASE_URL" in layer for layer in settings_layers):
        return {}
    return {"SUPABASE_JWKS_URL": f"{api_url}{JWKS_PATH}"}


def _new_private_jwk() -> dict[str, Any]:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(private, as_dict=True)
    return {**jwk, "kid": secrets.token_hex(8), "alg": ALGORITHM}


def _signing_key(jwk: dict[str, Any]) -> SigningKey:
    private = ECAlgorithm.from_jwk(jwk)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise RuntimeError("the current development signing key has no private part")
    return SigningKey(kid=str(jwk["kid"]), algorithm=ALGORITHM, private_key=private)


def _write_keys(root: Path, keys: list[dict[str, Any]], *, first: bool = False) -> list[dict[str, Any]]:
    # `scout dev` and `scout token` run for the first time at once must agree on one key.
    if not write_private_json(signing_keys_path(root), {"keys": keys}, replace=not first):
        return read_private_jwks(root)
    return keys
