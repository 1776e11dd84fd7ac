"""A circuit breaker for the store: stop waiting on a database that is down.

Without it every call during an outage waits for its own connect attempt, so each request
takes seconds and the few execution environments queue behind one another. After
``failure_threshold`` consecutive connection failures the circuit opens: calls fail at once
with :class:`StoreUnavailable`. Once ``open_seconds`` have passed, one call is let through
as a probe (half-open); its success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic

from scout.errors import StoreUnavailable
from scout.observability import logger


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        open_seconds: float = 1.0,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self._clock = clock
        self._consecutive_failures = 0
        self._opened_at: float | None = None
        self._probe_started_at: float | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._probe_started_at is not None or self._clock() - self._opened_at >= self.open_seconds:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        """Raise :class:`StoreUnavailable` unless this call may try the store.

        Callers run on one event loop, so check-and-set needs no lock.
        """
        if self._opened_at is None:
            return
        now = self._clock()
        if now - self._opened_at < self.open_seconds:
            raise StoreUnavailable("the store is unreachable; try again shortly")
        # Half-open: one probe at a time. A probe that never reported back (its task was
        # cancelled) stops blocking others after another open period.
        if self._probe_started_at is not None and now - self._probe_started_at < self.open_seconds:
            raise StoreUnavailable("the store is unreachable; try again shortly")
        self._probe_started_at = now

    def record_success(self) -> None:
        if self._opened_at is not None:
            logger.info("store reachable again; circuit closed")
        self._consecutive_failures = 0
        self._opened_at = None
        self._probe_started_at = None

    def record_failure(self) -> None:
        """A connection failure (not a domain error: those prove the store is up)."""
        self._consecutive_failures += 1
        probing = self._probe_started_at is not None
        self._probe_started_at = None
        if probing or self._consecutive_failures >= self.failure_threshold:
            if self._opened_at is None or probing:
                logger.warning(
                    "store unreachable; circuit open",
                    extra={"failures": self._consecutive_failures, "open_seconds": self.open_seconds},
                )
            self._opened_at = self._clock()
