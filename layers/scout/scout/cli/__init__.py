"""The ``scout`` command: one subcommand module per area, each registering its commands.

Every command prints its results on stdout and its logs on stderr, so ``scout scan URL
--json | jq`` reads results only.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# Each module defines ``register(subparsers)``; its commands set ``func(args) -> int``.
COMMAND_MODULES = ("scout.cli.local", "scout.cli.jobs", "scout.cli.audit", "scout.cli.monitors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scout", description="scout: web audits and job-board polling")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a record is written (in-process callers swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def logs_to_stderr() -> None:
    """Send scout's log records to stderr for the rest of the process.

    Powertools' logger writes JSON lines to stdout, which is Lambda's log stream; in a
    terminal stdout is for results. For the rest of the process, not only the command:
    the pooled browser and Lighthouse worker log their shutdown at exit.
    """
    from scout.observability import logger

    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(_CurrentStderr())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs_to_stderr()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:  # configuration problems: a sentence, not a traceback
        print(f"scout: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
