"""Chromium command-line flags that send every byte of a page's traffic through the proxy."""

from __future__ import annotations

from scout.egress.urls import parse_target_url


def CHROMIUM_EGRESS_ARGS(proxy_url: str) -> list[str]:
    """Flags for a Chromium (Playwright's or Lighthouse's) confined to the egress proxy.

    Each flag closes one way around the proxy:

    - ``--proxy-server`` sends http, https and websocket traffic to the proxy;
    - ``--proxy-bypass-list=<-loopback>`` removes Chromium's built-in rule that loopback
      hosts (localhost, 127.0.0.0/8, [::1]) go direct;
    - ``--host-resolver-rules`` makes every name lookup Chromium would do itself fail, so
      anything that tried to connect directly (DNS prefetch, a stray feature) has no address
      to connect to; the proxy does all real resolution;
    - ``--disable-quic``: QUIC is UDP and never goes through an HTTP proxy;
    - the WebRTC flags keep ICE from using UDP outside the proxy (no host candidates that
      reach the local network);
    - ``--dns-prefetch-disable`` and ``--disable-preconnect`` stop speculative lookups.
    """
    proxy_host = parse_target_url(proxy_url).host
    return [
        f"--proxy-server={proxy_url}",
        "--proxy-bypass-list=<-loopback>",
        # The proxy itself must stay reachable; every other name Chromium resolves fails.
        f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {proxy_host}",
        "--disable-quic",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--webrtc-ip-handling-policy=disable_non_proxied_udp",
        "--enforce-webrtc-ip-permission-check",
        "--dns-prefetch-disable",
        "--disable-preconnect",
    ]
