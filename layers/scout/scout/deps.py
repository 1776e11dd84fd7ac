"""The composition root: every dependency a process uses, built from its settings, once.

Handlers (``functions/*/app.py``, the API routes, the queue record handlers) take what a request
needs from :func:`current` and pass it to domain functions as arguments; domain code never
reaches for a global. Each part is built on first use and kept for the execution environment:
clients that can go stale (store, browser, Lighthouse worker, egress proxy) through
:mod:`scout.runtime`, which checks them before every reuse and closes them with the loop.
Each part's module is imported only when the part is first built, so an API function never
loads the scan engine and the scan worker never loads PostgREST.

Tests swap the whole set with :func:`using`, the one override point: a ``Dependencies`` built
from the test's settings, with any part replaced by a local one (a test database, moto, a
fake scanner).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from scout import runtime
from scout.settings import Settings, load_settings

if TYPE_CHECKING:
    import httpx

    from scout.audit.artifacts import ArtifactStore
    from scout.audit.axe import AxeScript
    from scout.audit.browser_pool import BrowserPool
    from scout.audit.egress_gate import GuardedEgress
    from scout.audit.engine import ScanEngine
    from scout.audit.lighthouse import LighthouseWorker
    from scout.audit.scan_processing import Scanner
    from scout.audit.scan_queue import ScanQueue
    from scout.audit.scans import RateLimit
    from scout.egress.policy import EgressPolicy
    from scout.jobs.poll_queue import PollQueue
    from scout.monitors.deliveries import WebhookSender
    from scout.monitors.webhook_relay import WebhookQueue
    from scout.store.protocol import Store


class Dependencies:
    """One process's dependencies, each built from ``settings`` on first use.

    ``settings`` is the parsed settings, or the function that parses them on first use (tests
    that finish setting the environment after building this). A part passed to the
    constructor replaces the one that would be built (tests).
    """

    def __init__(
        self,
        settings: Settings | Callable[[], Settings],
        *,
        store: Store | None = None,
        scan_queue: ScanQueue | None = None,
        artifacts: ArtifactStore | None = None,
        egress_policy: EgressPolicy | None = None,
        poll_queue: PollQueue | None = None,
        scanner: Scanner | None = None,
        webhook_queue: WebhookQueue | None = None,
        webhook_sender: WebhookSender | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._scanner = scanner
        self._built: dict[str, Any] = {
            name: part
            for name, part in (
                ("scan_queue", scan_queue),
                ("artifacts", artifacts),
                ("egress_policy", egress_policy),
                ("poll_queue", poll_queue),
                ("webhook_queue", webhook_queue),
                ("webhook_sender", webhook_sender),
            )
            if part is not None
        }
        # Re-entrant: building one part may build another (the browsers need the policy).
        self._lock = threading.RLock()
        self._browser_slots: _BrowserSlots | None = None

    @property
    def settings(self) -> Settings:
        if not isinstance(self._settings, Settings):
            self._settings = self._settings()
        return self._settings

    # -- every function ------------------------------------------------------------------

    def store(self) -> Store:
        """The adapter ``SCOUT_STORE`` names, pooled per process and checked before reuse."""
        if self._store is not None:
            return self._store
        from scout.store.factory import get_store

        return get_store(self.settings)

    def egress_policy(self) -> EgressPolicy:
        from scout.egress.policy import EgressPolicy

        return self._once("egress_policy", lambda: EgressPolicy(allow=self.settings.egress_allow))

    # -- audit -----------------------------------------------------------------------------

    def scan_queue(self) -> ScanQueue:
        """The scan queue; RuntimeError when ``SCAN_QUEUE_URL`` is unset."""
        from scout.audit.scan_queue import SqsScanQueue

        return self._once("scan_queue", lambda: SqsScanQueue.from_settings(self.settings))

    def artifacts(self) -> ArtifactStore:
        """The reports bucket; RuntimeError when ``REPORTS_BUCKET`` is unset."""
        from scout.audit.artifacts import S3ArtifactStore

        return self._once("artifacts", lambda: S3ArtifactStore.from_settings(self.settings))

    def scan_rate_limit(self) -> RateLimit:
        from scout.audit.scans import RateLimit

        return RateLimit(self.settings.scan_rate_limit, self.settings.scan_rate_window_seconds)

    def scan_max_runs(self) -> int:
        """Lighthouse runs one attempt of the scan worker can hold (POST /scans refuses more)."""
        from scout.audit.scan_processing import runs_that_fit

        return runs_that_fit(
            worker_timeout_seconds=self.settings.scan_worker_timeout_seconds,
            lighthouse_timeout_seconds=self.settings.lighthouse_timeout_seconds,
        )

    def scanner(self) -> Scanner:
        """The scan engine over this process's pooled browser, Lighthouse worker and egress guard.

        Cheap: built per scan, so each scan gets the pooled parts as they are now (a crashed
        browser or an exhausted Lighthouse worker is replaced behind the same slot).
        """
        if self._scanner is not None:
            return self._scanner
        return self.scan_engine()

    def scan_engine(self) -> ScanEngine:
        from scout.audit.engine import ScanEngine, ScanOptions

        slots = self._browsers()
        return ScanEngine(
            browser_pool=slots.browser_pool.get(),
            lighthouse=slots.lighthouse.get(),
            egress=slots.egress.get(),
            axe_script=slots.axe_script,
            options=ScanOptions.from_settings(self.settings),
        )

    def _browsers(self) -> _BrowserSlots:
        with self._lock:
            if self._browser_slots is None:
                self._browser_slots = _BrowserSlots(self.settings, self.egress_policy())
            return self._browser_slots

    # -- monitors --------------------------------------------------------------------------

    def sitemap_client(self) -> httpx.AsyncClient:
        """The egress-guarded client that reads sitemaps, pooled on the process's loop."""
        from scout.monitors.sitemaps import new_sitemap_client

        slot: runtime.Pooled[httpx.AsyncClient] = self._once(
            "sitemap_client",
            lambda: runtime.pooled(
                lambda: new_sitemap_client(self.egress_policy()), lambda client: not client.is_closed, _aclose
            ),
        )
        return slot.get()

    # -- jobs ------------------------------------------------------------------------------

    def poll_queue(self) -> PollQueue:
        """The poll queue; QueueUnavailable (503) when ``POLL_QUEUE_URL`` is unset."""
        from scout.jobs.poll_queue import poll_queue

        return self._once("poll_queue", lambda: poll_queue(self.settings))

    # -- monitors --------------------------------------------------------------------------

    def webhook_queue(self) -> WebhookQueue:
        """The webhook delivery queue; RuntimeError when ``WEBHOOK_QUEUE_URL`` is unset."""
        from scout.monitors.webhook_relay import SqsWebhookQueue

        return self._once("webhook_queue", lambda: SqsWebhookQueue.from_settings(self.settings))

    def webhook_sender(self) -> WebhookSender:
        """The egress-guarded sender of webhook POSTs (no redirects), pooled and checked before reuse."""
        if "webhook_sender" in self._built:
            sender: WebhookSender = self._built["webhook_sender"]
            return sender
        from scout.monitors.deliveries import WebhookSender, trusting_ca_bundle

        slot: runtime.Pooled[WebhookSender] = self._once(
            "webhook_sender_slot",
            lambda: runtime.pooled(
                lambda: WebhookSender.guarded(
                    self.egress_policy(),
                    timeout_seconds=self.settings.webhook_timeout_seconds,
                    ssl_context=trusting_ca_bundle(self.settings.webhook_ca_bundle),
                ),
                lambda sender: not sender.closed,
                _aclose,
            ),
        )
        return slot.get()

    def _once(self, name: str, build: Any) -> Any:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]


