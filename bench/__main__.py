"""Run every benchmark suite that exists in this tree and record its results."""

from __future__ import annotations

import importlib
import sys

SUITES = ("bench.polling", "bench.scanning", "bench.local_stack")


def main() -> int:
    failures = 0
    for name in SUITES:
        try:
            suite = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        failures += int(suite.main() != 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
