"""API Gateway HTTP API, locally: every HttpApi route of the template served on one loopback
port, each request turned into a payload format 2.0 event and each function response turned
back into HTTP the way API Gateway does it.

Route selection follows API Gateway's "most specific match": a route with more literal path
segments wins over path variables, which win over a greedy ``{proxy+}``; a route's own method
wins over ``ANY``; ``$default`` catches the rest. No match answers 404 ``{"message":"Not Found"}``,
a failed function 500 ``{"message":"Internal Server Error"}``, a timed-out one 503.
(https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html,
http-api-develop-integrations-lambda.html)
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from scout.local.environment import ACCOUNT_ID, LOCAL_API_ID
from scout.local.execution import Invocation, LogSink, PoolClosed
from scout.local.template import DEFAULT_ROUTE, Route

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request payload limit
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "+json", "+xml")  # fmt: skip
Invoke = Callable[[str, dict[str, Any]], Invocation]
# Documents the gateway itself serves on GET, by path, ahead of the template's routes (the
# development JWKS, which a Supabase project serves beside its API).
LocalDocuments = dict[str, Callable[[], Any]]


class PortInUse(OSError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            errno.EADDRINUSE, f"port {port} on {host} is in use; stop what holds it or pass --port N"
        )
        self.port = port


# ---- routing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


class RouteTable:
    def __init__(self, routes: tuple[Route, ...] | list[Route]) -> None:
        self._default = next((route for route in routes if route.path == DEFAULT_ROUTE), None)
        compiled = [(route, _compile(route.path)) for route in routes if route.path != DEFAULT_ROUTE]
        # Most specific first: literal segments, then fewer variables, no greedy, exact method.
        self._routes = sorted(compiled, key=lambda item: _specificity(item[0]))

    def match(self, method: str, path: str) -> RouteMatch | None:
        for route, pattern in self._routes:
            if route.method not in (method, "ANY"):
                continue
            found = pattern.fullmatch(path)
            if found is not None:
                parameters = {name: unquote(value) for name, value in found.groupdict().items()}
                return RouteMatch(route, parameters)
        return RouteMatch(self._default, {}) if self._default is not None else None


def _compile(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.strip("/").split("/") if path != "/" else []:
        variable = re.fullmatch(r"\{(\w+)(\+?)\}", segment)
        if variable is None:
            parts.append(re.escape(segment))
        elif variable.group(2):
            parts.append(f"(?P<{variable.group(1)}>.+)")
        else:
            parts.append(f"(?P<{variable.group(1)}>[^/]+)")
    return re.compile("/" + "/".join(parts))


def _specificity(route: Route) -> tuple[int, int, int, int]:
    segments = route.path.strip("/").split("/")
    literal = sum(1 for segment in segments if not segment.startswith("{"))
    greedy = sum(1 for segment in segments if segment.endswith("+}"))
    variables = len(segments) - literal
    return (-literal, greedy, variables, route.method == "ANY")


# ---- events and responses --------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    target: str  # path and query as received
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    server_port: int


def http_api_event(
    request: IncomingRequest, match: RouteMatch, request_id: str, now: datetime
) -> dict[str, Any]:
    raw_path, _, raw_query = request.target.partition("?")
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    host = headers.get("host", f"127.0.0.1:{request.server_port}")
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", str(request.server_port))
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}")
    domain = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": match.route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(raw_query)
    if query:
        event["queryStringParameters"] = query
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    if request.body:
        content_type = headers.get("content-type", "").lower()
        if any(kind in content_type for kind in TEXT_TYPES):
            with contextlib.suppress(UnicodeDecodeError):
                event["body"] = request.body.decode("utf-8")
        if "body" not in event:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _query_parameters(raw_query: str) -> dict[str, str]:
    # Payload 2.0 joins repeated parameters with commas.
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    return query


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_message(status: int, message: str) -> GatewayResponse:
    body = json.dumps({"message": message}).encode()
    return GatewayResponse(status, [("Content-Type", "application/json")], body)


def http_response(invocation: Invocation) -> GatewayResponse:
    """API Gateway's mapping of a payload 2.0 function response to HTTP."""
    if invocation.timed_out:
        return gateway_message(503, "Service Unavailable")
    if not invocation.ok:
        return gateway_message(500, "Internal Server Error")
    payload = invocation.payload
    if not (isinstance(payload, dict) and "statusCode" in payload):
        # No statusCode: the whole return value is the JSON body of a 200.
        return GatewayResponse(200, [("Content-Type", "application/json")], json.dumps(payload).encode())
    try:
        status = int(payload["statusCode"])
        headers = [(str(name), str(value)) for name, value in (payload.get("headers") or {}).items()]
        headers += [("Set-Cookie", str(cookie)) for cookie in payload.get("cookies") or []]
        body_text = payload.get("body")
        if body_text is None:
            body = b""
        elif payload.get("isBase64Encoded"):
            body = base64.b64decode(str(body_text))
        else:
            body = body_text.encode() if isinstance(body_text, str) else json.dumps(body_text).encode()
    except (TypeError, ValueError, AttributeError):
        return gateway_message(500, "Internal Server Error")
    if not 100 <= status <= 599:
        return gateway_message(500, "Internal Server Error")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return GatewayResponse(status, headers, body)


