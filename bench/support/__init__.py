"""Parts the benchmark suites share: workloads, fake servers run in the background, variants."""