class _BrowserSlots:
    """The scan engine's pooled parts, all routed through one egress guard."""

    def __init__(self, settings: Settings, policy: EgressPolicy) -> None:
        from scout.audit.axe import AxeScript
        from scout.audit.browser_pool import BrowserPool
        from scout.audit.egress_gate import GuardedEgress
        from scout.audit.lighthouse import LighthouseWorker
        from scout.audit.node_layer import NodeLayer

        self.axe_script: AxeScript = AxeScript(NodeLayer.from_settings(settings).axe_script)
        # Browsers registered first, so that at exit they close before the proxy they use.
        self.browser_pool: runtime.Pooled[BrowserPool] = runtime.pooled(
            lambda: BrowserPool.from_settings(settings, egress=self.egress.get()),
            lambda pool: not pool.closed,
            _aclose,
        )
        self.lighthouse: runtime.Pooled[LighthouseWorker] = runtime.pooled(
            lambda: LighthouseWorker.from_settings(settings, egress=self.egress.get()),
            lambda worker: not worker.closed,
            _aclose,
        )
        self.egress: runtime.Pooled[GuardedEgress] = runtime.pooled(
            lambda: GuardedEgress(policy), lambda gate: not gate.closed, _aclose
        )


async def _aclose(part: Any) -> None:
    await part.aclose()


_process: Dependencies | None = None
_process_lock = threading.Lock()
# Innermost last. A block leaves by removing its own entry, so blocks that close out of order
# (fixtures torn down in any order) never leave another block's dependencies in place.
_overrides: list[Dependencies] = []


def current() -> Dependencies:
    """The process's dependencies: built from the environment's settings on first use.

    Raises RuntimeError (naming every bad setting) when the configuration is invalid, so a
    function that calls this at import fails its cold start, not its first request.
    """
    global _process
    if _overrides:
        return _overrides[-1]
    with _process_lock:
        if _process is None:
            _process = Dependencies(load_settings())
        return _process


def settings() -> Settings:
    """The settings of :func:`current`."""
    return current().settings


@contextlib.contextmanager
def using(dependencies: Dependencies) -> Iterator[Dependencies]:
    """Serve with ``dependencies`` inside the block: the one override point, for tests."""
    _overrides.append(dependencies)
    try:
        yield dependencies
    finally:
        for position in range(len(_overrides) - 1, -1, -1):
            if _overrides[position] is dependencies:
                del _overrides[position]
                break
