"""Scout-Signature: what a receiver checks before it trusts a webhook."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from scout.monitors.deliveries import LONGEST_RETRY_SECONDS, retry_delay_seconds
from scout.monitors.signing import SignatureMismatch, signature_header, verify_signature

SECRET = "whsec_" + "k" * 40
BODY = b'{"type":"monitor.run.finished","run":{"id":"r1"}}'
SENT_AT = 1_800_000_000


def test_the_header_is_the_hmac_of_timestamp_dot_body() -> None:
    # Given a body and a time, When signed, Then v1 is HMAC-SHA256 of "t.body" with the secret
    expected = hmac.new(SECRET.encode(), f"{SENT_AT}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, BODY, SENT_AT) == f"t={SENT_AT},v1={expected}"


def test_a_fresh_signature_of_the_same_body_verifies() -> None:
    # Given a header made a minute ago, When verified now, Then it passes (no exception)
    verify_signature(SECRET, signature_header(SECRET, BODY, SENT_AT), BODY, now=SENT_AT + 60)


def test_an_old_timestamp_is_rejected_even_with_a_valid_signature() -> None:
    # Given a correctly signed request replayed ten minutes later
    header = signature_header(SECRET, BODY, SENT_AT)
    # When verified with the default five-minute tolerance, Then it is refused as too old
    with pytest.raises(SignatureMismatch, match="more than 300 s from now"):
        verify_signature(SECRET, header, BODY, now=SENT_AT + 600)


def test_a_tampered_body_is_rejected() -> None:
    # Given a header for one body, When another body is presented with it, Then no match
    header = signature_header(SECRET, BODY, SENT_AT)
    with pytest.raises(SignatureMismatch, match="no v1 signature matches"):
        verify_signature(SECRET, header, BODY.replace(b"r1", b"r2"), now=SENT_AT)


def test_another_secret_does_not_verify() -> None:
    header = signature_header("x" * 40, BODY, SENT_AT)
    with pytest.raises(SignatureMismatch):
        verify_signature(SECRET, header, BODY, now=SENT_AT)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=soon,v1=abc", f"t={SENT_AT}"])
def test_a_missing_or_malformed_header_is_rejected_with_a_reason(header: str | None) -> None:
    with pytest.raises(SignatureMismatch, match="Scout-Signature"):
        verify_signature(SECRET, header, BODY, now=SENT_AT)


def test_backoff_doubles_with_jitter_in_its_upper_half_up_to_an_hour() -> None:
    # Given attempts 1..12 with the lowest and highest jitter
    low = [retry_delay_seconds(attempt, retry_after_seconds=None, jitter=0.0) for attempt in range(1, 13)]
    high = [retry_delay_seconds(attempt, retry_after_seconds=None, jitter=0.999) for attempt in range(1, 13)]
    # Then the delays double from 15-30 s and stop growing at an hour
    assert low[:3] == [15.0, 30.0, 60.0]
    assert all(a <= b < 2 * a for a, b in zip(low, high, strict=True))
    assert max(high) < LONGEST_RETRY_SECONDS
    assert low[-1] == LONGEST_RETRY_SECONDS / 2


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    assert retry_delay_seconds(1, retry_after_seconds=120, jitter=0.0) == 120
    assert retry_delay_seconds(1, retry_after_seconds=1, jitter=0.0) == 15.0


def test_a_shorter_first_retry_shortens_the_whole_schedule() -> None:
    # Given the first retry configured at 2 s (WEBHOOK_FIRST_RETRY_SECONDS, as tests set it)
    delays = [
        retry_delay_seconds(attempt, retry_after_seconds=None, jitter=0.0, first_retry_seconds=2.0)
        for attempt in range(1, 4)
    ]
    # Then the doubling starts from it
    assert delays == [1.0, 2.0, 4.0]
