"""The ``scout`` command: one subcommand module per area, each registering its commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# Each module defines ``register(subparsers)``; its commands set ``func(args) -> int``.
COMMAND_MODULES = ("scout.cli.local", "scout.cli.jobs", "scout.cli.audit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scout", description="scout: web audits and job-board polling")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time (a caller may have replaced it since)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from scout.observability import logger

    # Powertools logs to stdout, which is Lambda's log stream; a command's stdout carries only
    # its results (`--json` output is parsed by scripts), so its logs go to stderr.
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(_CurrentStderr())
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:  # configuration problems: a sentence, not a traceback
        print(f"scout: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
