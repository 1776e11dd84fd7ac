"""HTTP conventions shared by every API function: Host check, CORS, JSON errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import BaseModel, Field

from scout.errors import Conflict, RateLimited, StoreUnavailable
from scout.http_api import ScoutHttpApi
from scout.settings import load_settings
from tests.support.http_events import http_event, json_body


class Widget(BaseModel):
    name: str = Field(min_length=1)
    size: int = Field(ge=1, le=10)


@pytest.fixture
def app(scout_env: pytest.MonkeyPatch) -> ScoutHttpApi:
    app = ScoutHttpApi(load_settings(), title="conventions test")

    @app.post("/widgets")
    def create_widget(widget: Widget) -> dict[str, str]:
        return {"name": widget.name}

    @app.get("/conflict")
    def conflict() -> None:
        raise Conflict("That widget already exists.")

    @app.get("/busy")
    def busy() -> None:
        raise RateLimited("Slow down.", retry_after_seconds=7)

    @app.get("/boom")
    def boom() -> None:
        raise ZeroDivisionError("secret internals")

    return app


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost:3000", "api.scout.test"])
def test_allowed_host_is_served(app: ScoutHttpApi, host: str) -> None:
    response = app.resolve(http_event("POST", "/widgets", host=host, body={"name": "a", "size": 2}), {})
    assert response["statusCode"] == 200


@pytest.mark.parametrize("host", ["evil.test", "localhost.evil.test", "", "127.0.0.1", "api.scout.test.evil"])
def test_host_not_in_allowed_hosts_gets_400(app: ScoutHttpApi, host: str) -> None:
    # When a request arrives with a foreign Host header
    response = app.resolve(http_event("POST", "/widgets", host=host, body={"name": "a", "size": 2}), {})
    # Then it is refused before routing
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "bad_host"


def test_foreign_host_is_refused_even_on_unknown_routes(app: ScoutHttpApi) -> None:
    response = app.resolve(http_event("GET", "/nowhere", host="evil.test"), {})
    assert response["statusCode"] == 400


def test_malformed_json_gets_400_not_500(app: ScoutHttpApi) -> None:
    response = app.resolve(http_event("POST", "/widgets", raw_body='{"name": "a", '), {})
    assert response["statusCode"] == 400
    assert json_body(response)["error"] == {
        "code": "invalid_request",
        "message": "The request body is not valid JSON.",
    }


def test_invalid_field_gets_400_naming_the_field(app: ScoutHttpApi) -> None:
    response = app.resolve(http_event("POST", "/widgets", body={"name": "a", "size": 99}), {})
    assert response["statusCode"] == 400
    error = json_body(response)["error"]
    assert error["code"] == "invalid_request"
    assert "size" in error["message"]


def test_unknown_route_gets_json_404(app: ScoutHttpApi) -> None:
    response = app.resolve(http_event("GET", "/nowhere"), {})
    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "not_found"


def test_domain_error_maps_to_its_status_and_code(app: ScoutHttpApi) -> None:
    response = app.resolve(http_event("GET", "/conflict"), {})
    assert response["statusCode"] == 409
    assert json_body(response)["error"] == {"code": "conflict", "message": "That widget already exists."}


def test_rate_limited_carries_retry_after(app: ScoutHttpApi) -> None:
    response = app.resolve(http_event("GET", "/busy"), {})
    assert response["statusCode"] == 429
    assert response["headers"]["Retry-After"] == "7"


def test_unexpected_error_is_a_json_500_without_internals(app: ScoutHttpApi) -> None:
    response = app.resolve(http_event("GET", "/boom"), {})
    assert response["statusCode"] == 500
    assert json_body(response)["error"]["code"] == "internal_error"
    assert "secret internals" not in response["body"]


def test_cors_allows_configured_origin(app: ScoutHttpApi) -> None:
    event = http_event(
        "POST", "/widgets", headers={"origin": "https://app.scout.test"}, body={"name": "a", "size": 1}
    )
    response = app.resolve(event, {})
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://app.scout.test"


def test_cors_does_not_echo_other_origins(app: ScoutHttpApi) -> None:
    event = http_event(
        "POST", "/widgets", headers={"origin": "https://evil.test"}, body={"name": "a", "size": 1}
    )
    response = app.resolve(event, {})
    assert "Access-Control-Allow-Origin" not in response.get("headers", {})


def test_cors_preflight_answers_204(app: ScoutHttpApi) -> None:
    event = http_event(
        "OPTIONS",
        "/widgets",
        headers={"origin": "https://app.scout.test", "access-control-request-method": "POST"},
    )
    response = app.resolve(event, {})
    assert response["statusCode"] == 204
    assert response["headers"]["Access-Control-Allow-Origin"] == "https://app.scout.test"


def _posted(app: ScoutHttpApi, body: bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    headers = {"content-type": content_type} if content_type else {}
    event = http_event("POST", "/widgets", headers=headers)
    event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = True
    return app.resolve(event, {})


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b'{"name": "\xff\xfe", "size": 1}', "not valid UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nested deeper than"),
        (b'{"name": "a", "size": ' + b"9" * 5_000 + b"}", "number longer than"),
        (b'{"name": "a", "size": 1e999}', "too large"),
        (b'{"name": "a", "size": NaN}', "not valid JSON"),
        (b'{"name": "a\\u0000b", "size": 1}', "NUL character"),
        (b'{"name": "a\\ud800b", "size": 1}', "lone surrogate"),
        (b"name=a&size=1", "not valid JSON"),
    ],
)
def test_undecodable_body_gets_400_with_a_sentence(app: ScoutHttpApi, body: bytes, sentence: str) -> None:
    # When a body that is not a JSON document scout reads is posted
    response = _posted(app, body)
    # Then the answer is a 400 JSON error saying why, never a 500
    assert response["statusCode"] == 400
    error = json_body(response)["error"]
    assert error["code"] == "invalid_request"
    assert sentence in error["message"]


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml"],
)
def test_json_body_is_read_as_json_whatever_its_content_type(
    app: ScoutHttpApi, content_type: str | None
) -> None:
    # Given a JSON body labelled as something else (curl -d labels it a form)
    response = _posted(app, b'{"name": "a", "size": 2}', content_type)
    # Then it is answered as the JSON it is
    assert response["statusCode"] == 200
    assert json_body(response) == {"name": "a"}


@pytest.mark.parametrize(
    "query", [{"q": "a\x00b"}, {"cursor": "\x00"}, {"na\x00me": "x"}], ids=["value", "cursor", "name"]
)
def test_nul_in_the_query_gets_400_before_any_route(app: ScoutHttpApi, query: dict[str, str]) -> None:
    response = app.resolve(http_event("GET", "/conflict", query=query), {})
    assert response["statusCode"] == 400
    assert "NUL character" in json_body(response)["error"]["message"]


def test_store_unavailable_is_a_503_with_retry_after(scout_env: pytest.MonkeyPatch) -> None:
    app = ScoutHttpApi(load_settings(), title="outage test")

    @app.get("/stored")
    def stored() -> None:
        raise StoreUnavailable("the store is unreachable; try again shortly")

    response = app.resolve(http_event("GET", "/stored"), {})
    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "store_unavailable"
    assert response["headers"]["Retry-After"] == "2"
