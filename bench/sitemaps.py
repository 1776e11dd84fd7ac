"""Planning a monitor from a 50,000-URL sitemap: wall time and peak Python memory.

A loopback site (127.0.0.1, allow-listed) serves one urlset of 50,000 URLs (~5 MB), plain
and gzipped. Three cases, each the median of ``--repetitions`` plans through the guarded
client:

- ``full_read``: every URL excluded but the last, so the whole document is read and parsed;
- ``full_read_gzip``: the same, from the gzipped file;
- ``capped``: the default plan (50 pages): reading stops at the 51st page.

Baseline, in the same run: the whole body fetched with the same client and parsed with
``xml.etree.ElementTree.fromstring`` (a tree of every element in memory, no limits), then
each ``<loc>`` read. Peak memory is ``tracemalloc``'s peak during one plan (Python
allocations only). Results: ``bench/results/sitemaps.json``.

    python -m bench.sitemaps [--repetitions 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import sys
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bench.support.polling_machine import load_average
from bench.support.recording import record
from scout.egress.policy import EgressPolicy
from scout.monitors.sitemaps import PageSource, new_sitemap_client, plan_pages
from tests.support.sitemap_site import Page, SitemapSite

URLS = 50_000
NAMESPACE = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def document(origin: str) -> bytes:
    entries = "".join(
        f"<url><loc>{origin}/products/item-{n}</loc><lastmod>2026-12-01</lastmod></url>" for n in range(URLS)
    )
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()


async def measure(run: Callable[[], Awaitable[int]], repetitions: int) -> dict[str, Any]:
    seconds = []
    for _ in range(repetitions):
        started = time.perf_counter()
        found = await run()
        seconds.append(time.perf_counter() - started)
    tracemalloc.start()
    await run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "peak_mib": round(peak / 2**20, 2),
        "pages": found,
    }


async def run_suite(repetitions: int) -> dict[str, Any]:
    async with SitemapSite({}, host="127.0.0.1") as site:
        origin = site.url("")
        body = document(origin)
        site.routes["/sitemap.xml"] = Page(body=body, headers={"Content-Type": "application/xml"})
        site.routes["/sitemap.xml.gz"] = Page(
            body=gzip.compress(body), headers={"Content-Type": "application/gzip"}
        )
        last = f"/products/item-{URLS - 1}"
        async with new_sitemap_client(EgressPolicy(allow=["127.0.0.1"])) as client:

            async def plan(path: str, **fields: Any) -> int:
                return len((await plan_pages(PageSource(sitemap=site.url(path), **fields), client)).pages)

            async def etree_baseline() -> int:
                response = await client.get(site.url("/sitemap.xml"))
                root = ET.fromstring(response.content)  # noqa: S314 - our own generated document
                return len([loc.text for loc in root.iter(f"{NAMESPACE}loc")])

            cases = {
                "etree_baseline": etree_baseline,
                "full_read": lambda: plan("/sitemap.xml", include=[last]),
                "full_read_gzip": lambda: plan("/sitemap.xml.gz", include=[last]),
                "capped": lambda: plan("/sitemap.xml"),
            }
            results = {name: await measure(run, repetitions) for name, run in cases.items()}
    baseline = results["etree_baseline"]["median_ms"]
    for figures in results.values():
        figures["time_vs_baseline"] = round(figures["median_ms"] / baseline, 2)
    return {"sitemap_bytes": len(body), "urls": URLS, "cases": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args(argv if argv is not None else [])
    started_load = load_average()
    report = asyncio.run(run_suite(args.repetitions))
    report |= {
        "command": f"python -m bench.sitemaps --repetitions {args.repetitions}",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": {"start": started_load, "end": load_average()},
    }
    record("sitemaps", report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
