"""Benchmarks: `make bench` runs them all and records results under bench/results/."""
