"""Monitors: sites audited on a schedule, run by run, with signed webhooks (docs/monitors.md)."""
