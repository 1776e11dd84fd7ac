"""Targets are parsed the way browsers parse them (WHATWG URL Standard), with no DNS."""

from __future__ import annotations

import pytest
from scout.egress import MAX_URL_LENGTH, parse_target_url
from scout.errors import InvalidUrl

# (what a user might submit, the URL a browser would actually load)
CANONICAL = [
    ("http://example.com", "http://example.com/"),
    ("HTTPS://EXAMPLE.COM:443/Path", "https://example.com/Path"),
    ("http://example.com:8080/a/./b/../c?x=1#frag", "http://example.com:8080/a/c?x=1#frag"),
    ("http://example.com:80/", "http://example.com/"),
    ("http://example.com:0080/", "http://example.com/"),
    ("http://example.com:/", "http://example.com/"),
    ("http://example.com.", "http://example.com./"),
    ("  http://example.com/  ", "http://example.com/"),
    # numeric IPv4 spellings browsers accept
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://0x7F000001/", "http://127.0.0.1/"),
    ("http://0177.0.0.1/", "http://127.0.0.1/"),
    ("http://0x7f.0.0.1/", "http://127.0.0.1/"),
    ("http://127.1/", "http://127.0.0.1/"),
    ("http://127.0.1/", "http://127.0.0.1/"),
    ("http://0/", "http://0.0.0.0/"),
    ("http://169.254.169.254./", "http://169.254.169.254/"),
    ("http://0xA9FEA9FE/", "http://169.254.169.254/"),
    ("http://025177524776/", "http://169.254.169.254/"),
    ("http://0xa9.0376.43518/", "http://169.254.169.254/"),
    # IPv6 literals
    ("http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
    ("http://[0:0:0:0:0:ffff:7f00:1]/", "http://[::ffff:7f00:1]/"),
    ("http://[::1]:8080/", "http://[::1]:8080/"),
    ("http://[FE80::1]/", "http://[fe80::1]/"),
    ("http://[1:0:0:2:0:0:0:3]/", "http://[1:0:0:2::3]/"),
    # percent-encoded, full-width and internationalised hosts
    ("http://%31%32%37%2e0.0.1/", "http://127.0.0.1/"),
    ("http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", "http://127.0.0.1/"),
    ("http://127\u30020\u30020\u30021/", "http://127.0.0.1/"),
    ("http://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com/", "http://example.com/"),
    ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
    ("http://LOCALHOST/", "http://localhost/"),
    ("http://my_host.example/", "http://my_host.example/"),
    # slashes and backslashes the special-scheme way
    ("http:\\\\example.com\\a\\b", "http://example.com/a/b"),
    ("http:/example.com/", "http://example.com/"),
    ("http:example.com/", "http://example.com/"),
    ("http:///example.com/", "http://example.com/"),
    # the things after the host that only look like a host
    ("http://example.com#@127.0.0.1", "http://example.com/#@127.0.0.1"),
    ("http://example.com\\@127.0.0.1/", "http://example.com/@127.0.0.1/"),
    ("http://example.com?@127.0.0.1", "http://example.com/?@127.0.0.1"),
    # path, query and fragment encoding
    ("http://example.com/a b", "http://example.com/a%20b"),
    ("http://example.com/?q=a b'", "http://example.com/?q=a%20b%27"),
    ("http://example.com/\u00e9", "http://example.com/%C3%A9"),
    ("http://example.com/%2e%2E/x", "http://example.com/x"),
    ("http://example.com/a/..", "http://example.com/"),
    ("http://example.com/?", "http://example.com/?"),
]

REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("example.com", "must start with http"),
    ("//example.com/", "must start with http"),
    ("ftp://example.com/", "scheme 'ftp' is not allowed"),
    ("file:///etc/passwd", "scheme 'file' is not allowed"),
    ("javascript:alert(1)", "scheme 'javascript' is not allowed"),
    ("gopher://127.0.0.1:6379/_INFO", "scheme 'gopher' is not allowed"),
    ("ws://example.com/", "scheme 'ws' is not allowed"),
    ("http://", "no host"),
    ("http:///", "no host"),
    ("http://?x", "no host"),
    ("http://user:pass@example.com/", "credentials"),
    ("http://example.com@127.0.0.1/", "credentials"),
    ("http://@example.com/", "credentials"),
    ("http://exa mple.com/", "not allowed in domain names"),
    ("http://example.com\x00/", "control characters"),
    ("http://exa\tmple.com/", "control characters"),
    ("http://exam\nple.com/", "control characters"),
    ("http://example.com/\x7f", "control characters"),
    ("http://example.com/\x85", "control characters"),
    ("http://256.0.0.1/", "out of range"),
    ("http://1.2.3.4.5/", "not a valid IPv4"),
    ("http://4294967296/", "out of range"),
    ("http://0x100000000/", "out of range"),
    ("http://1.2.3.256/", "out of range"),
    ("http://08.0.0.1/", "not a valid IPv4"),
    ("http://foo.09/", "not a valid IPv4"),
    ("http://foo.0x/", "not a valid IPv4"),
    ("http://1..2/", "not a valid IPv4"),
    ("http://[::1/", "unterminated"),
    ("http://[::1]x/", "unexpected characters"),
    ("http://[fe80::1%25eth0]/", "zone"),
    ("http://[1.2.3.4]/", "not a valid IPv6"),
    ("http://[::1::2]/", "not a valid IPv6"),
    ("http://example.com:65536/", "out of range"),
    ("http://example.com:0/", "out of range"),
    ("http://example.com:8o/", "not a number"),
    ("http://example.com:-1/", "not a number"),
    ("http://ex%00ample.com/", "not allowed in domain names"),
    ("http://ex%2fample.com/", "not allowed in domain names"),
    ("http://%ff/", "not valid UTF-8"),
    ("http://example.com\uff0fevil.test/", "not allowed in domain names"),
    ("http://xn--a.example/", "not a valid internationalised name"),
    ("http://xn--.example/", "not a valid internationalised name"),
    ("http://example.com:80:80/", "not a number"),
]


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