def _request_id() -> str:
    # API Gateway's request ids look like this: 16 url-safe base64 characters ending in "=".
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii").replace("/", "_")[:15] + "="


# ---- server ----------------------------------------------------------------------------------


class HttpGateway(ThreadingHTTPServer):
    """The local HTTP API: a thread per connection, a warm environment per invocation."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        host: str,
        port: int,
        routes: tuple[Route, ...] | list[Route],
        invoke: Invoke,
        log: LogSink | None = None,
        documents: LocalDocuments | None = None,
    ) -> None:
        self.routes = RouteTable(routes)
        self.documents = documents or {}
        self.invoke = invoke
        self.log = log or (lambda line: None)
        self._in_flight = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        try:
            super().__init__((host, port), _GatewayHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(host, port) from None
            raise

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.server_address[0]!s}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, name="http gateway", daemon=True
        )
        self._thread.start()

    def stop(self, drain_seconds: float) -> None:
        """Stop accepting, let requests in flight finish (bounded), close the socket."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        deadline = time.monotonic() + drain_seconds
        with self._idle:
            while self._in_flight and (remaining := deadline - time.monotonic()) > 0:
                self._idle.wait(remaining)
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops its connection is not a stack error.
        return

    def serve_request(self, request: IncomingRequest) -> GatewayResponse:
        with self._idle:
            self._in_flight += 1
        try:
            return self._serve(request)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _serve(self, request: IncomingRequest) -> GatewayResponse:
        path = request.target.partition("?")[0]
        document = self.documents.get(path) if request.method in ("GET", "HEAD") else None
        if document is not None:
            body = json.dumps(document()).encode()
            return GatewayResponse(200, [("Content-Type", "application/json")], body)
        match = self.routes.match(request.method, path)
        request_id = _request_id()
        if match is None:
            response = gateway_message(404, "Not Found")
        else:
            event = http_api_event(request, match, request_id, datetime.now(UTC))
            try:
                invocation = self.invoke(match.route.function_id, event)
            except PoolClosed:
                return gateway_message(503, "Service Unavailable")
            response = http_response(invocation)
            if invocation.error is not None:
                kind, message = invocation.error.get("errorType"), invocation.error.get("errorMessage")
                self.log(f"[http] {match.route.function_id} failed: {kind}: {message}")
        self.log(f"[http] {request.method} {path} -> {response.status}")
        return GatewayResponse(
            response.status, [*response.headers, ("apigw-requestid", request_id)], response.body
        )


class _GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HttpGateway
    timeout = 30  # an idle kept-alive connection is closed after this long
    # Headers and body go out in two writes; with Nagle on, a kept-alive client waits for the
    # delayed ACK (~40 ms) before the body arrives.
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self._send(gateway_message(400, "Bad Request"))
            return
        if body is None:
            self._send(gateway_message(413, "Request Entity Too Large"))
            self.close_connection = True
            return
        request = IncomingRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            server_port=self.server.port,
        )
        self._send(self.server.serve_request(request))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

    def _method_not_allowed(self) -> None:
        # No route takes these; http.server would answer 501 "Unsupported method", which
        # says the server is lacking rather than the request.
        self.close_connection = True
        response = gateway_message(405, "Method Not Allowed")
        allowed = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
        self._send(GatewayResponse(405, [*response.headers, ("Allow", allowed)], response.body))

    do_TRACE = do_CONNECT = _method_not_allowed

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_PAYLOAD_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body.extend(self.rfile.read(size))
            self.rfile.readline()
            if len(body) > MAX_PAYLOAD_BYTES:
                return None

    def _send(self, response: GatewayResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        return
