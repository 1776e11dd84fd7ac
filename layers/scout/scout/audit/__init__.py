"""Web page audits: Lighthouse and axe-core in a warm, pooled Chromium.

The entry point is ``scout.audit.engine.ScanEngine``; the result shapes are in
``scout.audit.result``. This package init imports nothing heavy, so API functions can use
the result models without loading Playwright.

The scan service around the engine: ``scout.audit.api`` (routes), ``scout.audit.scans``
(create, read, list), ``scout.audit.scan_queue``, ``scout.audit.artifacts`` and
``scout.audit.scan_processing`` (docs/audit.md).
"""
