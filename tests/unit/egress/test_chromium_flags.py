"""The Chromium flags leave the browser no way around the egress proxy."""

from __future__ import annotations

from scout.egress.chromium import CHROMIUM_EGRESS_ARGS


def test_flags_send_everything_through_the_proxy_loopback_included() -> None:
    # Given a running proxy's URL
    # When the flags are built
    flags = CHROMIUM_EGRESS_ARGS("http://127.0.0.1:41234")

    # Then all traffic uses the proxy and Chromium's implicit loopback bypass is removed
    assert "--proxy-server=http://127.0.0.1:41234" in flags
    assert "--proxy-bypass-list=<-loopback>" in flags


def test_flags_close_the_paths_that_do_not_use_the_proxy() -> None:
    flags = CHROMIUM_EGRESS_ARGS("http://127.0.0.1:41234")

    # QUIC (UDP), WebRTC UDP and Chromium's own name lookups never go through an HTTP proxy
    assert "--disable-quic" in flags
    assert "--force-webrtc-ip-handling-policy=disable_non_proxied_udp" in flags
    assert "--webrtc-ip-handling-policy=disable_non_proxied_udp" in flags
    assert "--dns-prefetch-disable" in flags
    assert "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1" in flags


def test_every_flag_is_a_switch() -> None:
    flags = CHROMIUM_EGRESS_ARGS("http://127.0.0.1:1")

    assert all(flag.startswith("--") for flag in flags)
    assert len(flags) == len(set(flags))
