"""Local servers on 127.0.0.1 that the scan engine's tests point real browsers at.

Every server runs in daemon threads, answers on an ephemeral port, bounds every wait, and
stops when its ``with`` block ends.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# Longest any handler waits for a test to release it; a test that forgets cannot hang the run.
MAX_HOLD_SECONDS = 30.0

SHOP_PAGE = """<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Corner Shop - fresh bread daily</title>
  <style>
    body { font-family: sans-serif; margin: 0; }
    header { background: #234; color: #fff; padding: 1rem; }
    .faint { color: #c8c8c8; background: #ffffff; }
    .tall { height: 1800px; }
  </style>
</head>
<body>
  <header><img src="/logo.png" width="120" height="40"><a href="/cart"></a></header>
  <main>
    <h1>Fresh bread, every morning</h1>
    <p class="faint">Order before 9pm for next-day delivery.</p>
    <form action="/subscribe"><input type="email" name="email"><button></button></form>
    <iframe src="/frame.html" title="Today's offers" width="300" height="120"></iframe>
    <div class="tall"></div>
  </main>
</body>
</html>
"""

FRAME_PAGE = """<!doctype html>
<html lang="en"><head><title>Offers</title></head>
<body><p>Two for one on sourdough</p><img src="/logo.png" width="60" height="20"></body></html>
"""

CLEAN_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>About us</title><meta name="description" content="Who we are"></head>
<body><main><h1>About us</h1><p>We bake bread.</p></main></body>
</html>
"""

CHALLENGE_PAGE = """<!doctype html>
<html lang="en"><head><title>Just a moment...</title></head>
<body><h1>Checking your browser before accessing the site.</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>
</body></html>
"""

# A 1x1 transparent PNG.
PNG_PIXEL = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
    b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeenRequest:
    path: str
    query: str
    user_agent: str
    client_hints: str
    cookie: str


Route = Callable[["_Handler"], Reply]


class SiteServer:
    """A small website: a path -> reply table, with a log of what was asked for."""

    def __init__(
        self, routes: dict[str, Route | Reply], *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.routes = routes
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._host = host
        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        self._server.site = self  # type: ignore[attr-defined]
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"{self._scheme}://{self._host}:{self._server.server_port}{path}"

    def seen(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def record(self, request: SeenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = MAX_HOLD_SECONDS

    def do_GET(self) -> None:
        site: SiteServer = self.server.site  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        site.record(
            SeenRequest(
                path=path,
                query=query,
                user_agent=self.headers.get("User-Agent", ""),
                client_hints=self.headers.get("Sec-CH-UA", ""),
                cookie=self.headers.get("Cookie", ""),
            )
        )
        route = site.routes.get(path)
        if route is None:
            reply = Reply(404, "<!doctype html><title>Not found</title><h1>Not found</h1>")
        elif isinstance(route, Reply):
            reply = route
        else:
            reply = route(self)
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        return


def shop_routes() -> dict[str, Route | Reply]:
    return {
        "/": Reply(body=SHOP_PAGE),
        "/frame.html": Reply(body=FRAME_PAGE),
        "/about": Reply(body=CLEAN_PAGE),
        "/logo.png": Reply(body=PNG_PIXEL, content_type="image/png"),
        "/favicon.ico": Reply(status=204),
        "/robots.txt": Reply(body="User-agent: *\nAllow: /\n", content_type="text/plain"),
    }


class Gate:
    """Holds requests until released; tells the test when a matching request arrived."""

    def __init__(self, matches: Callable[[_Handler], bool]) -> None:
        self._matches = matches
        self.arrived = threading.Event()
        self.released = threading.Event()

    def hold(self, handler: _Handler) -> None:
        if self._matches(handler):
            self.arrived.set()
        self.released.wait(MAX_HOLD_SECONDS)


def slow_page(gate: Gate) -> dict[str, Route | Reply]:
    """A page whose image is held by ``gate``: the page's load event waits for the test."""
    page = CLEAN_PAGE.replace("<p>We bake bread.</p>", '<p>We bake bread.</p><img src="/held.png" alt="">')

    def held_image(handler: _Handler) -> Reply:
        gate.hold(handler)
        return Reply(body=PNG_PIXEL, content_type="image/png")

    return {"/": Reply(body=page), "/held.png": held_image, "/favicon.ico": Reply(status=204)}


class RawServer:
    """A TCP server that misbehaves below HTTP: resets connections, or never answers."""

    def __init__(self, behaviour: str) -> None:
        assert behaviour in ("reset", "hang")
        self._behaviour = behaviour
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}{path}"

    def _serve(self) -> None:
        accepted = 0
        while not self._stop.is_set() and accepted < 200:
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted += 1
            if self._behaviour == "reset":
                # Read the request first, so the browser sees a reset, not a refused write.
                connection.settimeout(2)
                with suppress(OSError):
                    connection.recv(65536)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()
            else:
                self._held.append(connection)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self._held:
            connection.close()
        self._socket.close()


@contextmanager
def unused_port_url() -> Iterator[str]:
    """A loopback URL nothing listens on (the port is bound briefly to pick it, then freed)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    yield f"http://127.0.0.1:{port}/"


def self_signed_tls(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a freshly made self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "cert.pem"
    key_file = tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context
