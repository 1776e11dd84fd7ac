"""Egress (SSRF) guard: scout reaches only public addresses, whoever supplied the URL.

- :mod:`.addresses` says which IP addresses are globally reachable;
- :mod:`.hosts` and :mod:`.urls` parse hosts and URLs the way browsers do;
- :mod:`.allow_list` parses ``SCOUT_EGRESS_ALLOW`` entries (settings validate them with it);
- :mod:`.policy` resolves a host once and checks every address;
- :mod:`.transport` is the httpx transport that connects only to checked addresses;
- :mod:`.proxy` is the HTTP proxy the browser's traffic goes through;
- :mod:`.chromium` holds the flags that keep Chromium on that proxy.

This init imports nothing: callers import the submodule they need, so the settings (which
parse the allow list) and the API functions (which only check URLs) never load the proxy or
the httpx transport.
"""
