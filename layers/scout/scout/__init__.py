"""scout: web audits and job-board polling on AWS Lambda."""

__version__ = "0.1.0"
