"""Public host names resolved to 127.0.0.1, so fakes can stand in for hosts a test cannot own.

Production reaches each Workday tenant at its own host (``{tenant}.wdN.myworkdayjobs.com``),
and scout's per-host caps and connection admission work per host. A fake serving every tenant
keeps that only if each tenant keeps its own host name: ``WORKDAY_BASE_URL=http://{host}:PORT``
plus these names resolving to the fake's loopback address. Only names under the given suffixes
are changed; every other name resolves as before, so nothing else can reach past loopback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK = "127.0.0.1"
WORKDAY_HOSTS = ".myworkdayjobs.com"


@contextmanager
def resolving_to_loopback(*suffixes: str) -> Iterator[None]:
    """Within the block, ``getaddrinfo`` answers 127.0.0.1 for names ending in ``suffixes``."""
    real = socket.getaddrinfo
    endings = tuple(suffix.lower() for suffix in suffixes)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode("idna") if isinstance(host, bytes) else host
        if isinstance(name, str) and name.lower().rstrip(".").endswith(endings):
            host = LOOPBACK
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real
