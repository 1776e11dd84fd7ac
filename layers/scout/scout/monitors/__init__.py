"""Monitors: sites audited on a schedule, and the signed webhooks about their runs."""
