"""The local HTTP API over real HTTP: the function sees API Gateway's event, the client its response."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from scout.local.execution import FunctionPool
from scout.local.http_gateway import HttpGateway, PortInUse
from scout.local.template import Template
from tests.integration.local.conftest import PoolFactory


@pytest.fixture
def gateway(fixture_template: Template, make_pool: PoolFactory) -> Iterator[HttpGateway]:
    """Given the test template's Echo and Image routes served on a free loopback port."""
    pools: dict[str, FunctionPool] = {name: make_pool(name) for name in ("EchoFunction", "ImageFunction")}
    routes = [route for route in fixture_template.routes if route.function_id in pools]
    server = HttpGateway("127.0.0.1", 0, routes, lambda function_id, event: pools[function_id].invoke(event))
    server.start()
    yield server
    server.stop(drain_seconds=5)


def test_the_function_receives_the_route_path_query_and_cookies(gateway: HttpGateway) -> None:
    response = httpx.get(
        f"{gateway.url}/echo/ada%20l?lang=en&lang=fr",
        headers={"Cookie": "session=abc; theme=dark", "Host": "localhost:3000"},
    )
    assert response.status_code == 200
    event = response.json()["event"]
    assert event["routeKey"] == "GET /echo/{name}"
    assert event["pathParameters"] == {"name": "ada l"}
    assert event["queryStringParameters"] == {"lang": "en,fr"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["headers"]["host"] == "localhost:3000"
    assert response.json()["function_name"] == "EchoFunction"
    assert response.headers["apigw-requestid"] == event["requestContext"]["requestId"]


def test_a_literal_route_wins_over_a_path_variable(gateway: HttpGateway) -> None:
    assert httpx.get(f"{gateway.url}/echo/fixed").json()["event"]["routeKey"] == "GET /echo/fixed"


def test_binary_bodies_and_cookies_travel_both_ways(gateway: HttpGateway) -> None:
    payload = bytes(range(256))
    response = httpx.put(
        f"{gateway.url}/files/a/b.bin", content=payload, headers={"Content-Type": "application/octet-stream"}
    )
    assert response.status_code == 201
    assert response.content == payload[::-1]
    assert response.headers.get_list("set-cookie") == ["stored=1; Path=/", "kind=binary"]


def test_a_plain_return_value_is_a_json_200(gateway: HttpGateway) -> None:
    response = httpx.get(f"{gateway.url}/inferred")
    assert response.status_code == 200
    assert response.json() == {"inferred": True, "items": [1, 2]}


def test_gateway_errors_look_like_api_gateways(gateway: HttpGateway) -> None:
    assert httpx.get(f"{gateway.url}/nowhere").json() == {"message": "Not Found"}
    assert httpx.delete(f"{gateway.url}/echo/x").status_code == 404
    failed = httpx.get(f"{gateway.url}/boom")
    assert (failed.status_code, failed.json()) == (500, {"message": "Internal Server Error"})


@pytest.mark.parametrize("method", ["TRACE", "CONNECT"])
def test_a_method_no_route_can_take_is_405_not_501(gateway: HttpGateway, method: str) -> None:
    response = httpx.request(method, f"{gateway.url}/echo/x")
    assert response.status_code == 405
    assert response.json() == {"message": "Method Not Allowed"}
    assert "GET" in response.headers["allow"]


def test_an_image_function_is_served_from_its_dockerfile_cmd(gateway: HttpGateway) -> None:
    response = httpx.get(f"{gateway.url}/image")
    assert (response.status_code, response.text) == (200, "image function")


def test_a_port_in_use_is_a_clear_error(fixture_template: Template) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is in use"):
            HttpGateway("127.0.0.1", port, list(fixture_template.routes), lambda function_id, event: None)  # type: ignore[arg-type,return-value]
