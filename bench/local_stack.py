"""Local stack timings: `scout dev` start to banner, warm /health over HTTP, `scout invoke`.

Runs the project's own template.yaml from a scratch copy (its .scout/ state stays out of the
tree), on loopback only, a bounded number of requests. Results go to bench/results/.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.support.recording import record
from tests.support.local_stack import copy_real_project, running_dev, scout

REQUESTS = 300


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        project = copy_real_project(Path(scratch))
        started = time.perf_counter()
        with running_dev(project, "--no-database") as dev:
            ready_seconds = time.perf_counter() - started
            latencies = []
            with httpx.Client(base_url=f"http://localhost:{dev.port}") as client:
                for _ in range(REQUESTS):
                    began = time.perf_counter()
                    response = client.get("/health")
                    latencies.append((time.perf_counter() - began) * 1000)
                    if response.status_code != 200:
                        print(f"/health answered {response.status_code}", file=sys.stderr)
                        return 1
            dev.interrupt()
        began = time.perf_counter()
        event = "events/jobs_api_health.json"
        invoked = scout(
            "invoke", "JobsApiFunction", "--event", event, "--repeat", "2", "--no-database", cwd=project
        )
        invoke_seconds = time.perf_counter() - began
        if invoked.returncode != 0:
            print(invoked.stderr, file=sys.stderr)
            return 1
    ordered = sorted(latencies)
    result = {
        "dev_ready_seconds": round(ready_seconds, 2),
        "health_requests": REQUESTS,
        "health_p50_ms": round(statistics.median(ordered), 2),
        "health_p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "invoke_two_warm_runs_seconds": round(invoke_seconds, 2),
        "python": sys.version.split()[0],
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    record("local_stack", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
