"""API Gateway's HTTP API behaviour: route choice, payload 2.0 events, response mapping."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from scout.local.execution import Invocation
from scout.local.http_gateway import IncomingRequest, RouteTable, http_api_event, http_response
from scout.local.template import Route

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
ROUTES = [
    Route("GET", "/sources/{source_id}", "Variable", "A"),
    Route("GET", "/sources/new", "Literal", "B"),
    Route("ANY", "/sources/{proxy+}", "Greedy", "C"),
    Route("POST", "/sources/{source_id}", "PostVariable", "D"),
    Route("ANY", "$default", "Fallback", "E"),
]


def request(
    method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> IncomingRequest:
    return IncomingRequest(method, target, headers or [("Host", "localhost:3000")], body, "127.0.0.1", 3000)


def test_the_most_specific_route_wins() -> None:
    table = RouteTable(ROUTES)
    matched = {
        path: table.match("GET", path) for path in ("/sources/new", "/sources/abc", "/sources/a/b", "/x")
    }
    assert {path: match.route.function_id for path, match in matched.items() if match} == {
        "/sources/new": "Literal",
        "/sources/abc": "Variable",
        "/sources/a/b": "Greedy",
        "/x": "Fallback",
    }
    post = table.match("POST", "/sources/abc")
    assert post is not None
    assert post.route.function_id == "PostVariable"


def test_no_route_and_no_default_is_no_match() -> None:
    assert RouteTable([Route("GET", "/health", "Fn", "H")]).match("POST", "/health") is None


def test_path_parameters_are_decoded() -> None:
    match = RouteTable(ROUTES).match("GET", "/sources/a%20b")
    assert match is not None
    assert match.path_parameters == {"source_id": "a b"}


def test_event_has_the_payload_2_0_shape() -> None:
    # Given a request with a query string, cookies and repeated headers
    headers = [("Host", "localhost:3000"), ("Cookie", "a=1; b=2"), ("X-Tag", "one"), ("X-Tag", "two")]
    match = RouteTable(ROUTES).match("GET", "/sources/s1")
    assert match is not None
    # When the gateway builds the event
    event = http_api_event(request("GET", "/sources/s1?tag=x&tag=y&empty=", headers), match, "rid=", NOW)
    # Then it is what API Gateway sends a Lambda function
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /sources/{source_id}"
    assert event["rawPath"] == "/sources/s1"
    assert event["rawQueryString"] == "tag=x&tag=y&empty="
    assert event["queryStringParameters"] == {"tag": "x,y", "empty": ""}
    assert event["pathParameters"] == {"source_id": "s1"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-tag"] == "one,two"
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/sources/s1",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert context["domainName"] == "localhost"
    assert context["stage"] == "$default"
    assert context["requestId"] == "rid="
    assert context["timeEpoch"] == int(NOW.timestamp() * 1000)
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_text_bodies_stay_text_and_binary_bodies_are_base64() -> None:
    match = RouteTable(ROUTES).match("POST", "/sources/s1")
    assert match is not None
    json_headers = [("Host", "localhost"), ("Content-Type", "application/json; charset=utf-8")]
    text = http_api_event(request("POST", "/sources/s1", json_headers, b'{"a": 1}'), match, "r", NOW)
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    binary_headers = [("Host", "localhost"), ("Content-Type", "image/png")]
    binary = http_api_event(request("POST", "/sources/s1", binary_headers, b"\x89PNG"), match, "r", NOW)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x89PNG"


def test_a_return_value_without_status_code_becomes_a_json_200() -> None:
    response = http_response(Invocation("r", payload={"items": []}))
    assert response.status == 200
    assert response.body == b'{"items": []}'
    assert ("Content-Type", "application/json") in response.headers


def test_status_headers_cookies_and_base64_bodies_are_mapped() -> None:
    payload = {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "X-Id": "7"},
        "cookies": ["a=1; Path=/"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    response = http_response(Invocation("r", payload=payload))
    assert response.status == 201
    assert response.body == b"\x89PNG"
    assert ("Set-Cookie", "a=1; Path=/") in response.headers
    assert ("X-Id", "7") in response.headers


def test_function_errors_timeouts_and_bad_responses_become_gateway_errors() -> None:
    failed = http_response(Invocation("r", error={"errorType": "ValueError", "errorMessage": "x"}))
    timed_out = http_response(Invocation("r", error={"errorType": "Sandbox.Timedout"}, timed_out=True))
    malformed = http_response(Invocation("r", payload={"statusCode": "teapot"}))
    assert (failed.status, failed.body) == (500, b'{"message": "Internal Server Error"}')
    assert (timed_out.status, timed_out.body) == (503, b'{"message": "Service Unavailable"}')
    assert malformed.status == 500
