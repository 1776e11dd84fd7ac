"""The table from raw browser and Lighthouse errors to the scan error codes."""

from __future__ import annotations

import pytest

from scout.audit.scan_errors import (
    MESSAGES,
    ScanFailure,
    code_for_net_error,
    failure_from_browser_error,
    failure_from_lighthouse,
    failure_from_response,
    failure_from_scout_error,
)
from scout.errors import BlockedTarget, DnsFailed, InvalidUrl


@pytest.mark.parametrize(
    ("net_error", "code"),
    [
        ("ERR_NAME_NOT_RESOLVED", "dns_failed"),
        ("ERR_NAME_RESOLUTION_FAILED", "dns_failed"),
        ("ERR_CONNECTION_REFUSED", "connection_failed"),
        ("ERR_CONNECTION_RESET", "connection_failed"),
        ("ERR_CONNECTION_CLOSED", "connection_failed"),
        ("ERR_EMPTY_RESPONSE", "connection_failed"),
        ("ERR_ADDRESS_UNREACHABLE", "connection_failed"),
        ("ERR_TUNNEL_CONNECTION_FAILED", "connection_failed"),
        ("ERR_CERT_AUTHORITY_INVALID", "tls_error"),
        ("ERR_CERT_DATE_INVALID", "tls_error"),
        ("ERR_CERT_COMMON_NAME_INVALID", "tls_error"),
        ("ERR_SSL_PROTOCOL_ERROR", "tls_error"),
        ("ERR_SSL_VERSION_OR_CIPHER_MISMATCH", "tls_error"),
        ("ERR_BAD_SSL_CLIENT_AUTH_CERT", "tls_error"),
        ("ERR_HTTP2_PROTOCOL_ERROR", "bot_blocked"),
        ("ERR_TIMED_OUT", "timeout"),
        ("ERR_CONNECTION_TIMED_OUT", "timeout"),
        ("ERR_TOO_MANY_REDIRECTS", "http_error"),
        ("ERR_ABORTED", "http_error"),
        ("ERR_INVALID_URL", "invalid_url"),
        ("ERR_UNSAFE_PORT", "invalid_url"),
        ("ERR_SOMETHING_NEW_IN_CHROME_200", "connection_failed"),
    ],
)
def test_chrome_net_error_maps_to_its_scan_error_code(net_error: str, code: str) -> None:
    # Given one of Chrome's net error names
    # When it is mapped
    # Then it gets the code a person can act on
    assert code_for_net_error(net_error) == code


def test_playwright_navigation_error_is_read_for_its_net_error() -> None:
    # Given the error Playwright raises when Akamai resets the HTTP/2 stream of a bot
    error = Exception("Page.goto: net::ERR_HTTP2_PROTOCOL_ERROR at https://shop.example/\nCall log: ...")

    # When it is mapped
    failure = failure_from_browser_error(error)

    # Then the scan says the site blocked it, in a sentence, keeping the raw name for logs
    assert failure.code == "bot_blocked"
    assert failure.message == MESSAGES["bot_blocked"]
    assert failure.detail == "ERR_HTTP2_PROTOCOL_ERROR"


@pytest.mark.parametrize(
    "text",
    [
        "Page.goto: Target crashed",
        "Page.evaluate: Target page, context or browser has been closed",
        "Browser.new_context: Browser has been closed",
        "Connection closed while reading from the driver",
    ],
)
def test_errors_of_a_dead_browser_are_browser_crashed(text: str) -> None:
    # Given what Playwright says when the browser or the page's renderer died
    # When it is mapped
    failure = failure_from_browser_error(Exception(text))

    # Then the scan says the browser crashed
    assert failure.code == "browser_crashed"


def test_timeout_names_the_limit_in_seconds() -> None:
    # Given a navigation that passed its 30-second limit
    # When it is mapped
    failure = failure_from_browser_error(
        Exception("Timeout 30000ms exceeded."), timed_out=True, timeout_seconds=30
    )

    # Then the sentence says how long the page was given
    assert failure.code == "timeout"
    assert "30 seconds" in failure.message


