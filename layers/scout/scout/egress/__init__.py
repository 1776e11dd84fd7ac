"""Egress (SSRF) guard: scout reaches only public addresses, whoever supplied the URL.

- :mod:`.addresses` says which IP addresses are globally reachable;
- :mod:`.hosts` and :mod:`.urls` parse hosts and URLs the way browsers do;
- :mod:`.policy` resolves a host once and checks every address (``SCOUT_EGRESS_ALLOW``);
- :mod:`.transport` is the httpx transport that connects only to checked addresses;
- :mod:`.proxy` is the HTTP proxy the browser's traffic goes through;
- :mod:`.chromium` holds the flags that keep Chromium on that proxy.
"""

from scout.egress.addresses import is_global_address, why_not_global
from scout.egress.chromium import CHROMIUM_EGRESS_ARGS
from scout.egress.policy import EgressPolicy, Resolver, check_target_url
from scout.egress.proxy import EgressProxy
from scout.egress.transport import GuardedTransport, guarded_transport, new_guarded_client
from scout.egress.urls import MAX_URL_LENGTH, TargetUrl, parse_target_url

__all__ = [
    "CHROMIUM_EGRESS_ARGS",
    "MAX_URL_LENGTH",
    "EgressPolicy",
    "EgressProxy",
    "GuardedTransport",
    "Resolver",
    "TargetUrl",
    "check_target_url",
    "guarded_transport",
    "is_global_address",
    "new_guarded_client",
    "parse_target_url",
    "why_not_global",
]
