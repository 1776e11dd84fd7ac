"""The ``scout`` command: one subcommand module per area, each registering its commands.

Every command prints its results on stdout and its logs on stderr, so ``scout scan URL
--json | jq`` reads results only.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
from collections.abc import Iterator, Sequence

# Each module defines ``register(subparsers)``; its commands set ``func(args) -> int``.
COMMAND_MODULES = ("scout.cli.local", "scout.cli.jobs", "scout.cli.audit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scout", description="scout: web audits and job-board polling")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a record is written (tests swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """Send scout's log records to stderr inside the block.

    Powertools' logger writes JSON lines to stdout, which is Lambda's log stream; in a
    terminal stdout is for results.
    """
    from scout.observability import logger

    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    previous = handler.setStream(_CurrentStderr())
    try:
        yield
    finally:
        if previous is not None:
            handler.setStream(previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with logs_to_stderr():
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:  # configuration problems: a sentence, not a traceback
        print(f"scout: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