def test_unknown_error_is_internal_and_keeps_its_text_for_the_logs() -> None:
    # Given an error nobody planned for
    # When it is mapped
    failure = failure_from_browser_error(ValueError("weird"))

    # Then the result says little, the detail says what happened
    assert failure.code == "internal_error"
    assert failure.detail == "ValueError: weird"


@pytest.mark.parametrize(
    ("status", "headers", "code"),
    [
        (401, {}, "bot_blocked"),
        (403, {}, "bot_blocked"),
        (429, {}, "bot_blocked"),
        (503, {"cf-mitigated": "challenge"}, "bot_blocked"),
        (200, {"cf-mitigated": "challenge"}, "bot_blocked"),
        (404, {}, "http_error"),
        (410, {}, "http_error"),
        (400, {}, "http_error"),
        (500, {}, "http_error"),
        (503, {}, "http_error"),
    ],
)
def test_error_status_of_the_main_document_maps_to_its_code(
    status: int, headers: dict[str, str], code: str
) -> None:
    # Given the main document's status and headers
    # When they are mapped
    failure = failure_from_response(status, headers)

    # Then a challenge or refusal is bot_blocked and other errors are http_error
    assert failure is not None
    assert failure.code == code


@pytest.mark.parametrize("status", [200, 203, 204, 301, 304])
def test_successful_status_is_no_failure(status: int) -> None:
    assert failure_from_response(status, {}) is None


def test_http_error_sentence_tells_missing_page_from_broken_site() -> None:
    missing = failure_from_response(404, {})
    broken = failure_from_response(502, {})
    assert missing is not None
    assert broken is not None
    assert "not found" in missing.message
    assert "(HTTP 404)" in missing.message
    assert "server error" in broken.message


def test_lighthouse_failure_keeps_lighthouse_own_explanation() -> None:
    # Given Lighthouse's runtime error for a page it could not load
    reason = "Lighthouse was unable to reliably load the page you requested. (Status code: 403)"

    # When it is mapped
    failure = failure_from_lighthouse("ERRORED_DOCUMENT_REQUEST", reason)

    # Then the code is lighthouse_failed and the sentence carries the reason
    assert failure.code == "lighthouse_failed"
    assert failure.message.startswith("The performance audit (Lighthouse) could not finish: ")
    assert failure.message.endswith(reason)
    assert failure.detail == "ERRORED_DOCUMENT_REQUEST"


def test_lighthouse_failure_without_reason_is_still_a_sentence() -> None:
    assert failure_from_lighthouse(None, None).message == MESSAGES["lighthouse_failed"]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidUrl("not http"), "invalid_url"),
        (BlockedTarget("10.0.0.1 is private"), "blocked_target"),
        (DnsFailed("no such host"), "dns_failed"),
    ],
)
def test_egress_refusal_keeps_its_code_with_a_sentence_for_people(error: Exception, code: str) -> None:
    assert isinstance(error, InvalidUrl | BlockedTarget | DnsFailed)
    failure = failure_from_scout_error(error)
    assert failure.code == code
    assert failure.message == MESSAGES[code]


def test_every_code_has_a_sentence_ending_in_a_full_stop() -> None:
    for code, message in MESSAGES.items():
        assert message.endswith("."), code
        assert ScanFailure(code).as_error().message == message


@pytest.mark.parametrize("reason", ["blocked_target", "dns_failed", "connection_failed", "timeout"])
def test_the_egress_proxys_refusal_maps_to_its_reason(reason: str) -> None:
    failure = failure_from_response(502, {"x-scout-egress-error": reason})
    assert failure is not None
    assert failure.code == reason


def test_an_unknown_egress_reason_is_an_ordinary_http_error() -> None:
    failure = failure_from_response(502, {"x-scout-egress-error": "made_up"})
    assert failure is not None
    assert failure.code == "http_error"
