"""The scout command prints results on stdout and log records on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.functions import ROOT

# What a command does: log on the way, then print its result.
COMMAND = """
from scout.cli import logs_to_stderr
from scout.observability import logger
logs_to_stderr()
logger.info("working", extra={"step": 1})
print('{"result": 1}')
"""


def test_log_records_go_to_stderr_and_results_stay_alone_on_stdout() -> None:
    # Given a process that set up its streams the way `scout` does
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "scout"), "POWERTOOLS_LOG_LEVEL": "INFO"}
    # When it logs and then prints a result
    finished = subprocess.run(
        [sys.executable, "-c", COMMAND],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Then stdout is the result only, and the log record is a JSON line on stderr
    assert [json.loads(line) for line in finished.stdout.splitlines()] == [{"result": 1}]
    [record] = [json.loads(line) for line in finished.stderr.splitlines()]
    assert record["message"] == "working"
    assert record["step"] == 1
