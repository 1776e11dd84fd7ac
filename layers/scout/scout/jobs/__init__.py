"""Job boards: ATS adapters, polling, sync into the store, and the jobs HTTP API."""
