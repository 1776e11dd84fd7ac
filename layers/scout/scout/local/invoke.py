"""``scout invoke``: one function of template.yaml run in this process, like ``sam local invoke``
without Docker.

The process becomes the function's execution environment: its environment variables are
replaced by the function's (template, shell, env.json, dev defaults, the local endpoint), its
task root and layers go first on ``sys.path``, and the handler module is imported once, so
``--repeat`` shows warm invocations. Each return value is printed as one line of JSON; an
error prints Lambda's error object and makes the exit status 1.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scout import deps
from scout.auth import Strategy, mint, policies
from scout.deps import Dependencies
from scout.local.aws_endpoint import LocalAwsEndpoint, create_resources
from scout.local.database import provide_database
from scout.local.dev_settings import dev_defaults
from scout.local.environment import (
    DEFAULT_REGION,
    EnvironmentSources,
    function_environment,
    local_names,
    read_env_file,
)
from scout.local.lambda_runtime import Handler, InitError, LambdaContext, Outcome, call_handler, load_handler
from scout.local.template import FunctionSpec, load_template
from scout.settings import load_settings

EXIT_OK = 0
EXIT_FUNCTION_ERROR = 1


@dataclass
class InvokeOptions:
    template_path: Path
    function_id: str
    event: Any
    repeat: int = 1
    env_file: Path | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    auth: tuple[Strategy, str] | None = None  # mint a token for this strategy and subject
    database: bool = True
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def read_event(path: str) -> Any:
    """The event from a file, or from stdin for ``-``."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuntimeError(f"event file {path} does not exist") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"event file {path} is not JSON: {exc}") from None


def invoke_function(options: InvokeOptions, out: TextIO, err: TextIO) -> int:
    template = load_template(options.template_path)
    try:
        spec = template.function(options.function_id)
    except KeyError as exc:
        raise RuntimeError(exc.args[0]) from None
    env_file = read_env_file(options.env_file)
    root = template.root
    with ExitStack() as running:
        # The local stack never talks to a Supabase project unless the shell says so.
        local_stack: dict[str, str] = {"SCOUT_STORE": "postgres"}
        if options.database:
            database = provide_database(root, options.environ)
            running.callback(database.stop)
            if database.url:
                local_stack["DATABASE_URL"] = database.url
        endpoint_url = None
        if template.queues or template.buckets:
            endpoint = running.enter_context(LocalAwsEndpoint())
            endpoint_url = endpoint.url
        region = (
            options.environ.get("AWS_REGION") or options.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        )
        names = local_names(
            template,
            endpoint_url=endpoint_url,
            region=region,
            parameter_overrides=options.parameter_overrides,
        )
        if endpoint_url is not None:
            create_resources(template, names)
        sources = EnvironmentSources(names, options.environ, env_file, local_stack, dev_defaults(root))
        variables = function_environment(spec, sources).variables
        become_environment(spec, variables)
        # The function's dependencies, built from the environment it has now, as in a sandbox.
        with deps.using(Dependencies(load_settings)):
            return _run(spec, options, names.region, names.account_id, _results_only(out), err)


def become_environment(spec: FunctionSpec, variables: dict[str, str]) -> None:
    """This process takes the function's environment, as a fresh Lambda sandbox has it."""
    os.environ.clear()
    os.environ.update(variables)
    os.chdir(spec.code_dir)


def _results_only(out: TextIO) -> TextIO:
    """Keep ``out`` for return values and send everything else written to it to stderr.

    Like ``sam local invoke``: the function's logs (Powertools writes them to stdout) go to
    stderr, so stdout holds exactly one JSON value per invocation.
    """
    try:
        descriptor = out.fileno()
    except (AttributeError, OSError, ValueError):
        return out
    out.flush()
    results = os.fdopen(os.dup(descriptor), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), descriptor)
    return results


def _run(
    spec: FunctionSpec, options: InvokeOptions, region: str, account_id: str, out: TextIO, err: TextIO
) -> int:
    started = time.monotonic()
    try:
        handler = load_handler(spec.handler, [str(spec.code_dir), *(str(path) for path in spec.layer_dirs)])
    except InitError as exc:
        out.write(json.dumps(exc.error) + "\n")
        out.flush()
        err.write(f"{spec.logical_id}: init failed: {exc.error['errorType']}: {exc.error['errorMessage']}\n")
        return EXIT_FUNCTION_ERROR
    init_ms = (time.monotonic() - started) * 1000
    event = options.event
    if options.auth is not None:
        event = with_bearer_token(event, *options.auth)
    runtime = _RuntimeThread(handler)
    status = EXIT_OK
    for number in range(1, options.repeat + 1):
        request_id = str(uuid.uuid4())
        deadline_ms = int(time.time() * 1000) + spec.timeout_seconds * 1000
        context = LambdaContext(
            function_name=spec.logical_id,
            memory_mb=spec.memory_mb,
            request_id=request_id,
            deadline_ms=deadline_ms,
            region=region,
            account_id=account_id,
        )
        began = time.monotonic()
        outcome = runtime.call(event, context, spec.timeout_seconds)
        took_ms = (time.monotonic() - began) * 1000
        start_kind = f"cold start, init {init_ms:.0f} ms" if number == 1 else "warm, module already imported"
        verdict = "ok" if outcome.error is None else f"{outcome.error['errorType']}"
        err.write(
            f"{spec.logical_id}: invocation {number}/{options.repeat} ({start_kind}) "
            f"{took_ms:.0f} ms, {verdict}, request id {request_id}\n"
        )
        if outcome.error is not None:
            out.write(json.dumps(outcome.error) + "\n")
            status = EXIT_FUNCTION_ERROR
            if outcome.error["errorType"] == "Sandbox.Timedout":
                out.flush()
                err.flush()
                # The handler thread cannot be stopped; Lambda would discard the sandbox too.
                os._exit(EXIT_FUNCTION_ERROR)
        else:
            out.write(f"{outcome.payload_json}\n")
        out.flush()
    return status


class _RuntimeThread:
    """The one thread that runs the handler, as in a Lambda runtime; callers wait with a timeout."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._requests: queue.Queue[tuple[Any, LambdaContext]] = queue.Queue()
        self._results: queue.Queue[Outcome] = queue.Queue()
        threading.Thread(target=self._serve, name="lambda runtime", daemon=True).start()

    def _serve(self) -> None:
        while True:
            event, context = self._requests.get()
            self._results.put(call_handler(self._handler, event, context))

    def call(self, event: Any, context: LambdaContext, timeout_seconds: int) -> Outcome:
        self._requests.put((event, context))
        try:
            return self._results.get(timeout=timeout_seconds)
        except queue.Empty:
            message = f"{context.aws_request_id} Task timed out after {timeout_seconds:.2f} seconds"
            return Outcome(None, {"errorType": "Sandbox.Timedout", "errorMessage": message, "stackTrace": []})


def with_bearer_token(event: Any, strategy: Strategy, subject: str) -> Any:
    """The HTTP API event with a fresh token minted with the function's own secret."""
    if not isinstance(event, dict) or not isinstance(event.get("headers"), dict):
        raise RuntimeError("--auth needs an HTTP API event (one with headers)")
    token = mint(policies(deps.settings())[strategy], subject)
    headers = {name: value for name, value in event["headers"].items() if name.lower() != "authorization"}
    headers["authorization"] = f"Bearer {token}"
    return {**event, "headers": headers}
