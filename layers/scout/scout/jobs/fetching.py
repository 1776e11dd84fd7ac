"""Requests to job boards: concurrency caps, timeouts, retries, strict decoding, offset paging.

Adapters never call httpx directly; they go through :class:`AtsSession`, so every ATS gets the
same behaviour: per-host and overall concurrency caps, per-kind timeouts, retries on 429, 5xx
and transport errors (exponential backoff with full jitter, ``Retry-After`` honoured but
clamped), no retry on other 4xx, and an :class:`~scout.errors.AtsError` for every failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import weakref
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import httpcore
import httpx

from scout.errors import AtsBadResponse, AtsError, AtsNotFound, AtsRateLimited, AtsTimeout, AtsUnavailable
from scout.jobs.results import FetchResultBuilder

_RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_ERROR_BODY_DRAIN_BYTES = 64 * 1024
_ERROR_BODY_DRAIN_SECONDS = 1.0
# A request takes over another host's idle connection only after waiting this long: the takeover
# costs a new connection (a TCP and TLS handshake), worth it for a backlog, not for a brief queue.
# Tried 0.05 s (bench/polling at 250 ms, one run each: 7.72 s against 8.69 s, connections opened
# alike): but with answers that take no time and a busy CPU, requests then wait that long for
# their own host's connections, and 18 sources on 8 hosts opened 25 connections instead of <= 20
# (tests/integration/jobs/test_polling_structure.py).
TAKEOVER_AFTER_SECONDS = 0.25


class ConcurrencyLimits:
    """At most ``per_host`` requests in flight to one host, ``total`` overall, and no more
    connections opened than ``total``.

    The poller fetches hundreds of boards at once and most of them live on a handful of ATS
    hosts; the caps keep scout polite to each host and keep waiting here rather than in httpx's
    pool (whose pool timeout would turn a queue into errors).

    Requests are admitted the way the pool will serve them: to a host's idle connection first;
    a new connection only while fewer than ``total`` were granted (so a poll opens at most
    ``total`` connections, each of them reused rather than closed to make room for another
    host's). Once every one is granted, a host whose connections are all busy, below its cap,
    that has waited :data:`TAKEOVER_AFTER_SECONDS` takes over an idle connection of a host
    nobody is waiting for (the one with the most idle): that
    host's idle connection is closed first (``close_idle``), so no more than ``total`` are ever
    open at once. Without the takeover the hosts busiest at the start of a poll kept their
    connections idle while the host with the long tail (Workday's pages and details) queued
    hundreds of requests on the three it had got (bench/polling at 250 ms stalled ~50 s); without
    the close, each takeover left one more connection open. Waiters are served in arrival order
    among those that can go. The state belongs to an event loop, so each loop has its own; the
    connections granted to a host whose client has since been closed (``pool_closed``) are
    gone with it and granted again.
    """

    def __init__(self, *, per_host: int = 6, total: int = 20) -> None:
        if per_host < 1 or total < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.per_host = per_host
        self.total = total
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Admission] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def slot(
        self,
        origin: str,
        close_idle: Callable[[], Awaitable[None]] | None = None,
        pool_closed: Callable[[], bool] | None = None,
    ) -> AsyncIterator[None]:
        """A request slot for ``origin``; ``close_idle`` closes one idle connection to it, for
        when another host takes that connection over; ``pool_closed`` tells whether the client
        holding its connections was closed (and they with it)."""
        loop = asyncio.get_running_loop()
        admission = self._by_loop.get(loop)
        if admission is None:
            admission = self._by_loop[loop] = _Admission(self.per_host, self.total)
        donor = await admission.acquire(origin, close_idle, pool_closed)
        try:
            if donor is not None and donor.close_idle is not None:
                await donor.close_idle()
            yield
        finally:
            admission.release(origin)


@dataclass
class _Host:
    connections: int = 0  # granted to this host (the pool keeps them alive)
    busy: int = 0
    close_idle: Callable[[], Awaitable[None]] | None = None
    pool_closed: Callable[[], bool] | None = None


class _Admission:
    def __init__(self, per_host: int, total: int) -> None:
        self.per_host = per_host
        self.total = total
        self.in_flight = 0
        self.granted = 0
        self.hosts: dict[str, _Host] = {}
        self.waiting: deque[tuple[str, asyncio.Future[_Host | None]]] = deque()
        self.waiting_by_host: Counter[str] = Counter()
        self.waiting_since: dict[asyncio.Future[_Host | None], float] = {}

    def _try_admit(self, origin: str, *, may_take_over: bool = False) -> tuple[bool, _Host | None]:
        """Whether ``origin`` may send now, and the host whose idle connection it takes over."""
        if self.in_flight >= self.total:
            return False, None
        host = self.hosts.setdefault(origin, _Host())
        if host.busy >= self.per_host:
            return False, None
        donor = None
        if host.busy >= host.connections:
            if self.granted >= self.total:
                self._reclaim_closed()
            if self.granted < self.total:
                self.granted += 1
            # A host with no connection has no release of its own to wait for: it never waits.
            elif (may_take_over or host.connections == 0) and (donor := self._idle_donor(origin)):
                donor.connections -= 1
            else:
                return False, None
            host.connections += 1
        host.busy += 1
        self.in_flight += 1
        return True, donor

    def _reclaim_closed(self) -> None:
        """Forget the connections of idle hosts whose client was closed: they no longer exist."""
        for host in self.hosts.values():
            if host.busy == 0 and host.connections and host.pool_closed is not None and host.pool_closed():
                self.granted -= host.connections
                host.connections = 0

    def _idle_donor(self, taker: str) -> _Host | None:
        """The host with the most idle connections among those no request is waiting for."""
        candidates = [
            host
            for origin, host in self.hosts.items()
            if origin != taker and host.connections > host.busy and not self.waiting_by_host[origin]
        ]
        return max(candidates, key=lambda host: host.connections - host.busy, default=None)

    async def acquire(
        self,
        origin: str,
        close_idle: Callable[[], Awaitable[None]] | None,
        pool_closed: Callable[[], bool] | None,
    ) -> _Host | None:
        host = self.hosts.setdefault(origin, _Host())
        if host.busy == 0 and host.pool_closed is not None and host.pool_closed():
            self.granted -= host.connections
            host.connections = 0
        if close_idle is not None:
            host.close_idle = close_idle
        if pool_closed is not None:
            host.pool_closed = pool_closed
        if not self.waiting:
            admitted, donor = self._try_admit(origin)
            if admitted:
                return donor
        future: asyncio.Future[_Host | None] = asyncio.get_running_loop().create_future()
        self.waiting.append((origin, future))
        self.waiting_by_host[origin] += 1
        self.waiting_since[future] = asyncio.get_running_loop().time()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(origin)  # admitted just as it was cancelled: give the slot back
            else:
                # A dispatch may have dropped the cancelled waiter already (and counted it).
                with contextlib.suppress(ValueError):
                    self.waiting.remove((origin, future))
                    self.waiting_by_host[origin] -= 1
            raise
        finally:
            self.waiting_since.pop(future, None)

    def release(self, origin: str) -> None:
        self.hosts[origin].busy -= 1
        self.in_flight -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        if not self.waiting:
            return
        still: deque[tuple[str, asyncio.Future[_Host | None]]] = deque()
        patient = asyncio.get_running_loop().time() - TAKEOVER_AFTER_SECONDS
        while self.waiting:
            origin, future = self.waiting.popleft()
            if future.done():
                self.waiting_by_host[origin] -= 1
                continue
            admitted, donor = (
                self._try_admit(origin, may_take_over=self.waiting_since.get(future, patient) <= patient)
                if self.in_flight < self.total
                else (False, None)
            )
            if admitted:
                self.waiting_by_host[origin] -= 1
                future.set_result(donor)
            else:
                still.append((origin, future))
        self.waiting = still


@dataclass(frozen=True)
class FetchPolicy:
    """How hard to try. Tests shrink the delays; production uses :data:`DEFAULT_POLICY`."""

    attempts: int = 4
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    retry_after_max_seconds: float = 30.0
    timeout_seconds: float = 15.0
    # Ashby's posting API has a latency floor of about ten seconds on large boards.
    read_timeout_seconds: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType({"ashby": 35.0})
    )
    max_pages: int = 500
    max_json_bytes: int = 64 * 1024 * 1024
    max_page_bytes: int = 8 * 1024 * 1024
    limits: ConcurrencyLimits = field(default_factory=ConcurrencyLimits)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[float, float], float] = random.uniform

    def timeout_for(self, kind: str) -> httpx.Timeout:
        read = self.read_timeout_seconds.get(kind, self.timeout_seconds)
        return httpx.Timeout(self.timeout_seconds, read=read, pool=max(60.0, read))

    def backoff(self, attempt: int) -> float:
        """Full jitter: anywhere between zero and the exponential ceiling for this attempt."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return self.jitter(0.0, ceiling)


DEFAULT_POLICY = FetchPolicy()


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    content: bytes
    encoding: str | None

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding or "utf-8", errors="replace")


class AtsSession:
    """One board's requests: the injected client plus the policy for this ATS kind."""

    def __init__(self, client: httpx.AsyncClient, kind: str, policy: FetchPolicy = DEFAULT_POLICY) -> None:
        self.client = client
        self.kind = kind
        self.policy = policy

    async def get_json(self, url: str, *, params: Mapping[str, str | int] | None = None) -> Any:
        fetched = await self.request("GET", url, params=params, accept="application/json")
        return decode_json(fetched, self.kind)

    async def post_json(self, url: str, body: Any, *, follow_redirects: bool = True) -> Any:
        fetched = await self.request(
            "POST", url, json_body=body, accept="application/json", follow_redirects=follow_redirects
        )
        return decode_json(fetched, self.kind)

    async def get_page(self, url: str) -> Fetched:
        return await self.request(
            "GET", url, accept="text/html,application/xhtml+xml", max_bytes=self.policy.max_page_bytes
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        accept: str,
        follow_redirects: bool = True,
        max_bytes: int | None = None,
    ) -> Fetched:
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            try:
                return await self._attempt(
                    method,
                    url,
                    params,
                    json_body,
                    accept,
                    follow_redirects,
                    max_bytes or policy.max_json_bytes,
                )
            except _Retryable as retryable:
                if attempt == policy.attempts:
                    raise retryable.error from retryable.__cause__
                delay = retryable.retry_after
                await policy.sleep(delay if delay is not None else policy.backoff(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None,
        json_body: Any,
        accept: str,
        follow_redirects: bool,
        max_bytes: int,
    ) -> Fetched:
        where = f"{self.kind} {method} {_without_query(url)}"
        parsed = httpx.URL(url)
        origin = f"{parsed.host}:{parsed.port or parsed.scheme}"
        try:
            async with (
                self.policy.limits.slot(
                    origin,
                    lambda: close_idle_connection(self.client, parsed),
                    lambda: self.client.is_closed,
                ),
                self.client.stream(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers={"Accept": accept},
                    follow_redirects=follow_redirects,
                    timeout=self.policy.timeout_for(self.kind),
                ) as response,
            ):
                if not 200 <= response.status_code < 300:
                    await _drain_error_body(response)
                self._check_status(response, where)
                content = await _read_capped(response, max_bytes, where)
        except httpx.TimeoutException as exc:
            raise _Retryable(AtsTimeout(f"{where} timed out ({type(exc).__name__})")) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Retryable(AtsUnavailable(f"{where} failed: {type(exc).__name__}: {exc}")) from exc
        except httpx.HTTPError as exc:  # unsupported scheme, invalid URL, too many redirects ...
            raise AtsBadResponse(f"{where} could not be requested: {type(exc).__name__}: {exc}") from exc
        return Fetched(
            url=str(response.url),
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            content=content,
            encoding=response.charset_encoding,
        )

    def _check_status(self, response: httpx.Response, where: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in _RETRYABLE_STATUSES:
            retry_after = (
                parse_retry_after(response.headers.get("retry-after"), self.policy.retry_after_max_seconds)
                if status in _RETRY_AFTER_STATUSES
                else None
            )
            error: AtsError
            if status == 429:
                error = AtsRateLimited(
                    f"{where} was rate limited (HTTP 429)", retry_after_seconds=retry_after
                )
            else:
                error = AtsUnavailable(f"{where} answered HTTP {status}")
            raise _Retryable(error, retry_after)
        if status in (404, 410):
            raise AtsNotFound(f"{where} answered HTTP {status}: the board does not exist")
        if 300 <= status < 400:
            location = response.headers.get("location", "?")
            raise AtsBadResponse(f"{where} redirected (HTTP {status}) to {location} instead of answering")
        raise AtsBadResponse(f"{where} answered HTTP {status}")


class _Retryable(Exception):
    """Internal: a failure worth another attempt; never escapes this module."""

    def __init__(self, error: AtsError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


async def _drain_error_body(response: httpx.Response) -> None:
    """Read a short error answer (404 of a gone board, 429, 503) before giving up on it.

    An HTTP/1.1 connection whose answer was not read to the end cannot carry another request,
    so httpx closes it: every gone board and every retried 503 would cost a new connection
    (and a TLS handshake). A long, slow or broken body is left; its connection is closed.
    """
    received = 0
    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        async with asyncio.timeout(_ERROR_BODY_DRAIN_SECONDS):
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > _ERROR_BODY_DRAIN_BYTES:
                    break


async def _read_capped(response: httpx.Response, max_bytes: int, where: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise AtsBadResponse(f"{where} answer is {declared} bytes, over the {max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise AtsBadResponse(f"{where} answer is over the {max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_retry_after(value: str | None, maximum: float, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), within [0, maximum]."""
    if not value:
        return None
    text = value.strip()
    seconds: float
    if text.replace(".", "", 1).isdigit():
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), maximum)


def decode_json(fetched: Fetched, kind: str) -> Any:
    """The JSON body, or :class:`AtsBadResponse` for HTML, truncated or otherwise broken bodies."""
    where = f"{kind} {_without_query(fetched.url)}"
    body = fetched.content.lstrip()
    if not body:
        raise AtsBadResponse(f"{where} answered with an empty body instead of JSON")
    if body[:1] == b"<":
        kind_of = fetched.content_type.split(";")[0].strip() or "markup"
        raise AtsBadResponse(f"{where} answered with HTML ({kind_of}) instead of JSON: {_snippet(body)}")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AtsBadResponse(f"{where} answered with broken JSON ({exc}): {_snippet(body)}") from None


def expect_object(data: Any, what: str, kind: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AtsBadResponse(f"{kind}: expected {what} to be a JSON object, got {type(data).__name__}")
    return data


def expect_list(data: Any, what: str, kind: str) -> list[Any]:
    if not isinstance(data, list):
        raise AtsBadResponse(f"{kind}: expected {what} to be a JSON array, got {type(data).__name__}")
    return data


def expect_count(data: Any, what: str, kind: str) -> int | None:
    """A non-negative integer count, None when absent; garbage is a bad response."""
    if data is None:
        return None
    if isinstance(data, bool) or not isinstance(data, int) or data < 0:
        raise AtsBadResponse(f"{kind}: expected {what} to be a count, got {data!r}")
    return data


# --- offset paging -------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int | None = None


async def collect_offset_pages(
    fetch_page: Callable[[int], Awaitable[Page]],
    *,
    page_size: int,
    key: Callable[[Any], str | None],
    builder: FetchResultBuilder,
    max_pages: int,
    total_on_every_page: bool = True,
    concurrent_after_total: bool = False,
) -> list[Any]:
    """Every item of an offset-paged listing, with doubts recorded on ``builder``.

    Stops at the ATS's total when it gives one (or an empty page), otherwise at the first short
    page. A page made
    only of items already seen means the ATS stopped paging (Workday repeats page one past its
    offset clamp; a board ignoring ``skip`` does the same): that, a count that does not match
    the total, or running out of pages, makes the fetch incomplete.

    With ``concurrent_after_total``, once the first page gives the total, the pages up to it are
    requested at once (the session's per-host cap still bounds them) instead of one round trip
    after another; they are then checked in offset order exactly as sequential pages are, and a
    board whose pages turn out shorter than the first is paged on from where they stop.
    """
    items: list[Any] = []
    seen: set[str] = set()
    offset = 0
    prefetched: dict[int, Page] = {}

    async def page_at(at: int) -> Page:
        page = prefetched.pop(at, None)
        return page if page is not None else await fetch_page(at)

    while builder.pages < max_pages:
        page = await page_at(offset)
        builder.pages += 1
        _track_total(builder, page, total_on_every_page)
        if concurrent_after_total and builder.pages == 1:
            prefetched = await _fetch_rest(fetch_page, page, builder.reported_total, max_pages)
        keys = [key(item) for item in page.items]
        if offset > 0 and keys and all(k is not None and k in seen for k in keys):
            builder.incomplete(
                f"page at offset {offset} only repeats postings already fetched: the board stops paging there"
            )
            break
        items += [item for item, k in zip(page.items, keys, strict=True) if k is None or k not in seen]
        seen.update(k for k in keys if k is not None)
        offset += len(page.items)
        total = builder.reported_total
        # With a total, a short page may just be a server-side page cap: keep going to the total.
        if not page.items or (offset >= total if total is not None else len(page.items) < page_size):
            break
    else:
        builder.incomplete(f"stopped after {max_pages} pages at offset {offset}")
    if builder.reported_total is not None and offset != builder.reported_total:
        builder.incomplete(
            f"the board reports {builder.reported_total} postings but paging returned {offset}"
        )
    return items


async def _fetch_rest(
    fetch_page: Callable[[int], Awaitable[Page]], first: Page, total: int | None, max_pages: int
) -> dict[int, Page]:
    """The pages after ``first`` up to ``total``, all requested at once, by offset."""
    step = len(first.items)
    if total is None or step == 0 or total <= step:
        return {}
    offsets = list(range(step, total, step))[: max_pages - 1]

    async def page(at: int) -> Page:
        return await fetch_page(at)

    async with asyncio.TaskGroup() as group:
        tasks = {at: group.create_task(page(at)) for at in offsets}
    return {at: task.result() for at, task in tasks.items()}


def _track_total(builder: FetchResultBuilder, page: Page, total_on_every_page: bool) -> None:
    if builder.pages == 1:
        builder.reported_total = page.total
    elif total_on_every_page and page.total is not None and page.total != builder.reported_total:
        builder.incomplete(
            f"the board's total changed from {builder.reported_total} to {page.total} while paging"
        )
        builder.reported_total = page.total


async def close_idle_connection(client: httpx.AsyncClient, url: httpx.URL) -> None:
    """Close one idle keep-alive connection of ``client``'s pool to ``url``'s origin, if any.

    httpx has no public way to do this; its transports (and scout's egress-guarded one) keep an
    httpcore pool, whose connections are public. A closed connection leaves the pool on its
    next assignment. A transport without such a pool is left alone.
    """
    transport = client._transport_for_url(url)  # no public accessor (see the docstring)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool):
        return
    origin = httpcore.Origin(url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
    for connection in pool.connections:
        if connection.can_handle_request(origin) and connection.is_idle():
            await connection.aclose()
            return


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


def _snippet(body: bytes) -> str:
    text = body[:80].decode("utf-8", errors="replace")
    return repr(" ".join(text.split()))
