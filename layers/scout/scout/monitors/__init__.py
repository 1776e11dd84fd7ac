"""Monitors: whole sites audited from their sitemaps, on a schedule (docs/monitors.md)."""
