"""Scan speed: scout's warm scan engine against two ways of scanning without it (issue 5 §4).

One local page (``bench/shop_site.py`` on 127.0.0.2), a phone (mobile), every browser
behind the egress guard's proxy with the page's address let through (``SCOUT_EGRESS_ALLOW``,
as in the tests), and one Lighthouse configuration for all: Lighthouse's default mobile
config, the four categories, its default (simulated) throttling, the same load timeout.

- (a) a new Chromium per scan (Playwright) opens the page; then the Lighthouse CLI runs
  (with its own Chrome); then axe and the screenshot on the open page.
- (b) one Chromium kept across scans; the Lighthouse CLI per scan, side by side with the
  page audit (scout's own browser half: navigate, axe, screenshot).
- (c) scout: ``ScanEngine.scan()`` warm (pooled browser, persistent Lighthouse worker).

Scans run one at a time, round-robin over the variants so that a change in the machine's
load touches all of them alike: ``--warmup`` rounds, then ``--runs`` measured rounds; then
``--back-to-back`` extra (c) scans with no pause between them, reported on their own.
Targets: median (c) <= 0.6 x median (b); and (c)'s wall time <= 1.15 x the time Lighthouse
reports for its own run (lhr.timing.total), as the median of each (c) scan's ratio.

    python -m bench.scanning [--runs 5] [--warmup 1] [--back-to-back 3] [--no-record]

Results go to bench/results/scanning.json and scanning.md. The exit status is non-zero only
when the benchmark itself broke (a scan failed, missed the planted faults or went around
the egress proxy), never because a target was missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Playwright, async_playwright

from bench.shop_site import HOST, ShopSite
from bench.support.recording import record
from scout.audit.axe import AxeScript, run_axe, summarize_axe
from scout.audit.browser_pool import BrowserPool
from scout.audit.chromium_flags import chromium_flags
from scout.audit.devices import DEVICES
from scout.audit.egress_gate import GuardedEgress
from scout.audit.engine import ScanEngine, ScanOptions
from scout.audit.node_layer import NodeLayer
from scout.audit.page_audit import PageAuditOptions, PageProgress, audit_page
from scout.audit.result import Device
from scout.audit.screenshot import full_page_screenshot
from scout.egress.policy import EgressPolicy
from scout.settings import load_settings

DEVICE: Device = "mobile"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# Faults planted in bench/pages/index.html that every variant's axe must find.
PLANTED_VIOLATIONS = frozenset(
    {"html-has-lang", "image-alt", "button-name", "link-name", "label", "color-contrast"}
)
NAVIGATION_TIMEOUT_SECONDS = 30.0
NETWORK_IDLE_SECONDS = 10.0
SCREENSHOT_MAX_HEIGHT = 6000
SCAN_TIMEOUT_SECONDS = 120.0
# lhr.configSettings keys that say where reports go or how Chrome was reached, not how
# Lighthouse measures; the CLI and the worker differ there by construction.
CONFIG_KEYS_NOT_MEASURING = frozenset({"output", "outputPath", "port", "hostname", "channel"})
TARGET_C_OVER_B = 0.6
TARGET_C_OVER_LIGHTHOUSE = 1.15

VARIANTS = {
    "a": "new browser per scan; Lighthouse CLI, then axe",
    "b": "pooled browser; Lighthouse CLI in parallel with axe",
    "c": "scout ScanEngine.scan(), warm",
}


class BenchBroken(Exception):
    """A scan did not do the whole job, so its time would mean nothing."""


@dataclass(frozen=True)
class Scan:
    wall_ms: float
    lighthouse_total_ms: float
    scores: dict[str, int | None]
    violations: frozenset[str]
    lighthouse_settings: dict[str, Any]


def summarize(what: str, scans: list[Scan]) -> dict[str, Any]:
    walls = [scan.wall_ms for scan in scans]
    lighthouse = [scan.lighthouse_total_ms for scan in scans]
    ratios = [scan.wall_ms / scan.lighthouse_total_ms for scan in scans]
    outside = [scan.wall_ms - scan.lighthouse_total_ms for scan in scans]
    return {
        "what": what,
        "wall_ms": [round(value) for value in walls],
        "median_wall_ms": round(statistics.median(walls)),
        "lighthouse_total_ms": [round(value) for value in lighthouse],
        "median_lighthouse_total_ms": round(statistics.median(lighthouse)),
        # Starting Node, loading Lighthouse, launching Chrome, resolving the config, writing
        # and reading reports, and (a)'s browser work before and after Lighthouse.
        "median_outside_lighthouse_ms": round(statistics.median(outside)),
        "wall_over_lighthouse_total": [round(value, 3) for value in ratios],
        "median_wall_over_lighthouse_total": round(statistics.median(ratios), 3),
        "scores_last_scan": scans[-1].scores,
    }


# -- the Lighthouse CLI, as (a) and (b) run it ----------------------------------------


@dataclass
class CliLighthouse:
    executable: Path
    chromium_path: str
    chrome_flags: list[str]
    # Scratch folders of finished scans, removed between scans rather than on the clock.
    leftovers: list[Path] = field(default_factory=list)

    async def run(self, url: str) -> dict[str, Any]:
        """One CLI run, its reports read as a caller would: the parsed LHR."""
        scratch = self.scratch("scout-bench-lighthouse-")
        process = await asyncio.create_subprocess_exec(
            str(self.executable),
            url,
            "--output=json",
            "--output=html",
            f"--output-path={scratch / 'report'}",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--max-wait-for-load={round(NAVIGATION_TIMEOUT_SECONDS * 1000)}",
            "--quiet",
            f"--chrome-flags={' '.join(map(_quote_flag, self.chrome_flags))}",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # chrome-launcher makes Chrome's profile under TMPDIR, inside the scratch folder.
            env={**os.environ, "CHROME_PATH": self.chromium_path, "TMPDIR": str(scratch)},
            start_new_session=True,
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), SCAN_TIMEOUT_SECONDS)
        except BaseException:
            _kill_processes_under(scratch, process.pid)
            await process.wait()
            raise
        if process.returncode != 0:
            raise BenchBroken(f"the Lighthouse CLI exited {process.returncode}: {stderr.decode()[-2000:]}")
        report_json, _ = await asyncio.gather(
            asyncio.to_thread((scratch / "report.report.json").read_bytes),
            asyncio.to_thread((scratch / "report.report.html").read_bytes),
        )
        lhr: dict[str, Any] = await asyncio.to_thread(json.loads, report_json)
        return lhr

    def scratch(self, prefix: str) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        self.leftovers.append(folder)
        return folder

    async def clean_up(self) -> None:
        leftovers, self.leftovers = self.leftovers, []
        for folder in leftovers:
            # The CLI and Playwright stop their browsers; anything still running there is a stray.
            _kill_processes_under(folder, None)
            await asyncio.to_thread(shutil.rmtree, folder, True)


def _quote_flag(flag: str) -> str:
    # The CLI splits --chrome-flags as a shell would; the guard's resolver rule has spaces.
    name, equals, value = flag.partition("=")
    return f'{name}="{value}"' if equals and " " in value else flag


def _kill_processes_under(tmp_dir: Path, group: int | None) -> None:
    """Kill a process group, and every process started with TMPDIR=tmp_dir (Chrome has its own group)."""
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    marker = b"TMPDIR=" + str(tmp_dir).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)


# -- the three variants ---------------------------------------------------------------


@dataclass
class Rig:
    """What the variants share: the guard, axe, the CLI, and the parts kept warm."""

    gate: GuardedEgress
    axe_script: AxeScript
    cli: CliLighthouse
    chromium_path: str
    browser_flags: list[str]
    playwright: Playwright
    pool: BrowserPool
    engine: ScanEngine


async def scan_cold(rig: Rig, url: str) -> Scan:
    started = time.perf_counter()
    target = await rig.gate.check(url)
    profile = DEVICES[DEVICE]
    browser = await rig.playwright.chromium.launch(
        executable_path=rig.chromium_path,
        headless=True,
        args=rig.browser_flags,
        env={**os.environ, "TMPDIR": str(rig.cli.scratch("scout-bench-chromium-"))},
        handle_sigint=False,
        handle_sigterm=False,
        handle_sighup=False,
    )
    try:
        context = await browser.new_context(
            **profile.context_options(browser.version), service_workers="block", accept_downloads=False
        )
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Emulation.setUserAgentOverride", profile.user_agent_override(browser.version))
        await page.goto(target, wait_until="load", timeout=NAVIGATION_TIMEOUT_SECONDS * 1000)
        with contextlib.suppress(Exception):
            await page.wait_for_load_state("networkidle", timeout=NETWORK_IDLE_SECONDS * 1000)
        lhr = await rig.cli.run(target)
        axe = summarize_axe(await run_axe(page, rig.axe_script))
        await full_page_screenshot(page, max_height=SCREENSHOT_MAX_HEIGHT)
    finally:
        with contextlib.suppress(Exception):
            await browser.close()
    return _scan_from_lhr(_ms(started), lhr, frozenset(violation.id for violation in axe.violations))


async def scan_pooled(rig: Rig, url: str) -> Scan:
    started = time.perf_counter()
    target = await rig.gate.check(url)
    lhr, page = await asyncio.gather(
        rig.cli.run(target),
        audit_page(
            target,
            DEVICES[DEVICE],
            pool=rig.pool,
            egress=rig.gate,
            axe_script=rig.axe_script,
            options=PageAuditOptions(
                navigation_timeout_seconds=NAVIGATION_TIMEOUT_SECONDS,
                screenshot_max_height=SCREENSHOT_MAX_HEIGHT,
                network_idle_seconds=NETWORK_IDLE_SECONDS,
            ),
            progress=PageProgress(),
        ),
    )
    wall_ms = _ms(started)
    if page.screenshot_png is None:
        raise BenchBroken("(b) took no screenshot")
    return _scan_from_lhr(wall_ms, lhr, frozenset(violation.id for violation in page.axe.violations))


async def scan_scout(rig: Rig, url: str) -> Scan:
    started = time.perf_counter()
    outcome = await rig.engine.scan(url, DEVICE)
    wall_ms = _ms(started)
    result, artifacts = outcome.result, outcome.artifacts
    if result.status != "succeeded" or result.lighthouse is None or result.axe is None:
        raise BenchBroken(f"(c) scan {result.status}: {result.error}")
    report = artifacts.lighthouse_json
    if report is None or artifacts.screenshot_png is None or artifacts.lighthouse_html is None:
        raise BenchBroken("(c) is missing its screenshot or a Lighthouse report")
    if not result.lighthouse.timing.total_ms:
        raise BenchBroken("(c) has no Lighthouse run time")
    # Parsed off the clock: the engine hands the report on as bytes; only the check needs it.
    settings = json.loads(report)["configSettings"]
    return Scan(
        wall_ms,
        result.lighthouse.timing.total_ms,
        result.lighthouse.scores.model_dump(by_alias=True),
        frozenset(violation.id for violation in result.axe.violations),
        settings,
    )


def _scan_from_lhr(wall_ms: float, lhr: dict[str, Any], violations: frozenset[str]) -> Scan:
    if lhr.get("runtimeError"):
        raise BenchBroken(f"Lighthouse reported {lhr['runtimeError']}")
    scores: dict[str, int | None] = {}
    for category in CATEGORIES:
        score = lhr["categories"][category]["score"]
        scores[category] = None if score is None else round(score * 100)
    return Scan(wall_ms, float(lhr["timing"]["total"]), scores, violations, lhr["configSettings"])


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# -- running it -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _rig() -> AsyncIterator[Rig]:
    settings = load_settings()
    node = NodeLayer.from_settings(settings)
    node.require_installed()
    # What SCOUT_EGRESS_ALLOW=127.0.0.2 gives; built here so that settings cached by an
    # earlier suite in the same process cannot leave the page's address out.
    gate = GuardedEgress(policy=EgressPolicy(allow=(HOST,)))
    egress_flags = await gate.browser_args()
    axe_script = AxeScript(node.axe_script)
    pool = BrowserPool.from_settings(settings, egress=gate)
    engine = ScanEngine.with_own_browsers(
        settings,
        egress=gate,
        axe_script=axe_script,
        options=ScanOptions(
            navigation_timeout_seconds=NAVIGATION_TIMEOUT_SECONDS,
            screenshot_max_height=SCREENSHOT_MAX_HEIGHT,
            network_idle_seconds=NETWORK_IDLE_SECONDS,
        ),
    )
    cli = CliLighthouse(
        node.lighthouse_cli, settings.chromium_path, chromium_flags(headless_flag=True, extra=egress_flags)
    )
    playwright = await async_playwright().start()
    try:
        yield Rig(
            gate=gate,
            axe_script=axe_script,
            cli=cli,
            chromium_path=settings.chromium_path,
            browser_flags=chromium_flags(headless_flag=False, extra=egress_flags),
            playwright=playwright,
            pool=pool,
            engine=engine,
        )
    finally:
        await engine.aclose()
        await pool.aclose()
        await playwright.stop()
        await cli.clean_up()
        await gate.aclose()


async def measure(runs: int, warmup: int, back_to_back: int) -> dict[str, Any]:
    with ShopSite() as site:
        url = site.url("/")
        async with _rig() as rig:
            scanners: dict[str, Callable[[], Awaitable[Scan]]] = {
                "a": lambda: scan_cold(rig, url),
                "b": lambda: scan_pooled(rig, url),
                "c": lambda: scan_scout(rig, url),
            }
            measured: dict[str, list[Scan]] = {key: [] for key in scanners}
            round_loads = []
            for round_number in range(1, warmup + runs + 1):
                label = "warm-up" if round_number <= warmup else "measured"
                for key, scanner in scanners.items():
                    scan = await _timed_scan(key, scanner, site, f"round {round_number} ({label})")
                    if round_number > warmup:
                        measured[key].append(scan)
                round_loads.append(round(os.getloadavg()[0], 2))
            consecutive = [
                await _timed_scan("c", scanners["c"], site, f"back-to-back {number}")
                for number in range(1, back_to_back + 1)
            ]
    results: dict[str, Any] = {
        "variants": {key: summarize(VARIANTS[key], scans) for key, scans in measured.items()},
        "load_average_1min_after_each_round": round_loads,
        "page": {"host": HOST, "bytes": site.page_bytes, "requests_served": site.requests},
        "lighthouse_settings": _settings_comparison([*measured.values(), consecutive]),
    }
    if consecutive:
        results["c_back_to_back"] = summarize(
            "(c) scans one right after another (not part of the targets)", consecutive
        )
    return results


async def _timed_scan(key: str, scanner: Callable[[], Awaitable[Scan]], site: ShopSite, label: str) -> Scan:
    requests_before = site.requests
    scan = await asyncio.wait_for(scanner(), SCAN_TIMEOUT_SECONDS * 2)
    missing = PLANTED_VIOLATIONS - scan.violations
    if missing:
        raise BenchBroken(f"({key}) axe missed the planted violations {sorted(missing)}")
    if any(score is None for score in scan.scores.values()):
        raise BenchBroken(f"({key}) a Lighthouse category was not scored: {scan.scores}")
    if site.requests == requests_before:
        raise BenchBroken(f"({key}) the page was never asked for")
    if site.direct_requests:
        raise BenchBroken(f"({key}) {site.direct_requests} requests reached the page around the egress proxy")
    print(
        f"  {label}: ({key}) {scan.wall_ms:6.0f} ms wall, "
        f"Lighthouse reports {scan.lighthouse_total_ms:6.0f} ms",
        file=sys.stderr,
        flush=True,
    )
    return scan


def _settings_comparison(groups: list[list[Scan]]) -> dict[str, Any]:
    """Whether every scan ran Lighthouse with the same measuring settings."""
    scans = [scan for group in groups for scan in group]
    reference = scans[0].lighthouse_settings
    differing: set[str] = set()
    for scan in scans:
        keys = set(reference) | set(scan.lighthouse_settings)
        differing |= {key for key in keys if reference.get(key) != scan.lighthouse_settings.get(key)}
    measuring = sorted(differing - CONFIG_KEYS_NOT_MEASURING)
    return {
        "same_for_all_scans": not measuring,
        "differing": measuring,
        "differing_but_not_measuring": sorted(differing & CONFIG_KEYS_NOT_MEASURING),
        "form_factor": reference.get("formFactor"),
        "throttling_method": reference.get("throttlingMethod"),
        "throttling": reference.get("throttling"),
        "only_categories": reference.get("onlyCategories"),
        "max_wait_for_load_ms": reference.get("maxWaitForLoad"),
    }


def targets(variants: dict[str, Any]) -> dict[str, Any]:
    c_over_b = variants["c"]["median_wall_ms"] / variants["b"]["median_wall_ms"]
    c_over_lighthouse = variants["c"]["median_wall_over_lighthouse_total"]
    return {
        "c_over_b": {
            "value": round(c_over_b, 3),
            "limit": TARGET_C_OVER_B,
            "pass": c_over_b <= TARGET_C_OVER_B,
        },
        "c_wall_over_its_lighthouse_total": {
            "value": c_over_lighthouse,
            "limit": TARGET_C_OVER_LIGHTHOUSE,
            "pass": c_over_lighthouse <= TARGET_C_OVER_LIGHTHOUSE,
        },
    }


# -- the record -----------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_gb = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    node_root = NodeLayer.from_settings(load_settings()).root
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "node": _command_output([load_settings().node_binary, "--version"]),
        "chromium": _command_output([load_settings().chromium_path, "--version"]),
        "lighthouse": _npm_version(node_root, "lighthouse"),
        "axe_core": _npm_version(node_root, "axe-core"),
        "playwright": _python_version("playwright"),
    }


def _command_output(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _npm_version(node_root: Path, package: str) -> str | None:
    with contextlib.suppress(OSError, ValueError, KeyError):
        return str(json.loads((node_root / "node_modules" / package / "package.json").read_text())["version"])
    return None


def _python_version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    with contextlib.suppress(PackageNotFoundError):
        return version(package)
    return None


def markdown(results: dict[str, Any]) -> str:
    machine, settings = results["machine"], results["lighthouse_settings"]
    variants, goals = results["variants"], results["targets"]
    lines = [
        "# Scanning benchmark",
        "",
        f"Recorded {results['recorded_at']} by `{results['command']}`.",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; {machine['os']}.",
        f"- Software: Python {machine['python']}, Node {machine['node']}, {machine['chromium']}, "
        f"Lighthouse {machine['lighthouse']}, axe-core {machine['axe_core']}, "
        f"Playwright {machine['playwright']}.",
        f"- Load average (1/5/15 min): {_listed(results['load_average']['before'], ' / ')} before, "
        f"{_listed(results['load_average']['after'], ' / ')} after; 1-minute load after each round: "
        f"{_listed(results['load_average_1min_after_each_round'], ', ')}. The machine is shared.",
        f"- Page: the bench shop ({results['page']['bytes']:,} bytes of HTML, CSS, JS and images) on "
        f"{results['page']['host']}, scanned as {results['device']}; every browser through the egress proxy "
        "(checked: the page server saw no request that bypassed it).",
        f"- {results['warmup']} warm-up and {results['runs']} measured scans per variant, "
        "round-robin; medians.",
        f"- Lighthouse settings identical across all scans: "
        f"{'yes' if settings['same_for_all_scans'] else 'NO, see the JSON'} "
        f"(form factor {settings['form_factor']}, throttling {settings['throttling_method']}, "
        f"categories {', '.join(settings['only_categories'] or [])}, max wait for load "
        f"{settings['max_wait_for_load_ms']} ms; besides those, only "
        f"{_listed(settings['differing_but_not_measuring'], ', ') or 'nothing'} differs).",
        "",
        "| variant | median wall | median Lighthouse-reported | median outside Lighthouse "
        "| wall / Lighthouse |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    rows = [(f"({key}) {summary['what']}", summary) for key, summary in variants.items()]
    if "c_back_to_back" in results:
        rows.append(("(c) back to back, informational", results["c_back_to_back"]))
    for name, summary in rows:
        lines.append(
            f"| {name} | {summary['median_wall_ms']} ms | {summary['median_lighthouse_total_ms']} ms | "
            f"{summary['median_outside_lighthouse_ms']} ms | {summary['median_wall_over_lighthouse_total']} |"
        )
    lines += [
        "",
        "| target | value | limit | verdict |",
        "| --- | ---: | ---: | --- |",
        f"| median (c) / median (b) | {goals['c_over_b']['value']} | <= {goals['c_over_b']['limit']} | "
        f"{'PASS' if goals['c_over_b']['pass'] else 'FAIL'} |",
        f"| (c) wall / its own Lighthouse-reported time, median | "
        f"{goals['c_wall_over_its_lighthouse_total']['value']} | "
        f"<= {goals['c_wall_over_its_lighthouse_total']['limit']} | "
        f"{'PASS' if goals['c_wall_over_its_lighthouse_total']['pass'] else 'FAIL'} |",
        "",
        NOTES,
    ]
    return "\n".join(lines)


def _listed(values: list[Any], separator: str) -> str:
    return separator.join(str(value) for value in values)


NOTES = """## Reading the numbers

