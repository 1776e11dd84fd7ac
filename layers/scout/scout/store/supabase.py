"""The store over Supabase's PostgREST API (``/rest/v1/rpc``): production (docs/storage.md)."""

from __future__ import annotations

from typing import Any, cast

import httpx
from postgrest import APIError, AsyncPostgrestClient

from scout.errors import StoreUnavailable, UpstreamFailed
from scout.observability import logger
from scout.runtime import new_http_client
from scout.store.arguments import checked_identifier, encode_arguments
from scout.store.circuit import CircuitBreaker
from scout.store.sqlstate import error_for

SECRET_KEY_PREFIX = "sb_secret_"  # noqa: S105 - the prefix of Supabase secret keys, not a secret


class SupabaseStore:
    """Calls SQL functions as PostgREST ``rpc`` with the project's secret API key.

    ``api_key`` is the secret key (``sb_secret_...``) or, for a project not yet on the new
    API keys, the legacy service_role JWT. Supabase's gateway reads either from ``apikey``.
    A secret key is not a JWT: in ``Authorization`` it is accepted only as the same value as
    ``apikey`` (Supabase docs, "API keys"), and adds nothing there, so it is sent in ``apikey``
    alone. The legacy key is a JWT and also goes in ``Authorization``, as it always has.

    One call is one ``POST /rest/v1/rpc/{function}``: PostgREST runs the function in its
    own transaction. ``transport`` or ``http_client`` replace the network (tests); a client
    passed in stays the caller's to close.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout_seconds: float = 30.0,
        connect_timeout_seconds: float = 1.0,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("SUPABASE_URL must be an http(s) URL")
        self.round_trips = 0
        self.closed = False
        self.circuit = circuit or CircuitBreaker()
        self._owns_http_client = http_client is None
        self._http = http_client or new_http_client(
            transport=transport,
            follow_redirects=False,
            timeout_seconds=timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds,
        )
        headers = {"apikey": api_key, "Accept": "application/json", "Content-Type": "application/json"}
        if not api_key.startswith(SECRET_KEY_PREFIX):
            headers["Authorization"] = f"Bearer {api_key}"
        self._rest = AsyncPostgrestClient(
            f"{url.rstrip('/')}/rest/v1",
            headers=headers,
            http_client=self._http,
            retry_enabled=False,  # a call is not idempotent; failures surface as UpstreamFailed
        )

    async def call(self, function: str, /, **args: Any) -> Any:
        if self.closed:
            raise RuntimeError("this store is closed")
        name = checked_identifier(function, "function name")
        params = encode_arguments(args)
        self.circuit.before_call()
        self.round_trips += 1
        try:
            response = await self._rest.rpc(name, cast(dict[str, str], params)).execute()
        except APIError as exc:
            error = error_for(exc.code, exc.message, name)
            if isinstance(error, StoreUnavailable):
                self.circuit.record_failure()
            else:
                self.circuit.record_success()
            if isinstance(error, UpstreamFailed):
                logger.warning(
                    "store call failed",
                    extra={"function": name, "code": exc.code, "error": exc.message, "detail": exc.details},
                )
            raise error from exc
        except httpx.TransportError as exc:
            self.circuit.record_failure()
            logger.warning("store unreachable", extra={"function": name, "error": repr(exc)})
            raise StoreUnavailable("the store is unreachable; try again shortly") from exc
        except httpx.HTTPError as exc:
            logger.warning("store call failed", extra={"function": name, "error": repr(exc)})
            raise UpstreamFailed("the store is unreachable") from exc
        self.circuit.record_success()
        return response.data

    async def aclose(self) -> None:
        self.closed = True
        if self._owns_http_client and not self._http.is_closed:
            await self._http.aclose()
