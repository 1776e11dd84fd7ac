"""Cold start of the API functions: importing each handler module with production settings.

Each measurement is a fresh interpreter that imports one thing and reports how long the import
took (interpreter start-up is the same for all and left out):

- ``naive``: ``import supabase, boto3, jwt, aws_lambda_powertools.event_handler``, what a
  handler written the obvious way would import before serving anything;
- ``jobs_api`` and ``audit_api``: ``import app`` in ``functions/<name>/``, with the production
  layer's folder on ``sys.path`` and the settings a deployed function has
  (``SCOUT_STORE=supabase``, dummy but valid secrets, tracing on as under Lambda).

The variants run round-robin, so a busy moment of the shared machine hits them alike; the
target compares medians from the same run: each API function <= 0.6 x the naive import.

    python -m bench.cold_start [--runs N] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.support.production_layer import build_production_layer
from bench.support.recording import record

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.6
NAIVE_IMPORT = "import supabase, boto3, jwt, aws_lambda_powertools.event_handler"
FUNCTIONS = ("jobs_api", "audit_api")

TIMED_IMPORT = """
import time
started = time.perf_counter()
{statement}
print(round((time.perf_counter() - started) * 1000, 2))
"""


def production_environment(layer: Path, function: str) -> dict[str, str]:
    """What a deployed function's process has: template variables, secrets, Lambda's own."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(layer),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": f"scout-prod-{function}",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_SERVICE_NAME": function,
        "POWERTOOLS_METRICS_NAMESPACE": "scout",
        "SCOUT_STAGE": "prod",
        "SCOUT_STORE": "supabase",
        "SUPABASE_URL": "https://bench-project.supabase.co",
        "SUPABASE_SERVICE_ROLE_KEY": "sb_secret_" + "b" * 40,
        "SUPABASE_JWT_SECRET": "u" * 40,
        "ADMIN_SESSION_SECRET": "a" * 40,
        "SERVICE_TOKEN_SECRET": "s" * 40,
        "ALLOWED_HOSTS": "api.scout.example",
        "ALLOWED_ORIGINS": "https://app.scout.example",
        "SCAN_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/scout-prod-scans.fifo",
        "POLL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/scout-prod-poll",
        "REPORTS_BUCKET": "scout-prod-reports",
    }


def time_import(statement: str, *, cwd: Path, env: dict[str, str]) -> float:
    """Milliseconds the import took in a fresh interpreter."""
    finished = subprocess.run(
        [sys.executable, "-c", TIMED_IMPORT.format(statement=statement)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{statement!r} in {cwd} failed:\n{finished.stderr}")
    return float(finished.stdout.strip().splitlines()[-1])


def measure(layer: Path, runs: int, warmup: int) -> dict[str, list[float]]:
    variants: dict[str, tuple[str, Path, dict[str, str]]] = {
        "naive": (NAIVE_IMPORT, ROOT, production_environment(layer, "jobs_api")),
    }
    for function in FUNCTIONS:
        variants[function] = (
            "import app",
            ROOT / "functions" / function,
            production_environment(layer, function),
        )
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(warmup + runs):
        for name, (statement, cwd, env) in variants.items():
            took = time_import(statement, cwd=cwd, env=env)
            if round_number >= warmup:
                samples[name].append(took)
    return samples


def summarise(samples: dict[str, list[float]]) -> dict[str, Any]:
    medians = {name: round(statistics.median(values), 1) for name, values in samples.items()}
    ratios = {function: round(medians[function] / medians["naive"], 3) for function in FUNCTIONS}
    return {
        "median_ms": medians,
        "ratio_to_naive": ratios,
        "target_ratio": TARGET_RATIO,
        "meets_target": all(ratio <= TARGET_RATIO for ratio in ratios.values()),
        "samples_ms": samples,
    }


def render_markdown(results: dict[str, Any], command: str) -> str:
    medians, ratios = results["median_ms"], results["ratio_to_naive"]
    lines = [
        "# Cold start benchmark",
        "",
        f"Recorded {results['recorded_at']} by `{command}`.",
        "",
        f"- Machine: {results['machine']}; load average {results['load_average_before']} before, "
        f"{results['load_average_after']} after (shared machine).",
        f"- Python {results['python']}; {results['runs']} measured runs per variant after "
        f"{results['warmup']} warm-up, round-robin, each a fresh interpreter; medians.",
        (
            "- Handlers import from the production layer as `sam build` makes it "
            "(`bench/support/production_layer.py`)"
            if results["layer"] == "built"
            else "- Handlers import from the whole `layers/scout` folder (the layer before the build step)"
        )
        + ", with production settings (`SCOUT_STORE=supabase`, dummy secrets, tracing on as under Lambda).",
        f"- naive: `{NAIVE_IMPORT}`.",
        "",
        "| import | median | / naive |",
        "| --- | ---: | ---: |",
        f"| naive | {medians['naive']} ms | 1.000 |",
    ]
    for function in FUNCTIONS:
        lines.append(f"| functions/{function}/app.py | {medians[function]} ms | {ratios[function]:.3f} |")
    verdict = "PASS" if results["meets_target"] else "FAIL"
    lines += ["", f"Target: each API function <= {TARGET_RATIO} x naive, same run: **{verdict}**.", ""]
    return "\n".join(lines)


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--no-record", dest="record", action="store_false")
    parser.add_argument("--label", default="", help="results file suffix, e.g. 'before'")
    parser.add_argument(
        "--layer",
        choices=("built", "source"),
        default="built",
        help="built: as sam build makes it; source: the whole layers/scout folder (before the build step)",
    )
    options = parser.parse_args(argv)
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="scout-layer-") as scratch:
        if options.layer == "built":
            layer = build_production_layer(Path(scratch) / "python")
        else:
            layer = ROOT / "layers" / "scout"
        samples = measure(layer, options.runs, options.warmup)
    results = summarise(samples)
    results.update(
        recorded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        runs=options.runs,
        warmup=options.warmup,
        python=platform.python_version(),
        machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        load_average_before=load_before,
        load_average_after=load_average(),
        layer=options.layer,
    )
    command = "python -m bench.cold_start" + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    report = render_markdown(results, command.strip())
    print(report)
    if options.record:
        stem = "cold_start" + (f"_{options.label}" if options.label else "")
        record(stem, {**results, "command": command}, report)
    return 0 if results["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
