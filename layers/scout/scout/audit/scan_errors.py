"""From raw Playwright, Chrome and Lighthouse errors to the scan error codes (docs/audit.md).

A scan error is read by people who did not write the page and do not know what
``net::ERR_HTTP2_PROTOCOL_ERROR`` means, so every code comes with a sentence that says what
happened and, where it helps, what to do. The raw text stays in ``detail`` for the logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from scout.errors import ErrorInfo, ScoutError

MESSAGES: dict[str, str] = {
    "blocked_target": (
        "scout does not visit this address: it leads to a private or internal network, not a public website."
    ),
    "invalid_url": "This is not a web address scout can scan. Use a full address starting with https://.",
    "dns_failed": (
        "The website's name could not be found. Check the address for typos; "
        "the domain may also have expired."
    ),
    "connection_failed": (
        "The website could not be reached: its server refused or dropped the connection. "
        "It may be down; try again later."
    ),
    "tls_error": (
        "The website's security certificate is not valid (expired, self-signed or made for "
        "another name), so the browser refused to open the page."
    ),
    "bot_blocked": (
        "The website blocked scout's automated visit (an anti-bot check or a refused "
        "connection). Sites that do this cannot be scanned from outside."
    ),
    "http_error": "The page answered with an error instead of its content.",
    "timeout": "The page took too long to load, so the scan gave up.",
    "browser_crashed": "The browser running the scan stopped unexpectedly. Trying again usually works.",
    "lighthouse_failed": "The performance audit (Lighthouse) could not finish.",
    "axe_failed": "The accessibility check (axe) could not finish on this page.",
    "internal_error": "Something went wrong inside scout while scanning this page.",
}


class ScanFailure(Exception):
    """One part of a scan failed; ``code`` and ``message`` go into the result as they are."""

    def __init__(self, code: str, message: str | None = None, *, detail: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else MESSAGES[code]
        self.detail = detail
        super().__init__(f"{code}: {self.message}" + (f" ({detail})" if detail else ""))

    def as_error(self) -> ErrorInfo:
        return ErrorInfo(code=self.code, message=self.message)


# Chrome's net error names (net/base/net_error_list.h) that need a code other than the
# default for their family. HTTP/2 protocol errors on a page that loads in an ordinary
# browser are what bot walls (Akamai and others) send to clients they refuse.
_NET_ERRORS: dict[str, str] = {
    "ERR_NAME_NOT_RESOLVED": "dns_failed",
    "ERR_NAME_RESOLUTION_FAILED": "dns_failed",
    "ERR_DNS_TIMED_OUT": "dns_failed",
    "ERR_HTTP2_PROTOCOL_ERROR": "bot_blocked",
    "ERR_TIMED_OUT": "timeout",
    "ERR_CONNECTION_TIMED_OUT": "timeout",
    "ERR_INVALID_URL": "invalid_url",
    "ERR_UNSAFE_PORT": "invalid_url",
    "ERR_UNKNOWN_URL_SCHEME": "invalid_url",
    "ERR_DISALLOWED_URL_SCHEME": "invalid_url",
    "ERR_BAD_SSL_CLIENT_AUTH_CERT": "tls_error",
    "ERR_TOO_MANY_REDIRECTS": "http_error",
    "ERR_ABORTED": "http_error",
    "ERR_BLOCKED_BY_RESPONSE": "http_error",
    "ERR_INVALID_RESPONSE": "connection_failed",
}
_NET_ERROR_FAMILIES: tuple[tuple[str, str], ...] = (
    ("ERR_CERT_", "tls_error"),
    ("ERR_SSL_", "tls_error"),
    ("ERR_CERTIFICATE_", "tls_error"),
)
_NET_ERROR_SENTENCES: dict[str, str] = {
    "ERR_TOO_MANY_REDIRECTS": "The page redirects in a loop, so it never loads.",
    "ERR_ABORTED": "The address does not open a web page (it may start a file download).",
    "ERR_BLOCKED_BY_RESPONSE": "The website does not allow this page to be opened this way.",
}
_EGRESS_REASONS = frozenset({"blocked_target", "dns_failed", "connection_failed", "timeout"})
_NET_ERROR = re.compile(r"net::(ERR_[A-Z0-9_]+)")

# Playwright's wording when the browser, the page's renderer or the connection to them died.
_CRASH_MARKERS = (
    "target crashed",
    "page crashed",
    "has been closed",
    "browser has disconnected",
    "browser closed",
    "connection closed",
    "target closed",
)


def code_for_net_error(name: str) -> str:
    """The scan error code for one of Chrome's ``ERR_*`` names."""
    if name in _NET_ERRORS:
        return _NET_ERRORS[name]
    for prefix, code in _NET_ERROR_FAMILIES:
        if name.startswith(prefix):
            return code
    return "connection_failed"


