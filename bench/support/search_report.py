"""bench/results/search.md from the search benchmark's results."""

from __future__ import annotations

from typing import Any


def render_markdown(results: dict[str, Any]) -> str:
    data = results["data"]
    machine = results["machine"]
    met = sum(target["met"] for target in results["targets"])
    lines = [
        "# Search benchmark: results",
        "",
        f"Produced by `{results['command']}` (`make bench` runs"
        f" it) on {results['recorded_at']}; the suite took"
        f" {results['suite_seconds']} s. What it measures and why: docs/performance.md, section Search.",
        "",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}),"
        f" {machine['platform']}, Python {machine['python']},"
        f" PostgreSQL {machine['postgres']} (embedded, default settings). Load average before/after:"
        f" {machine['load_average_before']} / {machine['load_average_after']} (the machine is shared).",
        f"- Data: {data['postings']:,} postings ({data['active']:,}"
        f" active, {data['with_salary']:,} with a salary,"
        f" descriptions {data['description_chars_avg']} characters"
        f" on average) over {data['sources']:,} sources;"
        f' {data["active_matching_engineer"]:,} active postings match "engineer",'
        f' {data["active_matching_haskell"]:,} "haskell"; {data["title_words"]:,} distinct title words.'
        f" Generated in SQL in {sum(data['generation_seconds'].values()):.0f}"
        f" s ({data['generation_seconds']}).",
        f"- Each shape: one warm-up, then {results['settings']['repetitions']}"
        f" calls through the store and as many"
        " through the HTTP handler (the jobs API resolver in-process, JSON response included), pages of 20.",
        "",
        f"**{met} of {len(results['targets'])} targets met.**",
        "",
    ]
    parts = results["settings"].get("parts", ["jobs", "sync", "claim"])
    if len(parts) < 3:
        lines += [f"Only these parts were measured: {', '.join(parts)} (`--parts`).", ""]
    if "shapes" in results:
        lines += jobs_section(results)
    lines += [
        "## Targets",
        "",
        "| target | measured | result |",
        "| --- | ---: | --- |",
    ]
    lines += [
        f"| {target['target']} | {target['measured']} | {'PASS' if target['met'] else 'FAIL'} |"
        for target in results["targets"]
    ]
    if "sync" in results or "claims" in results:
        lines += [
            "",
            "## Sync of a 5,000-posting source and the scheduler's claim",
            "",
            "| step | p50 ms | p95 ms | runs |",
            "| --- | ---: | ---: | ---: |",
        ]
    for name, step in results.get("sync", {}).items():
        lines.append(f"| sync: {name} | {step['p50_ms']} | {step['p95_ms']} | {step['runs']} |")
    for count, claim in results.get("claims", {}).items():
        lines.append(
            f"| claim {claim['claimed']} due of {int(count):,} sources"
            f" | {claim['p50_ms']} | {claim['p95_ms']}"
            f" | {results['settings']['repetitions']} |"
        )
    if "sync" in results:
        lines += sync_payload_section(results["sync"])
    if "shapes" in results:
        lines += ["", "## Index sizes", "", "| table | index | MB |", "| --- | --- | ---: |"]
        lines += [f"| {row['table']} | {row['index']} | {row['mb']} |" for row in results["index_sizes"]]
        lines += ["", "## Plans of the three slowest shapes (store p95)", ""]
        for name, steps in results["plans"].items():
            lines.append(f"### {name}")
            lines.append("")
            for step in steps:
                lines += [f"Tier {step['rank']} ({step['rows']} rows):", "", "```", step["plan"], "```", ""]
    return "\n".join(lines) + "\n"


def jobs_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## GET /jobs",
        "",
        "| shape | query | items | store p50 ms | store p95 ms | handler p50 ms | handler p95 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, shape in results["shapes"].items():
        query = ", ".join(f"{key}={value}" for key, value in shape["query"].items()) or "(none)"
        if name.endswith(("page_2", "page_50")):
            query += f" + cursor of page {name.rsplit('_', 1)[1]}"
        lines.append(
            f"| {name} | {query} | {shape['items']} | {shape['store']['p50_ms']} | {shape['store']['p95_ms']}"
            f" | {shape['handler']['p50_ms']} | {shape['handler']['p95_ms']} |"
        )
    baseline = results["ts_rank_cd_baseline"]
    common = results["shapes"]["q_common"]["store"]["p50_ms"]
    lines += [
        "",
        'Baseline: ordering every active match of "engineer" by `ts_rank_cd` blended with freshness'
        f" (plain SQL, no JSON) takes p50 {baseline['p50_ms']} ms, p95 {baseline['p95_ms']} ms:"
        f" {baseline['p50_ms'] / common:.1f}x the tiered relevance"
        f" page through the store ({common} ms), which is"
        " why list_jobs ranks in tiers (supabase/migrations/20261206000300_jobs_search.sql).",
        "",
    ]
    return lines


def sync_payload_section(sync: dict[str, Any]) -> list[str]:
    """What each sync sent: the postings with content, the rest as fingerprints (as_stored)."""
    lines = [
        "",
        "Payload of the last run of each sync (scout.jobs.sync_payload):",
        "",
        "| sync | postings | sent with content | payload KB | upserted | archived |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, step in sync.items():
        if "payload_bytes" not in step:
            continue
        lines.append(
            f"| {name} | {step['postings']} | {step['with_content']} | {step['payload_bytes'] / 1000:.0f}"
            f" | {step['upserted']} | {step['archived']} |"
        )
    return lines
