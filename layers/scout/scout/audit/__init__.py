"""Web page audits: the scan service (API, queue, worker) and the scan engine it runs."""
