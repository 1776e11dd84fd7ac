"""Targets are parsed the way browsers parse them (WHATWG URL Standard), with no DNS."""

from __future__ import annotations

import pytest

from scout.egress.urls import MAX_URL_LENGTH, parse_target_url
from scout.errors import InvalidUrl
from tests.unit.egress.url_cases import CANONICAL, REFUSED


@pytest.mark.parametrize(("submitted", "canonical"), CANONICAL)
def test_url_is_normalised_to_what_a_browser_loads(submitted: str, canonical: str) -> None:
    # Given a URL a user might submit
    # When it is parsed
    target = parse_target_url(submitted)

    # Then the normalised URL is the one a browser would load
    assert target.url == canonical


@pytest.mark.parametrize(("submitted", "reason"), REFUSED)
def test_malformed_or_non_web_url_is_refused_with_a_reason(submitted: str, reason: str) -> None:
    # Given a URL that is malformed, not http(s), or a confusion trick
    # When it is parsed
    with pytest.raises(InvalidUrl) as refusal:
        parse_target_url(submitted)

    # Then it is refused with a clear, specific message and the invalid_url code
    assert reason in refusal.value.message
    assert refusal.value.code == "invalid_url"
    assert refusal.value.status == 400


def test_url_longer_than_the_limit_is_refused() -> None:
    # Given a URL one character over the limit
    url = "http://example.com/" + "a" * (MAX_URL_LENGTH - len("http://example.com/") + 1)

    # When / Then it is refused, while one at the limit is accepted
    with pytest.raises(InvalidUrl, match="longer than"):
        parse_target_url(url)
    assert parse_target_url(url[:-1]).url == url[:-1]


def test_parsed_target_exposes_host_port_and_request_target() -> None:
    # Given URLs with a default port, an explicit port and an IPv6 host
    plain = parse_target_url("https://Example.com/a?b=1#c")
    explicit = parse_target_url("http://example.com:8080")
    ipv6 = parse_target_url("http://[::1]:8080/x")

    # Then host and effective port are ready for a connection, and the origin is canonical
    assert (plain.scheme, plain.host, plain.port, plain.target) == ("https", "example.com", 443, "/a?b=1")
    assert plain.origin == "https://example.com"
    assert (explicit.port, explicit.target, explicit.origin) == (8080, "/", "http://example.com:8080")
    assert (ipv6.host, ipv6.port, ipv6.origin) == ("::1", 8080, "http://[::1]:8080")


def test_non_string_url_is_refused() -> None:
    with pytest.raises(InvalidUrl, match="must be a string"):
        parse_target_url(b"http://example.com/")  # type: ignore[arg-type]
