"""The host of a URL, parsed the way browsers parse it (WHATWG URL Standard, host parser).

The egress check is only as good as its agreement with the browser: if scout read
``http://0x7f.1/`` as the name "0x7f.1" while Chromium connects to 127.0.0.1, the check would
pass a loopback target. So hosts are parsed here exactly as the URL Standard says for
special schemes (percent-decoding, UTS #46 mapping, the IPv4 number forms), and anything the
standard would treat as an address is returned as one. Where this parser is stricter than a
browser (it refuses some exotic IDNA labels), it refuses; it never reads a host differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from scout.egress.addresses import IPAddress
from scout.errors import InvalidUrl

# URL Standard "forbidden domain code points": C0 controls, space and the URL delimiters.
_FORBIDDEN_DOMAIN = frozenset([chr(code) for code in range(0x20)] + list(" #%/:<>?@[\\]^|\x7f"))
_HEX_NUMBER = re.compile(r"0x[0-9a-f]*")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_IPV4_PART = {16: re.compile(r"[0-9a-f]*"), 10: re.compile(r"[0-9]+"), 8: re.compile(r"[0-7]+")}


@dataclass(frozen=True)
class Host:
    """A parsed host. ``text`` is canonical: an A-label domain, dotted IPv4, or bare IPv6."""

    text: str
    ip: IPAddress | None = None

    @property
    def serialised(self) -> str:
        """The host as it appears in a URL (IPv6 in brackets)."""
        return f"[{self.text}]" if isinstance(self.ip, IPv6Address) else self.text


def parse_host(text: str) -> Host:
    """Parse a URL host; raise :class:`InvalidUrl` where a browser would fail too."""
    if not text:
        raise InvalidUrl("the URL has no host")
    if text.startswith("["):
        if not text.endswith("]"):
            raise InvalidUrl("unterminated IPv6 address in the URL host")
        address = _parse_ipv6(text[1:-1])
        return Host(serialise_ipv6(address), address)
    domain = _domain_to_ascii(_percent_decode(text))
    if _ends_in_number(domain):
        ipv4 = _parse_ipv4(domain)
        return Host(str(ipv4), ipv4)
    return Host(domain)


def _percent_decode(text: str) -> str:
    raw = bytearray()
    encoded = text.encode("utf-8", errors="surrogatepass")
    index = 0
    while index < len(encoded):
        byte = encoded[index]
        pair = encoded[index + 1 : index + 3]
        if byte == 0x25 and len(pair) == 2 and all(chr(c) in "0123456789abcdefABCDEF" for c in pair):
            raw.append(int(pair, 16))
            index += 3
        else:
            raw.append(byte)
            index += 1
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUrl("the URL host is not valid UTF-8") from None


def _domain_to_ascii(domain: str) -> str:
    """UTS #46 ToASCII with the URL Standard's options (non-transitional, no STD3 rules)."""
    # Imported with the first host to parse, not with the settings that validate the allow
    # list (idna's tables are a few percent of an API function's cold start).
    import idna

    try:
        mapped = idna.uts46_remap(domain, std3_rules=False, transitional=False)
    except idna.IDNAError:
        raise InvalidUrl("the URL host contains characters not allowed in domain names") from None
    labels = []
    for label in mapped.split("."):
        labels.append(_label_to_ascii(label))
    ascii_domain = ".".join(labels)
    if not ascii_domain or any(char in _FORBIDDEN_DOMAIN for char in ascii_domain):
        raise InvalidUrl("the URL host contains characters not allowed in domain names")
    return ascii_domain


def _label_to_ascii(label: str) -> str:
    import idna

    try:
        if label.isascii():
            if label.startswith("xn--"):
                idna.ulabel(label)  # a malformed Punycode label fails in browsers too
            return label
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise InvalidUrl(f"the URL host label {label!r} is not a valid internationalised name") from None


def _ends_in_number(domain: str) -> bool:
    parts = domain.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    return bool(_ASCII_DIGITS.fullmatch(last) or _HEX_NUMBER.fullmatch(last))


def _parse_ipv4(domain: str) -> IPv4Address:
    parts = domain.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        raise InvalidUrl(f"{domain!r} is not a valid IPv4 address")
    numbers = [_parse_ipv4_number(part, domain) for part in parts]
    if any(number > 255 for number in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise InvalidUrl(f"{domain!r} is not a valid IPv4 address (a part is out of range)")
    value = numbers[-1]
    for position, number in enumerate(numbers[:-1]):
        value += number * 256 ** (3 - position)
    return IPv4Address(value)


def _parse_ipv4_number(part: str, domain: str) -> int:
    radix = 10
    if part.startswith("0x"):
        radix, part = 16, part[2:]
    elif len(part) > 1 and part.startswith("0"):
        radix, part = 8, part[1:]
    elif not part:
        raise InvalidUrl(f"{domain!r} is not a valid IPv4 address (empty part)")
    if not part:
        return 0
    if not _IPV4_PART[radix].fullmatch(part):
        raise InvalidUrl(f"{domain!r} is not a valid IPv4 address")
    return int(part, radix)


def _parse_ipv6(text: str) -> IPv6Address:
    if "%" in text:  # zone identifiers are not part of URL syntax
        raise InvalidUrl("IPv6 zone identifiers are not accepted in URLs")
    try:
        return IPv6Address(text)
    except ValueError:
        raise InvalidUrl(f"[{text}] is not a valid IPv6 address") from None


def serialise_ipv6(address: IPv6Address) -> str:
    """The URL Standard's IPv6 serialisation (``::ffff:7f00:1``), on every Python version."""
    value = int(address)
    pieces = [(value >> (112 - 16 * index)) & 0xFFFF for index in range(8)]
    best_start, best_length = -1, 1
    index = 0
    while index < 8:
        if pieces[index] == 0:
            start = index
            while index < 8 and pieces[index] == 0:
                index += 1
            if index - start > best_length:
                best_start, best_length = start, index - start
        else:
            index += 1
    if best_start < 0:
        return ":".join(f"{piece:x}" for piece in pieces)
    head = ":".join(f"{piece:x}" for piece in pieces[:best_start])
    tail = ":".join(f"{piece:x}" for piece in pieces[best_start + best_length :])
    return f"{head}::{tail}"


def host_for_lookup(host: str) -> Host:
    """Parse a host as handed to a resolver: a URL host, or a bare IPv6 address."""
    if ":" in host and not host.startswith("["):
        return parse_host(f"[{host}]")
    return parse_host(host)
