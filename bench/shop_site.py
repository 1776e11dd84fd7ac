"""The page the scanning benchmark scans: a small bakery shop and journal, served on loopback.

The HTML, CSS and JS live in ``bench/pages/``; the images (a logo, a hero, product and
journal photos, an icon) are made here, deterministically, as noisy palette PNGs, so they
weigh what unoptimised photos on a small shop weigh without binary files in the repository.
The page has known accessibility faults for axe and Lighthouse to find: no language,
images without text alternatives, an empty button and link, an unlabelled field, faint
text and a skipped heading level.

The server runs in daemon threads on 127.0.0.2 (a private address: scanning it needs
``SCOUT_EGRESS_ALLOW``, as a real page needs the guard's approval), answers on an ephemeral
port, bounds every connection's idle time and stops when its ``with`` block ends.
"""

from __future__ import annotations

import random
import struct
import threading
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).with_name("pages")
HOST = "127.0.0.2"
IDLE_CONNECTION_SECONDS = 30.0

# name -> (width, height, noise levels, seed); more noise compresses worse, like a photo.
_IMAGES: dict[str, tuple[int, int, int, int]] = {
    "/img/logo.png": (320, 96, 4, 1),
    "/img/hero.png": (1200, 600, 12, 2),
    "/img/product-1.png": (400, 400, 12, 3),
    "/img/product-2.png": (400, 400, 12, 4),
    "/img/product-3.png": (400, 400, 12, 5),
    "/img/product-4.png": (400, 400, 12, 6),
    "/img/product-5.png": (400, 400, 12, 7),
    "/img/product-6.png": (400, 400, 12, 8),
    "/img/journal-1.png": (600, 340, 12, 9),
    "/img/journal-2.png": (600, 340, 12, 10),
    "/img/icon-instagram.png": (48, 48, 2, 11),
    "/favicon.png": (32, 32, 2, 12),
}
_TEXT_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/assets/styles.css": ("styles.css", "text/css; charset=utf-8"),
    "/assets/app.js": ("app.js", "text/javascript; charset=utf-8"),
}


@dataclass(frozen=True)
class Resource:
    body: bytes
    content_type: str
    cache_control: str


def build_site() -> dict[str, Resource]:
    site = {}
    for path, (name, content_type) in _TEXT_FILES.items():
        cache = "max-age=600" if "." in path else "no-cache"
        site[path] = Resource((PAGES / name).read_bytes(), content_type, cache)
    for path, (width, height, noise, seed) in _IMAGES.items():
        site[path] = Resource(_noisy_png(width, height, noise, seed), "image/png", "max-age=86400")
    site["/robots.txt"] = Resource(b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8", "max-age=3600")
    return site


def _noisy_png(width: int, height: int, noise: int, seed: int) -> bytes:
    """A vertical warm gradient with grain: an 8-bit palette PNG, the same bytes every time."""
    rng = random.Random(seed)
    top = (rng.randrange(150, 240), rng.randrange(90, 170), rng.randrange(40, 110))
    bottom = (rng.randrange(40, 110), rng.randrange(20, 80), rng.randrange(10, 50))
    palette = b"".join(
        bytes(round(start + (end - start) * index / 255) for start, end in zip(top, bottom, strict=True))
        for index in range(256)
    )
    steps = 256 - noise
    tables: dict[int, bytes] = {}
    rows = []
    for row in range(height):
        base = row * steps // height
        table = tables.get(base)
        if table is None:
            table = tables[base] = bytes(base + value % noise for value in range(256))
        rows.append(b"\x00" + rng.randbytes(width).translate(table))
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", palette)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class ShopSite:
    """The shop on 127.0.0.2; counts what it served and how many requests came through a proxy."""

    def __init__(self) -> None:
        self._site = build_site()
        self._lock = threading.Lock()
        self.requests = 0
        self.direct_requests = 0
        self._server = ThreadingHTTPServer((HOST, 0), _Handler)
        self._server.daemon_threads = True
        self._server.shop = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self._server.server_port}{path}"

    @property
    def page_bytes(self) -> int:
        return sum(len(resource.body) for resource in self._site.values())

    def resource(self, path: str) -> Resource | None:
        return self._site.get(path)

    def count(self, *, proxied: bool) -> None:
        with self._lock:
            self.requests += 1
            self.direct_requests += not proxied

    def __enter__(self) -> ShopSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS

    def do_GET(self) -> None:
        shop: ShopSite = self.server.shop  # type: ignore[attr-defined]
        # The egress proxy opens a connection per request and says so (Connection: close);
        # a browser talking to the site directly keeps its connections alive.
        shop.count(proxied=self.headers.get("Connection", "").lower() == "close")
        resource = shop.resource(self.path.partition("?")[0])
        if resource is None:
            self._reply(404, Resource(b"<!doctype html><title>Not found</title>", "text/html", "no-store"))
        else:
            self._reply(200, resource)

    def _reply(self, status: int, resource: Resource) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
            self.send_header("Cache-Control", resource.cache_control)
            self.end_headers()
            self.wfile.write(resource.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:
        return
