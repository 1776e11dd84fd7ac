"""Scan and fetch targets: http(s) URLs parsed as a browser parses them, no DNS involved.

The parser follows the URL Standard for the special schemes http and https (backslashes count
as slashes, any run of slashes after the scheme is skipped, the host is parsed by
:mod:`scout.egress.hosts`, dot segments are removed, the usual characters are
percent-encoded) and is deliberately narrower in a few places where a user-supplied target
has no business being clever: credentials, control characters, port 0 and very long URLs are
refused with a clear message rather than interpreted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scout.egress.hosts import Host, parse_host
from scout.errors import InvalidUrl

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT = re.compile(r"[0-9]*")
# The URL Standard trims C0 controls and spaces around the input before parsing.
_TRIMMED = "".join(chr(code) for code in range(0x21))
_C0 = frozenset(chr(code) for code in range(0x20))
_PATH_ENCODE = _C0 | frozenset(' "#<>?`{}')
_QUERY_ENCODE = _C0 | frozenset(" \"#<>'")
_FRAGMENT_ENCODE = _C0 | frozenset(' "<>`')


@dataclass(frozen=True)
class TargetUrl:
    """A canonical http(s) target.

    ``host`` is the canonical host (A-label domain, dotted IPv4, or IPv6 without brackets);
    ``port`` is the effective port (the scheme's default when the URL names none); ``target``
    is the path and query as sent in the request line; ``url`` is the whole normalised URL.
    """

    url: str
    scheme: str
    host: str
    port: int
    target: str

    @property
    def origin(self) -> str:
        return format_origin(self.scheme, self.host, self.port)


def format_origin(scheme: str, host: str, port: int) -> str:
    """``scheme://host[:port]`` with IPv6 in brackets and the default port left out."""
    bracketed = f"[{host}]" if ":" in host else host
    port_suffix = "" if port == DEFAULT_PORTS.get(scheme) else f":{port}"
    return f"{scheme}://{bracketed}{port_suffix}"


def parse_target_url(url: str) -> TargetUrl:
    """Parse a user-supplied http(s) URL; raise :class:`InvalidUrl` with a clear reason."""
    if not isinstance(url, str):
        raise InvalidUrl("the URL must be a string")
    url = url.strip(_TRIMMED)
    if not url:
        raise InvalidUrl("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(char in _C0 or char == "\x7f" or "\x80" <= char <= "\x9f" for char in url):
        raise InvalidUrl("the URL contains control characters")
    match = _SCHEME.match(url)
    if match is None:
        raise InvalidUrl("the URL must start with http:// or https://")
    scheme = match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidUrl(f"the URL scheme {scheme!r} is not allowed; use http or https")

    rest = url[match.end() :].lstrip("/\\")
    authority_end = _first_index(rest, "/\\?#")
    authority, remainder = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        raise InvalidUrl("URLs with credentials (user@host) are not accepted")
    host_text, port_text = _split_host_port(authority)
    host = parse_host(host_text)
    port = _parse_port(port_text, scheme)
    target, fragment = _path_query_fragment(remainder)
    return _assemble(scheme, host, port, target, fragment)


def split_authority(authority: str, scheme: str) -> tuple[Host, int]:
    """Parse ``host[:port]`` of a proxy request (CONNECT target or absolute-form URL)."""
    if "@" in authority:
        raise InvalidUrl("credentials in a proxy request target are not accepted")
    host_text, port_text = _split_host_port(authority)
    return parse_host(host_text), _parse_port(port_text, scheme)


def _first_index(text: str, stops: str) -> int:
    positions = [text.find(stop) for stop in stops if stop in text]
    return min(positions, default=len(text))


def _split_host_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise InvalidUrl("unterminated IPv6 address in the URL host")
        host, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            raise InvalidUrl("unexpected characters after the IPv6 address in the URL host")
        return host, after[1:] if after else None
    host, colon, port = authority.partition(":")
    return host, port if colon else None


def _parse_port(text: str | None, scheme: str) -> int:
    if text is None or text == "":
        return DEFAULT_PORTS.get(scheme, 80)
    if not _PORT.fullmatch(text):
        raise InvalidUrl(f"the URL port {text!r} is not a number")
    port = int(text)
    if not 0 < port <= 65535:
        raise InvalidUrl(f"the URL port {port} is out of range")
    return port


def _path_query_fragment(remainder: str) -> tuple[str, str | None]:
    before_fragment, hash_sign, fragment = remainder.partition("#")
    path, question, query = before_fragment.partition("?")
    target = _normalise_path(path)
    if question:
        target += "?" + _percent_encode(query, _QUERY_ENCODE)
    return target, _percent_encode(fragment, _FRAGMENT_ENCODE) if hash_sign else None


def _normalise_path(path: str) -> str:
    segments = path.replace("\\", "/").split("/")[1:] if path else [""]
    kept: list[str] = []
    for position, segment in enumerate(segments):
        is_last = position == len(segments) - 1
        lowered = segment.lower()
        if lowered in ("..", ".%2e", "%2e.", "%2e%2e"):
            if kept:
                kept.pop()
            if is_last:
                kept.append("")
        elif lowered in (".", "%2e"):
            if is_last:
                kept.append("")
        else:
            kept.append(_percent_encode(segment, _PATH_ENCODE))
    return "/" + "/".join(kept)


def _percent_encode(text: str, encode_set: frozenset[str]) -> str:
    try:
        return "".join(
            "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
            if char in encode_set or not char.isascii() or char == "\x7f"
            else char
            for char in text
        )
    except UnicodeEncodeError:
        raise InvalidUrl("the URL contains characters that are not valid Unicode") from None


def _assemble(scheme: str, host: Host, port: int, target: str, fragment: str | None) -> TargetUrl:
    url = format_origin(scheme, host.text, port) + target + ("" if fragment is None else "#" + fragment)
    return TargetUrl(url=url, scheme=scheme, host=host.text, port=port, target=target)
