"""``scout fetch``, ``scout detect`` and ``scout poll``: the job-board commands.

``fetch`` and ``detect`` look at one board and store nothing; ``poll`` polls sources into
the store, as the poll worker does. Each command is added by its own ``_add_*`` function
from :func:`register`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO
from uuid import UUID

from pydantic import SecretStr, ValidationError

from scout import runtime
from scout.deps import Dependencies
from scout.errors import ScoutError
from scout.jobs.posting import ATS_KINDS, Posting
from scout.jobs.results import FetchResult
from scout.settings import Settings, load_settings


def register(subparsers: Any) -> None:
    for add in COMMANDS:
        add(subparsers)


def _add_fetch(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fetch", help="fetch one job board, normalise and print its postings (stores nothing)"
    )
    parser.add_argument("--ats", required=True, choices=ATS_KINDS, help="the board's ATS kind")
    parser.add_argument(
        "--board",
        required=True,
        help="board token / site / company id; the careers URL for workday and jsonld",
    )
    parser.add_argument("--json", action="store_true", help="one JSON posting per line")
    parser.set_defaults(func=run_fetch)


def _add_detect(subparsers: Any) -> None:
    parser = subparsers.add_parser("detect", help="recognise the ATS kind and board of a careers URL")
    parser.add_argument("url", help="a careers page, job page or board URL")
    parser.add_argument(
        "--no-fetch", action="store_true", help="decide from the URL alone, never fetch the page"
    )
    parser.set_defaults(func=run_detect)


def _add_poll(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "poll", help="poll sources into the store now (DATABASE_URL, else the embedded Postgres)"
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--source", metavar="ID", type=_source_id, help="poll this source (its id)")
    which.add_argument("--all", action="store_true", help="poll every enabled source, due or not")
    parser.add_argument(
        "--concurrency", type=_positive, default=40, metavar="N", help="sources polled at once (40)"
    )
    parser.set_defaults(func=run_poll)


COMMANDS: list[Callable[[Any], None]] = [_add_fetch, _add_detect, _add_poll]


def run_fetch(args: argparse.Namespace) -> int:
    from scout.jobs.boards import fetch_board  # the adapters load only for this command

    try:
        result = runtime.run(fetch_board(args.ats, args.board, settings=_settings()))
    except ScoutError as exc:
        return _fail("fetch", exc)
    if args.json:
        for posting in result.postings:
            sys.stdout.write(posting.model_dump_json() + "\n")
    else:
        _print_table(result.postings, sys.stdout)
    _print_summary(result, sys.stderr)
    return 0


def run_detect(args: argparse.Namespace) -> int:
    from scout.jobs.detect import detect_board

    try:
        detected = runtime.run(detect_board(args.url, settings=_settings(), fetch_page=not args.no_fetch))
    except ScoutError as exc:
        return _fail("detect", exc)
    print(json.dumps({"ats": detected.ats, "board": detected.board}))
    return 0


def run_poll(args: argparse.Namespace) -> int:
    from scout.cli.polling import poll_into_store

    try:
        parts = Dependencies(_store_settings(_settings()))
        return runtime.run(
            poll_into_store(
                parts.settings,
                store=parts.store(),
                source_id=args.source,
                concurrency=args.concurrency,
                out=sys.stdout,
                progress=sys.stderr,
            )
        )
    except ScoutError as exc:
        return _fail("poll", exc)


def _store_settings(settings: Settings) -> Settings:
    """``settings`` with a database: ``DATABASE_URL``, else the embedded Postgres (started)."""
    if settings.store != "postgres" or settings.database_url is not None:
        return settings
    from scout.store.embedded import local_database_url

    return settings.model_copy(update={"database_url": SecretStr(local_database_url(settings))})


def _source_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a source id (a UUID)") from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _settings() -> Settings:
    """The environment's settings; ``ALLOWED_HOSTS`` may be unset, as these commands serve nothing."""
    try:
        return load_settings()
    except RuntimeError as configuration_error:
        try:
            return Settings(ALLOWED_HOSTS="localhost")
        except ValidationError:
            raise configuration_error from None


def _fail(command: str, error: ScoutError) -> int:
    print(f"scout {command}: {error.code}: {error.message}", file=sys.stderr)
    return 1


def _print_table(postings: list[Posting], out: TextIO) -> None:
    columns = (("ID", 14), ("TITLE", 44), ("LOCATION", 28), ("WORKPLACE", 9), ("TYPE", 9), ("POSTED", 10))
    out.write("  ".join(name.ljust(width) for name, width in columns).rstrip() + "\n")
    for posting in postings:
        cells = (
            posting.external_id,
            posting.title,
            posting.location or "",
            posting.workplace_type or "",
            posting.employment_type or "",
            posting.posted_at.date().isoformat() if posting.posted_at else "",
        )
        out.write(
            "  ".join(_fit(cell, width) for cell, (_, width) in zip(cells, columns, strict=True)).rstrip()
        )
        out.write("\n")


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def _print_summary(result: FetchResult, out: TextIO) -> None:
    state = "complete" if result.complete else "INCOMPLETE"
    total = f", board reports {result.reported_total}" if result.reported_total is not None else ""
    out.write(f"{len(result.postings)} postings from {result.ats} {result.board} ({state}{total})\n")
    if result.details:
        states = list(result.details.values())
        out.write(f"details: {states.count('fetched')} fetched, {states.count('failed')} failed\n")
    for warning in result.warnings:
        out.write(f"warning: {warning}\n")
