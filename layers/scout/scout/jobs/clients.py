"""The production HTTP clients for fetching boards, built once per execution environment.

ATS APIs are reached at fixed, configured hosts (or, for Workday, hosts checked to be
Workday's), so they share the runtime's pooled client. Careers pages are user-supplied URLs
and go through the egress guard (docs/egress.md): that client is separate, also pooled.
"""

from __future__ import annotations

import httpx

from scout import runtime
from scout.settings import Settings

_careers_page_slots: dict[tuple[str, ...], runtime.Pooled[httpx.AsyncClient]] = {}


def ats_api_client() -> httpx.AsyncClient:
    return runtime.http_client()


def careers_page_client(settings: Settings) -> httpx.AsyncClient:
    """The egress-guarded client for careers pages (one per allow-list, normally exactly one)."""
    slot = _careers_page_slots.get(settings.egress_allow)
    if slot is None:
        slot = runtime.pooled(
            lambda: _new_careers_page_client(settings), lambda client: not client.is_closed, _aclose
        )
        _careers_page_slots[settings.egress_allow] = slot
    return slot.get()


def _new_careers_page_client(settings: Settings) -> httpx.AsyncClient:
    # Imported here so that functions which never fetch careers pages do not load the guard.
    from scout.egress.policy import EgressPolicy
    from scout.egress.transport import new_guarded_client

    client: httpx.AsyncClient = new_guarded_client(EgressPolicy.from_settings(settings))
    return client


async def _aclose(client: httpx.AsyncClient) -> None:
    await client.aclose()
