"""The polling benchmark's results as a Markdown page (bench/results/polling.md)."""

from __future__ import annotations

from typing import Any

_TITLES = {
    "scout": "scout, cold process: pooled clients, concurrent, 1 sync call",
    "scout_warm": "scout, warm process (polled before): the same, unchanged postings sent as stored",
    "two_phase_gather": "baseline 2: pooled clients, concurrent, 4 statements in 2 gathers",
    "client_per_request": "baseline 1: client per request, sequential, 4 statements",
}


def render_markdown(results: dict[str, Any]) -> str:
    settings, workload, machine = results["settings"], results["workload"], results["machine"]
    initial = results["initial_import"]
    lines = [
        "# Polling benchmark: results",
        "",
        f"Produced by `{results['command']}` (`make bench` runs it) on {results['recorded_at']}; "
        f"the suite took {results.get('suite_seconds', '?')} s. What it measures and why: "
        "docs/performance.md, section Polling.",
        "",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['platform']}, Python "
        f"{machine['python']}, PostgreSQL {machine['postgres']} (embedded), httpx {machine['httpx']}, "
        f"httpcore {machine['httpcore']}. Load average before/after: "
        f"{machine.get('load_average_before')} / {machine.get('load_average_after')} "
        "(the machine is shared; wall times move with its load, CPU times much less).",
        f"- Workload: {workload['sources']} sources ({_kinds(workload['sources_by_kind'])}), "
        f"{workload['gone_boards']} of them gone (404); {workload['postings']} postings with ~2.5 KB "
        f"descriptions, largest board {workload['largest_board']}; six fake ATS servers on 127.0.0.1, "
        "Workday's answering each tenant under its own host name (as in production), so "
        f"{workload['sources_by_kind'].get('workday', 0) + len(workload['sources_by_kind']) - 1} hosts.",
        f"- Polling: {settings['sources_at_once']} sources at once, at most "
        f"{settings['requests_in_flight_cap']} requests in flight and {settings['requests_per_host_cap']} "
        f"per host (scout's caps); medians of {settings['repetitions']} runs per variant, each in a fresh "
        "process, order rotated between repetitions. scout runs cold (a fresh process: every posting "
        "sent in full) and warm (a process that polled the same boards just before, untimed, its "
        "HTTP connections closed since: unchanged postings sent as stored claims).",
        f"- State: every board imported once first (untimed, without the per-source deadline: "
        f"{initial['wall_seconds']:.2f} s, {initial['requests']} requests, "
        f"{initial['connections']} connections opened, {initial['most_connections_open']} open at most), "
        f"checked complete: {initial['outcomes']['live_sources_incomplete']} live sources incomplete, "
        f"{initial['outcomes']['postings_waiting_for_a_detail']} postings waiting for a detail. The timed "
        "runs re-poll the boards, mostly unchanged: before each, 2% of the Workday and SmartRecruiters "
        "list entries of the boards it polls change, so their details are fetched again; after each, "
        "the same check.",
        f"- Baseline 1 polls {settings['sequential_subset_sources']} of {workload['sources']} sources (every "
        f"{settings['sequential_share']}th of each kind) and is scaled up by requests to all sources "
        "(marked *): sequential, its time is almost all request latency.",
        "",
    ]
    if not results["runs_as_expected"]:
        lines += ["**Some run did not poll every source as expected: see polling.json.**", ""]
    for scenario in results["scenarios"]:
        lines += _scenario(scenario)
    return "\n".join(lines)


def _scenario(scenario: dict[str, Any]) -> list[str]:
    latency_ms = scenario["latency_seconds"] * 1000
    variants = scenario["variants"]
    scout = variants["scout"]
    lines = [
        f"## {latency_ms:g} ms per answer",
        "",
        f"Floor: requests x latency / 20 connections = {scenario['floor_seconds']:.2f} s. The busiest host "
        f"({scenario['busiest_host']}) alone needs {scenario['busiest_host_floor_seconds']:.2f} s at 6 "
        "requests in flight.",
        "",
        "| scout target | measured | result |",
        "| --- | --- | --- |",
    ]
    for target in scenario["targets"].values():
        lines.append(
            f"| {target['target']} | {target['measured']} | {'PASS' if target['pass'] else 'FAIL'} |"
        )
    lines += [
        "",
        "| variant | wall s | x floor | requests (details) | TCP connections opened | most open at once | "
        "DB round trips / source | MB sent to the DB | CPU s: client / Postgres | machine busy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, variant in variants.items():
        mark = " *" if variant["scaled_to_all_sources"] else ""
        busy = variant["machine_cpu_busy_median"]
        lines.append(
            f"| {_TITLES[name]} | {variant['wall_seconds_all_sources']:.2f}{mark} | "
            f"{variant['ratio_to_floor']} | "
            f"{variant['requests_median']:g} ({variant['detail_requests_median']:g}) | "
            f"{variant['connections_all_sources']}{mark} | "
            f"{variant['most_connections_open']} | {variant['db_round_trips_per_source']:g} | "
            f"{variant['db_megabytes_sent_median']:g} | "
            f"{variant['client_cpu_seconds_median']} / {variant['postgres_cpu_seconds_median']} | "
            f"{'' if busy is None else f'{busy:.0%}'} |"
        )
    sequential = variants["client_per_request"]
    tail = ", ".join(
        f"{kind} {seconds:.2f}" for kind, seconds in scout["last_request_seconds_by_kind"].items()
    )
    lines += [
        "",
        f"scout is {scout['speedup_vs_client_per_request']}x as fast as baseline 1 and "
        f"{scout['speedup_vs_two_phase_gather']}x as fast as baseline 2. "
        f"Baseline 1 measured {sequential['wall_seconds_median']:.2f} s for "
        f"{sequential['requests_median']:g} requests ({sequential['sources_polled']} sources), "
        f"scaled x{sequential['scale_factor']}.",
        "",
        f"scout's last request to each host, seconds after its first request: {tail}.",
        "",
        "Every run's wall time (s): "
        + "; ".join(f"{name} {variant['wall_seconds_runs']}" for name, variant in variants.items())
        + ". Every run's requests: "
        + "; ".join(f"{name} {variant['requests_runs']}" for name, variant in variants.items())
        + ".",
        "",
    ]
    return lines


def _kinds(by_kind: dict[str, int]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in by_kind.items())
