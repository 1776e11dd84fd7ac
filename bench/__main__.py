"""Run every benchmark suite and record its results (`make bench`)."""

from __future__ import annotations

import importlib
import sys

SUITES = (
    "bench.cold_start",
    "bench.polling",
    "bench.posting_cpu",
    "bench.scanning",
    "bench.repeated_runs",
    "bench.local_stack",
    "bench.search",
    "bench.user_tokens",
    "bench.store_outage",
    "bench.sitemaps",
    "bench.monitors",
)


def main() -> int:
    # Each suite imports only when its turn comes, so one suite's setup never slows another.
    failures = sum(int(importlib.import_module(name).main() != 0) for name in SUITES)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