"Lighthouse-reported" is lhr.timing.total: Lighthouse's gather and audit phases. Everything
else in a scan's wall time is "outside Lighthouse": for the CLI, starting Node and loading
Lighthouse's modules, launching and killing its Chrome, resolving and validating the
configuration, writing the reports and parsing the JSON report in Python; for (a), also the
browser launch, navigation, axe and screenshot before and after the CLI.

Most of a Lighthouse run on a small local page is waiting that its configuration
prescribes (the CPU benchmark, the quiet windows after load, the full-page screenshot's
network-idle wait, the back/forward-cache check), so scout's wall time cannot go below
Lighthouse's own time; what the persistent worker removes is everything outside it. The
worker keeps Node, Lighthouse's modules, Chrome and its DevTools connection, and resolves
the next run's configuration (half a second to a second of CPU) after each result, so a
scan does not wait for it. The back-to-back row shows scans that leave the worker no time
in between: they wait for the rest of that work. See bench/results/scanning.json for every
scan's numbers.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scanning", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measured scans per variant (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up scans per variant (default 1)")
    parser.add_argument(
        "--back-to-back", type=int, default=3, help="extra (c) scans with no pause between them (default 3)"
    )
    parser.add_argument("--no-record", action="store_true", help="print the results without writing them")
    args = parser.parse_args(argv or [])
    if args.runs < 1 or args.warmup < 0 or args.back_to_back < 0:
        parser.error("--runs must be at least 1, --warmup and --back-to-back at least 0")
    command = "make bench" if argv is None else " ".join(["python -m bench.scanning", *argv])
    # The page is on a private address: exactly that one is let through the guard.
    os.environ["SCOUT_EGRESS_ALLOW"] = HOST
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    load_before = _load_average()
    print(f"scanning benchmark (load average {load_before})", file=sys.stderr, flush=True)

    from scout import runtime
    from scout.observability import logger

    # The engine logs every scan and launch; the benchmark's output is its results.
    logger.setLevel("WARNING")
    try:
        measured = runtime.run(measure(args.runs, args.warmup, args.back_to_back))
    except (BenchBroken, TimeoutError) as exc:
        print(f"the scanning benchmark broke: {exc!r}", file=sys.stderr)
        return 1
    results = {
        "suite": "scanning",
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": command,
        "device": DEVICE,
        "runs": args.runs,
        "warmup": args.warmup,
        **measured,
        "targets": targets(measured["variants"]),
        "machine": machine_facts(),
        "load_average": {"before": load_before, "after": _load_average()},
    }
    print(json.dumps(results, indent=2) + "\n")
    if not args.no_record:
        record("scanning", results, markdown(results))
    return 0


def _load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
