"""The store's circuit breaker: fail fast while the database is down, probe to recover."""

from __future__ import annotations

import pytest

from scout.errors import StoreUnavailable
from scout.store.circuit import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_circuit_opens_after_consecutive_connection_failures_and_refuses_at_once() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failure_threshold=3, open_seconds=2.0, clock=clock)
    for _ in range(2):
        circuit.before_call()
        circuit.record_failure()
    assert circuit.state == "closed"
    circuit.before_call()
    circuit.record_failure()
    assert circuit.state == "open"
    with pytest.raises(StoreUnavailable):
        circuit.before_call()


def test_a_success_between_failures_keeps_the_circuit_closed() -> None:
    circuit = CircuitBreaker(failure_threshold=2, clock=Clock())
    circuit.record_failure()
    circuit.record_success()
    circuit.record_failure()
    assert circuit.state == "closed"


def test_after_the_open_period_one_probe_goes_through_and_its_success_closes_the_circuit() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failure_threshold=1, open_seconds=2.0, clock=clock)
    circuit.record_failure()
    clock.now += 2.0
    circuit.before_call()  # the probe
    with pytest.raises(StoreUnavailable):
        circuit.before_call()  # others still fail fast while it runs
    circuit.record_success()
    assert circuit.state == "closed"
    circuit.before_call()


def test_a_failed_probe_opens_the_circuit_again() -> None:
    clock = Clock()
    circuit = CircuitBreaker(failure_threshold=3, open_seconds=2.0, clock=clock)
    for _ in range(3):
        circuit.record_failure()
    clock.now += 2.5
    circuit.before_call()
    circuit.record_failure()
    assert circuit.state == "open"
    with pytest.raises(StoreUnavailable):
        circuit.before_call()
