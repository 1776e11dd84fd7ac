"""``scout dev``, ``scout invoke`` and ``scout token``: the local stack's commands."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from scout.auth import Strategy

DEFAULT_PORT = 3000
MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dev = subparsers.add_parser("dev", help="run the stack of template.yaml locally (no Docker)")
    dev.add_argument("--port", type=_port, default=DEFAULT_PORT, help="HTTP API port on 127.0.0.1 (3000)")
    _template_arguments(dev)
    dev.add_argument("--fire-schedules", action="store_true", help="fire every schedule once at start")
    dev.add_argument(
        "--max-environments",
        type=_positive,
        default=2,
        metavar="N",
        help="warm environments per function under concurrent load (2)",
    )
    dev.set_defaults(func=run_dev)

    invoke = subparsers.add_parser("invoke", help="run one function in-process with an event")
    invoke.add_argument("function_id", metavar="FUNCTION_LOGICAL_ID")
    invoke.add_argument(
        "--event", "-e", required=True, metavar="FILE", help="event JSON file, or - for stdin"
    )
    invoke.add_argument(
        "--repeat", type=_positive, default=1, metavar="N", help="invoke N times, warm after the first"
    )
    invoke.add_argument(
        "--auth",
        type=_auth,
        metavar="STRATEGY[:SUB]",
        help="put a freshly minted bearer token (user, admin or service) in the HTTP event",
    )
    _template_arguments(invoke)
    invoke.set_defaults(func=run_invoke)

    token = subparsers.add_parser("token", help="mint a development token with the configured secret")
    token.add_argument("--strategy", required=True, choices=[strategy.value for strategy in Strategy])
    token.add_argument("--sub", required=True, help="the token's subject")
    token.add_argument("--ttl", type=_ttl, default=3600, metavar="S", help="lifetime in seconds (3600)")
    token.add_argument(
        "--alg",
        choices=["ES256", "HS256"],
        default=None,
        help="user tokens: ES256 with the development signing key (default), or HS256 with the "
        "legacy SUPABASE_JWT_SECRET; admin and service tokens are always HS256",
    )
    token.add_argument(
        "--rotate",
        action="store_true",
        help="user tokens: make a new current signing key (the earlier ones keep verifying) and sign with it",
    )
    token.set_defaults(func=run_token)


def _template_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--template", "-t", type=Path, default=None, help="the SAM template (./template.yaml)"
    )
    parser.add_argument(
        "--env-vars",
        "-n",
        type=Path,
        default=None,
        metavar="FILE",
        help="env.json as for sam local (./env.json)",
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="template parameter values",
    )
    parser.add_argument("--no-database", action="store_true", help="start no Postgres")


def _resolve_paths(args: argparse.Namespace) -> tuple[Path, Path | None]:
    from scout.local.dev_settings import find_project_root

    template = args.template or find_project_root(Path.cwd()) / "template.yaml"
    env_file = args.env_vars
    if env_file is None:
        default = template.resolve().parent / "env.json"
        env_file = default if default.exists() else None
    elif not env_file.exists():
        raise RuntimeError(f"env file {env_file} does not exist")
    return template, env_file


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise RuntimeError(f"parameter override {pair!r} is not KEY=VALUE")
        overrides[name] = value
    return overrides


def run_dev(args: argparse.Namespace) -> int:
    from scout.local.dev_stack import DevOptions, DevStack
    from scout.local.environment import LocalConfigError
    from scout.local.http_gateway import PortInUse
    from scout.local.template import TemplateError

    template, env_file = _resolve_paths(args)
    options = DevOptions(
        template_path=template,
        port=args.port,
        env_file=env_file,
        parameter_overrides=_overrides(args.parameter_overrides),
        fire_schedules=args.fire_schedules,
        max_environments=args.max_environments,
        database=not args.no_database,
    )
    # The banner is the command's result (stdout); requests and function logs are logs (stderr).
    stack = DevStack(options, sys.stderr)
    # Installed explicitly: a shell that starts us in the background ignores SIGINT for us,
    # and `kill -INT` or Ctrl-C must still stop the stack cleanly.
    previous = {number: signal.signal(number, _interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            stack.start()
        except (TemplateError, LocalConfigError, PortInUse) as exc:
            print(f"scout dev: {exc}", file=sys.stderr)
            return 2
        print(stack.banner(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        print(
            f"scout dev: stopping (draining up to {stack.drain_seconds():.0f} s; Ctrl-C again to stop now)",
            flush=True,
        )
        try:
            stack.stop()
        except KeyboardInterrupt:
            stack.stop(drain_seconds=0)
        print("scout dev: stopped", flush=True)
        return 0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_invoke(args: argparse.Namespace) -> int:
    from scout.local.environment import LocalConfigError
    from scout.local.invoke import InvokeOptions, invoke_function, read_event
    from scout.local.template import TemplateError

    template, env_file = _resolve_paths(args)
    options = InvokeOptions(
        template_path=template,
        function_id=args.function_id,
        event=read_event(args.event),
        repeat=args.repeat,
        env_file=env_file,
        parameter_overrides=_overrides(args.parameter_overrides),
        auth=args.auth,
        database=not args.no_database,
    )
    try:
        return invoke_function(options, sys.stdout, sys.stderr)
    except (TemplateError, LocalConfigError) as exc:
        print(f"scout invoke: {exc}", file=sys.stderr)
        return 2


def run_token(args: argparse.Namespace) -> int:
    from scout.auth import mint, policies
    from scout.local.dev_settings import find_project_root, secrets_path, token_settings

    root = find_project_root(Path.cwd())
    strategy = Strategy(args.strategy)
    asymmetric = strategy is Strategy.USER and args.alg != "HS256"
    if not asymmetric and (args.rotate or args.alg == "ES256"):
        print("scout token: --rotate and --alg ES256 are for user tokens signed with ES256", file=sys.stderr)
        return 2
    policy = policies(token_settings(root))[strategy]
    if asymmetric:
        from scout.local.dev_signing_keys import current_signing_key, rotate_signing_key

        key = rotate_signing_key(root) if args.rotate else current_signing_key(root)
        print(mint(policy, args.sub, ttl_seconds=args.ttl, signing_key=key))
        return 0
    if policy.secret is None:
        variable = {
            Strategy.USER: "SUPABASE_JWT_SECRET",
            Strategy.ADMIN: "ADMIN_SESSION_SECRET",
            Strategy.SERVICE: "SERVICE_TOKEN_SECRET",
        }[strategy]
        print(
            f"scout token: {variable} is not set and {secrets_path(root)} has no development secret; "
            "set it, or run `scout dev` once to generate one",
            file=sys.stderr,
        )
        return 2
    print(mint(policy, args.sub, ttl_seconds=args.ttl))
    return 0


def _port(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is 1-65535")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _ttl(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_TOKEN_TTL_SECONDS:
        raise argparse.ArgumentTypeError(f"a ttl is 1-{MAX_TOKEN_TTL_SECONDS} seconds")
    return value


def _auth(text: str) -> tuple[Strategy, str]:
    name, _, subject = text.partition(":")
    try:
        strategy = Strategy(name)
    except ValueError:
        raise argparse.ArgumentTypeError("STRATEGY is user, admin or service") from None
    return strategy, subject or f"dev-{strategy.value}"
