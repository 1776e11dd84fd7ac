"""Monitors: whole sites audited from their pages or sitemaps, on a schedule, with signed webhooks
(docs/monitors.md)."""