def failure_from_net_error(name: str) -> ScanFailure:
    code = code_for_net_error(name)
    return ScanFailure(code, _NET_ERROR_SENTENCES.get(name), detail=name)


def failure_from_browser_error(
    exc: BaseException, *, timeout_seconds: float | None = None, timed_out: bool = False
) -> ScanFailure:
    """Map an exception raised while driving the scan's browser.

    ``timed_out`` is the caller's knowledge that the exception is a timeout (Playwright's
    ``TimeoutError``), so this module stays free of Playwright imports.
    """
    text = str(exc)
    if timed_out:
        return timeout_failure(timeout_seconds, detail=text)
    match = _NET_ERROR.search(text)
    if match:
        return failure_from_net_error(match.group(1))
    lowered = text.lower()
    if any(marker in lowered for marker in _CRASH_MARKERS):
        return ScanFailure("browser_crashed", detail=text)
    return ScanFailure("internal_error", detail=f"{type(exc).__name__}: {text}")


def timeout_failure(timeout_seconds: float | None, *, detail: str | None = None) -> ScanFailure:
    if timeout_seconds is None:
        return ScanFailure("timeout", detail=detail)
    return ScanFailure(
        "timeout",
        f"The page took more than {timeout_seconds:g} seconds to load, so the scan gave up.",
        detail=detail,
    )


# Statuses that, on a page's main document, mean "not for automated visitors".
_BOT_WALL_STATUSES = frozenset({401, 403, 429})


def failure_from_response(status: int, headers: Mapping[str, str]) -> ScanFailure | None:
    """The failure a main-document response means, or None when the page loaded.

    ``headers`` must have lower-case names (as Playwright gives them).
    """
    # The egress proxy's own refusal (set only by the proxy, which strips it from sites' answers).
    egress_reason = headers.get("x-scout-egress-error", "")
    if egress_reason in _EGRESS_REASONS:
        return ScanFailure(egress_reason, detail=f"egress proxy: HTTP {status}")
    challenged = headers.get("cf-mitigated", "").lower() == "challenge"
    if challenged or status in _BOT_WALL_STATUSES:
        return ScanFailure("bot_blocked", detail=f"HTTP {status}")
    if status < 400:
        return None
    if status == 404 or status == 410:
        message = f"The page was not found (HTTP {status}). Check the address."
    elif status >= 500:
        message = f"The website had a server error (HTTP {status}). Try again later."
    else:
        message = f"The page answered with an error instead of its content (HTTP {status})."
    return ScanFailure("http_error", message, detail=f"HTTP {status}")


def failure_from_lighthouse(code: str | None, message: str | None) -> ScanFailure:
    """Lighthouse failing is always ``lighthouse_failed``; its own sentence says why."""
    reason = (message or "").strip()
    text = MESSAGES["lighthouse_failed"]
    if reason:
        text = f"{text[:-1]}: {reason}"
    return ScanFailure("lighthouse_failed", text, detail=code)


def failure_from_scout_error(exc: ScoutError) -> ScanFailure:
    """An egress refusal (invalid_url, blocked_target, dns_failed) before any navigation."""
    code = exc.code if exc.code in MESSAGES else "internal_error"
    return ScanFailure(code, detail=exc.message)
