"""The public keys Supabase Auth signs user access tokens with, from the project's JWKS.

Current Supabase projects sign access tokens with an asymmetric key (ES256, or RS256) and
publish the public half of every key that may still verify a token (current, standby,
previously used) at ``{SUPABASE_URL}/auth/v1/.well-known/jwks.json``, where Supabase's own
edge caches it for 10 minutes (Supabase docs, "JWT signing keys"). :class:`SigningKeys`
keeps one copy per execution environment:

- fetched through the pooled HTTP client on the process's event loop, never blocking it;
- kept at most ``max_age_seconds`` (10 minutes, as long as Supabase's edge keeps it);
- refetched at once for a ``kid`` it does not hold (a key rotated in), but at most once per
  ``refetch_interval_seconds``, so tokens with made-up ``kid`` s never turn into a request
  each;
- when the endpoint is down or answers garbage, the last good set is served for at most
  ``stale_seconds`` more; with no good set at all the caller gets :class:`SigningKeysUnavailable`
  (503 ``auth_unavailable``), never a 500 and never an open door.

Only ES256 (EC P-256) and RS256 (RSA) signature keys are kept: a symmetric (``oct``) key or
any other algorithm in the set is ignored, so no published value can become an HMAC secret.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scout.errors import ScoutError
from scout.observability import logger

if TYPE_CHECKING:
    import httpx

# The algorithms a Supabase signing key can use, with the key type each needs.
ASYMMETRIC_ALGORITHMS = {"ES256": "EC", "RS256": "RSA"}
MAX_JWKS_BYTES = 64 * 1024  # a real set holds a handful of keys, about 1 kB each
MAX_KEYS = 32
# A user request waits for a cold fetch; bounded well inside API Gateway's 30 s.
FETCH_TIMEOUT_SECONDS = 5.0


class SigningKeysUnavailable(ScoutError):
    """No trustworthy copy of the project's signing keys: tokens cannot be checked now."""

    code = "auth_unavailable"
    status = 503


@dataclass(frozen=True)
class VerificationKey:
    """One public key of the set, parsed once when the set was fetched."""

    kid: str
    algorithm: str  # ES256 or RS256, as the JWK declares it (or implies by its type)
    key_type: str  # EC or RSA
    key: Any  # the cryptography public key PyJWT verifies with


class SigningKeys:
    """A project's JWKS, cached as described in the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        http_client: Callable[[], httpx.AsyncClient] | None = None,
        max_age_seconds: float = 600.0,
        refetch_interval_seconds: float = 30.0,
        cold_retry_seconds: float = 5.0,
        stale_seconds: float = 1800.0,
        fetch_timeout_seconds: float = FETCH_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the JWKS URL must be an http(s) URL")
        self.url = url
        self._http_client = http_client or _shared_http_client
        self._max_age = max_age_seconds
        self._refetch_interval = refetch_interval_seconds
        self._cold_retry = cold_retry_seconds
        self._stale = stale_seconds
        self._fetch_timeout = fetch_timeout_seconds
        self._clock = clock
        self._keys: dict[str, VerificationKey] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._lock: asyncio.Lock | None = None

    async def key_for(self, kid: str) -> VerificationKey | None:
        """The key named ``kid``, or None when the (fresh enough) set has no such key.

        Raises :class:`SigningKeysUnavailable` when no good set was ever fetched, or the last
        one is older than ``max_age + stale`` seconds and the endpoint cannot give a new one.
        """
        keys = self._fresh_keys()
        if keys is not None and kid in keys:
            return keys[kid]  # the common case: no lock, no await on anything
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # concurrent misses share one fetch
            keys = self._fresh_keys()
            if (keys is None or kid not in keys) and self._may_fetch():
                await self._refresh()
            usable = self._usable_keys()
        if usable is None:
            raise SigningKeysUnavailable(
                "The token's signing keys cannot be fetched right now; try again shortly."
            )
        return usable.get(kid)

    def _fresh_keys(self) -> dict[str, VerificationKey] | None:
        if self._keys is None or self._clock() - self._fetched_at >= self._max_age:
            return None
        return self._keys

    def _usable_keys(self) -> dict[str, VerificationKey] | None:
        if self._keys is None or self._clock() - self._fetched_at >= self._max_age + self._stale:
            return None
        return self._keys

    def _may_fetch(self) -> bool:
        if self._attempted_at is None:
            return True
        interval = self._refetch_interval if self._keys is not None else self._cold_retry
        return self._clock() - self._attempted_at >= interval

    async def _refresh(self) -> None:
        import httpx  # with the first fetch, not at cold start

        self._attempted_at = self._clock()
        try:
            response = await self._http_client().get(
                self.url,
                headers={"Accept": "application/json"},
                timeout=self._fetch_timeout,
                follow_redirects=False,
            )
            keys = parse_jwks(response)
        except (httpx.HTTPError, InvalidJwks) as exc:
            logger.warning(
                "JWKS fetch failed; keeping the last good set",
                extra={
                    "jwks_url": self.url,
                    "error": str(exc) or type(exc).__name__,
                    "has_keys": self._keys is not None,
                },
            )
            return
        self._keys = keys
        self._fetched_at = self._clock()
        logger.info("JWKS fetched", extra={"jwks_url": self.url, "kids": sorted(keys)})


class InvalidJwks(ValueError):
    """The endpoint answered, but not with a JSON Web Key Set."""


def parse_jwks(response: httpx.Response) -> dict[str, VerificationKey]:
    """The usable signature keys of a JWKS response, by ``kid``."""
    if response.status_code != 200:
        raise InvalidJwks(f"HTTP {response.status_code}")
    if len(response.content) > MAX_JWKS_BYTES:
        raise InvalidJwks(f"the set is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidJwks("the body is not JSON") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InvalidJwks("the body has no 'keys' list")
    keys: dict[str, VerificationKey] = {}
    for entry in entries[:MAX_KEYS]:
        key = _verification_key(entry)
        if key is not None and key.kid not in keys:
            keys[key.kid] = key
    return keys


def _verification_key(entry: Any) -> VerificationKey | None:
    if not isinstance(entry, dict):
        return None
    kid, key_type = entry.get("kid"), entry.get("kty")
    if not isinstance(kid, str) or not kid or not isinstance(key_type, str):
        return None
    if key_type not in ASYMMETRIC_ALGORITHMS.values():
        return None
    if entry.get("use", "sig") != "sig":
        return None
    operations = entry.get("key_ops")
    if operations is not None and (not isinstance(operations, list) or "verify" not in operations):
        return None
    if "d" in entry or "p" in entry:
        return None  # a private key has no business in a public set; refuse to hold it
    import jwt  # loaded by then: a token is being verified

    try:
        parsed = jwt.PyJWK(entry)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    algorithm = parsed.algorithm_name
    if ASYMMETRIC_ALGORITHMS.get(algorithm) != key_type:
        return None  # ES384, PS256, an EC key claiming RS256 ...: not a Supabase signing key
    if key_type == "EC" and entry.get("crv") != "P-256":
        return None
    return VerificationKey(kid, algorithm, key_type, parsed.key)


def _shared_http_client() -> httpx.AsyncClient:
    from scout.runtime import http_client

    return http_client()


_shared: dict[str, SigningKeys] = {}


def signing_keys_for(url: str) -> SigningKeys:
    """The execution environment's one cache of the set at ``url``."""
    keys = _shared.get(url)
    if keys is None:
        keys = _shared[url] = SigningKeys(url)
    return keys
