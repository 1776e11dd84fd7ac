"""Where a benchmark's results go: ``bench/results/<name>.json``, and its report beside it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"


def record(name: str, results: Mapping[str, Any], report: str | None = None) -> None:
    """Write ``results`` as indented JSON to ``<name>.json`` and, when given, ``report`` (the
    run's markdown) to ``<name>.md``, replacing the last recorded run's."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    if report is not None:
        (RESULTS / f"{name}.md").write_text(report)
