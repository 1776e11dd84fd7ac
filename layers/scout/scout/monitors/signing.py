"""Webhook signatures: ``Scout-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.

The timestamp is part of what is signed, so a receiver that rejects old timestamps also
rejects a captured request replayed later. Each attempt signs afresh with its own timestamp;
the body (the event as it was written) is the same every time. Receivers verify with
:func:`verify_signature` (docs/monitors.md, "Webhooks", shows the same check without scout).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Scout-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureMismatch(ValueError):
    """The request is not one scout signed with this secret (or it is too old to trust)."""


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Scout-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={int(timestamp)},{SCHEME}={_digest(secret, body, int(timestamp))}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Return if ``header`` signs ``body`` with ``secret`` within ``tolerance_seconds`` of ``now``.

    Raises :class:`SignatureMismatch` saying why otherwise: a missing or malformed header, a
    timestamp too far from ``now`` (either way), or no ``v1`` signature that matches.
    Several ``v1`` entries may be present (a secret being rotated); one must match.
    """
    if not header:
        raise SignatureMismatch(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureMismatch(f"{SIGNATURE_HEADER}: t is not a unix time") from None
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureMismatch(f"{SIGNATURE_HEADER} must be t=<unix>,{SCHEME}=<hex>")
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureMismatch(
            f"{SIGNATURE_HEADER}: timestamp {timestamp} is more than {tolerance_seconds} s from now; "
            "an old request may be a replay"
        )
    expected = _digest(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureMismatch(f"{SIGNATURE_HEADER}: no {SCHEME} signature matches the body")
