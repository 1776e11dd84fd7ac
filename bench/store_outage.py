"""How fast the store fails while its database is down, and how soon it serves again.

One embedded Postgres in a scratch folder, one `PostgresStore` as production builds it, in one
run: healthy calls (the baseline), the calls that open the circuit, calls while it is open,
the same outage under the old settings (a 10 s pool wait and no circuit), and the first
success after the server is started again. Bounded: a few hundred calls in all.
Results go to bench/results/store_outage.json (`python -m bench.store_outage`).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.support.recording import record
from scout.errors import StoreUnavailable
from scout.store.circuit import CircuitBreaker
from scout.store.embedded import EmbeddedPostgres
from scout.store.layout import MIGRATIONS_FOLDER
from scout.store.postgres import PostgresStore

ROOT = Path(__file__).resolve().parents[1]
HEALTHY_CALLS = 200
OPEN_CIRCUIT_CALLS = 200
COMMAND = "python -m bench.store_outage"


async def timed_call(store: PostgresStore) -> tuple[float, bool]:
    began = time.perf_counter()
    try:
        await store.call("scout_ping")
    except StoreUnavailable:
        return (time.perf_counter() - began) * 1000, False
    return (time.perf_counter() - began) * 1000, True


async def measure(server: EmbeddedPostgres, dsn: str) -> dict[str, Any]:
    store = PostgresStore(dsn)
    # The old behaviour, for the ratio: a long pool wait and a circuit that never opens.
    legacy = PostgresStore(dsn, connect_wait_seconds=10.0, circuit=CircuitBreaker(failure_threshold=10**9))
    healthy = [(await timed_call(store))[0] for _ in range(HEALTHY_CALLS)]
    await timed_call(legacy)

    server.stop()  # the database goes away under both stores
    opening = [await timed_call(store) for _ in range(store.circuit.failure_threshold)]
    open_circuit = [await timed_call(store) for _ in range(OPEN_CIRCUIT_CALLS)]
    legacy_outage = await timed_call(legacy)

    dsn_again = server.start()
    assert dsn_again == dsn, "the embedded server came back at another address"
    back_at = time.perf_counter()
    outcomes: list[bool] = []
    while not (outcomes and outcomes[-1]):
        outcomes.append((await timed_call(store))[1])
        await asyncio.sleep(0.02)
    recovery_ms = (time.perf_counter() - back_at) * 1000
    after = [await timed_call(store) for _ in range(HEALTHY_CALLS)]
    await store.aclose()
    await legacy.aclose()
    assert not any(ok for _, ok in opening + open_circuit)
    assert not legacy_outage[1]
    opening_median = statistics.median(ms for ms, _ in opening)
    open_median = statistics.median(ms for ms, _ in open_circuit)
    return {
        "healthy_call_median_ms": round(statistics.median(healthy), 3),
        "outage_call_before_circuit_opens_median_ms": round(opening_median, 1),
        "outage_call_circuit_open_median_ms": round(open_median, 4),
        "outage_call_old_settings_ms": round(legacy_outage[0], 1),
        "ratio_old_to_before_circuit_opens": round(legacy_outage[0] / opening_median, 1),
        "ratio_old_to_circuit_open": round(legacy_outage[0] / open_median),
        "first_success_after_restart_ms": round(recovery_ms, 1),
        "failed_calls_after_first_success": sum(not ok for _, ok in after),
        "calls_after_first_success": len(after),
    }


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        server = EmbeddedPostgres(Path(scratch) / "pg", ROOT / MIGRATIONS_FOLDER)
        try:
            dsn = server.start()
            result = asyncio.run(measure(server, dsn))
        finally:
            server.stop()
    result.update(
        command=COMMAND,
        python=sys.version.split()[0],
        recorded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    record("store_outage", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
