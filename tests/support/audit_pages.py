"""A small website on a loopback address for scans: a product page with known accessibility
problems, its stylesheet and image. Bounded: daemon threads, stopped on exit."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A 1x1 transparent PNG.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)

PRODUCT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="description" content="Handmade ceramic mugs, fired in small batches.">
  <title>Ceramic mug - Kiln &amp; Co.</title>
  <link rel="stylesheet" href="/site.css">
</head>
<body>
  <header><a href="/">Kiln &amp; Co.</a></header>
  <main>
    <h1>Speckled ceramic mug</h1>
    <img src="/mug.png" width="320" height="320">
    <p class="price">EUR 28</p>
    <p>Stoneware, 350 ml, dishwasher safe. Each mug is thrown by hand, so no two are alike.</p>
    <form action="/cart" method="post">
      <input type="number" name="quantity" value="1">
      <button type="submit">Add to cart</button>
    </form>
  </main>
  <footer><p>Kiln &amp; Co., 12 Clay Lane</p></footer>
</body>
</html>
"""

STYLESHEET = "body{font-family:sans-serif;margin:2rem;color:#222}.price{color:#bbb;background:#fff}"

PAGES: dict[str, tuple[str, bytes]] = {
    "/": ("text/html; charset=utf-8", PRODUCT_PAGE.encode()),
    "/site.css": ("text/css", STYLESHEET.encode()),
    "/mug.png": ("image/png", PIXEL_PNG),
    "/favicon.ico": ("image/png", PIXEL_PNG),
}


class _PageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        content_type, body = PAGES.get(path, ("text/plain", b"not found"))
        self.send_response(200 if path in PAGES else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return  # browsers drop kept-alive connections; not a test failure


@contextmanager
def product_site(host: str = "127.0.0.1") -> Iterator[str]:
    """Serve the product page on ``host`` and a free port; yields the page's URL."""
    server = _QuietServer((host, 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, name="product-site", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
