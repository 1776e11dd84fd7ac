"""``scout dev``: the whole stack of template.yaml on one machine, started in an order that
fails early and stopped in the reverse order so nothing is left running.

Start: read and check the template, read env.json, bind the HTTP port (a port in use stops us
before anything else runs), Postgres, the local AWS endpoint with the template's queues and
buckets, one warm environment per triggered function, then queue consumers, schedules and
the HTTP gateway. Stop: the gateway stops accepting, schedules and consumers stop polling and
finish what they hold, environments finish their invocation and exit, then AWS and Postgres.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from scout.local.aws_endpoint import LocalAwsEndpoint, create_resources
from scout.local.database import LocalDatabase, provide_database
from scout.local.dev_settings import DEV_ALLOWED_HOSTS, dev_defaults, secrets_path
from scout.local.dev_signing_keys import (
    JWKS_PATH,
    current_signing_key,
    public_jwks,
    served_jwks_default,
    signing_keys_path,
)
from scout.local.environment import (
    DEFAULT_REGION,
    EnvironmentSources,
    LocalNames,
    ResolvedEnvironment,
    function_environment,
    local_names,
    parameter_values,
    read_env_file,
)
from scout.local.execution import FunctionPool, InitFailed, Invocation, RuntimeIdentity
from scout.local.http_gateway import HttpGateway
from scout.local.schedule import ScheduleRunner
from scout.local.sqs_consumer import SqsConsumer
from scout.local.template import Template, load_template

LOOPBACK = "127.0.0.1"


@dataclass
class DevOptions:
    template_path: Path
    port: int = 3000
    env_file: Path | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    fire_schedules: bool = False
    max_environments: int = 2
    database: bool = True
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


class ConsoleLog:
    """One line at a time from many threads."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class DevStack:
    def __init__(self, options: DevOptions, out: TextIO) -> None:
        self.options = options
        self.log = ConsoleLog(out)
        self.template: Template | None = None
        self.names: LocalNames | None = None
        self.gateway: HttpGateway | None = None
        self.database: LocalDatabase | None = None
        self.endpoint: LocalAwsEndpoint | None = None
        self.pools: dict[str, FunctionPool] = {}
        self.environments: dict[str, ResolvedEnvironment] = {}
        self.init_errors: dict[str, InitFailed] = {}
        self.consumers: list[SqsConsumer] = []
        self.schedules: list[ScheduleRunner] = []

    @property
    def root(self) -> Path:
        return self.options.template_path.resolve().parent

    def start(self) -> None:
        """Bring everything up, or raise with nothing left running."""
        options = self.options
        template = load_template(options.template_path)
        env_file = read_env_file(options.env_file)
        parameter_values(template, options.parameter_overrides)  # bad overrides stop us here, not later
        self.template = template
        root = self.root
        self.gateway = HttpGateway(
            LOOPBACK,
            options.port,
            template.routes,
            self._invoke,
            self.log,
            documents={JWKS_PATH: lambda: public_jwks(root)},
        )
        try:
            self._start_services(template, env_file)
        except BaseException:
            self.stop(drain_seconds=0)
            raise

    def _start_services(self, template: Template, env_file: dict[str, dict[str, str]]) -> None:
        options = self.options
        defaults = dev_defaults(self.root)
        current_signing_key(self.root)  # made once, so the JWKS is never empty
        assert self.gateway is not None
        defaults.update(served_jwks_default(self.gateway.url, options.environ, *env_file.values()))
        if options.database:
            self.database = provide_database(self.root, options.environ, log=self.log)
        else:
            self.database = LocalDatabase(None, "not started (--no-database)")
        if template.queues or template.buckets:
            self.endpoint = LocalAwsEndpoint()
            self.endpoint.start()
        region = (
            options.environ.get("AWS_REGION") or options.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        )
        names = local_names(
            template,
            endpoint_url=self.endpoint.url if self.endpoint else None,
            region=region,
            parameter_overrides=options.parameter_overrides,
        )
        self.names = names
        if self.endpoint is not None:
            create_resources(template, names)
        # The local stack never talks to a Supabase project unless the shell says so.
        local_stack = {"SCOUT_STORE": "postgres"}
        if self.database.url:
            local_stack["DATABASE_URL"] = self.database.url
        sources = EnvironmentSources(names, options.environ, env_file, local_stack, defaults)
        identity = RuntimeIdentity(names.region, names.account_id)
        for function_id in template.triggered_functions():
            spec = template.function(function_id)
            resolved = function_environment(spec, sources)
            self.environments[function_id] = resolved
            self.pools[function_id] = FunctionPool(
                spec,
                resolved.variables,
                identity,
                max_environments=options.max_environments,
                log_sink=self.log,
            )
        self._prewarm()
        for source in template.sqs_sources:
            if source.enabled and source.function_id in self.pools:
                pool = self.pools[source.function_id]
                consumer = SqsConsumer(source, template.queues[source.queue_id], names, pool.invoke, self.log)
                consumer.start()
                self.consumers.append(consumer)
        for schedule in template.schedules:
            if schedule.enabled and schedule.expression is not None and schedule.function_id in self.pools:
                runner = ScheduleRunner(schedule, names, self.pools[schedule.function_id].invoke, self.log)
                runner.start(fire_now=options.fire_schedules)
                self.schedules.append(runner)
        assert self.gateway is not None
        self.gateway.start()

    def _prewarm(self) -> None:
        if not self.pools:
            return
        with ThreadPoolExecutor(max_workers=min(4, len(self.pools))) as executor:
            results = dict(
                zip(self.pools, executor.map(lambda pool: pool.prewarm(), self.pools.values()), strict=True)
            )
        self.init_errors = {function_id: error for function_id, error in results.items() if error is not None}

    def _invoke(self, function_id: str, event: dict[str, Any]) -> Invocation:
        return self.pools[function_id].invoke(event)

    def drain_seconds(self) -> float:
        """Long enough for the slowest function to finish what it is doing."""
        return float(max((pool.spec.timeout_seconds for pool in self.pools.values()), default=3))

    def stop(self, drain_seconds: float | None = None) -> None:
        """Stop in reverse order; safe to call again (a second Ctrl-C stops without draining)."""
        drain = self.drain_seconds() if drain_seconds is None else drain_seconds
        pollers: list[ScheduleRunner | SqsConsumer] = [*self.schedules, *self.consumers]
        for poller in pollers:
            poller.request_stop()  # all at once, so their last polls overlap
        steps: list[Callable[[], None]] = []
        if self.gateway is not None:
            gateway = self.gateway
            steps.append(lambda: gateway.stop(drain))
        steps += [partial(runner.stop, drain) for runner in self.schedules]
        steps += [partial(consumer.stop, drain) for consumer in self.consumers]
        steps += [partial(pool.close, drain) for pool in self.pools.values()]
        if self.endpoint is not None:
            steps.append(self.endpoint.stop)
        if self.database is not None:
            steps.append(self.database.stop)
        self.gateway, self.schedules, self.consumers, self.pools = None, [], [], {}
        self.endpoint, self.database = None, None
        for step in steps:
            try:
                step()
            except Exception as exc:  # one stuck part must not keep the others running
                self.log(f"scout dev: while stopping: {exc}")

    # ---- banner ------------------------------------------------------------------------

    def banner(self) -> str:
        assert self.template is not None
        assert self.gateway is not None
        template, names = self.template, self.names
        url = f"http://localhost:{self.gateway.port}"
        lines = [f"scout dev: the stack of {template.path.name}, running locally", ""]
        lines.append(f"  API        {url}")
        width = max((len(route.path) for route in template.routes), default=0)
        for route in template.routes:
            lines.append(f"               {route.method:<7} {route.path:<{width}}  {route.function_id}")
        for consumer in self.consumers:
            queue, source = consumer.queue, consumer.source
            details = [f"batch {source.batch_size}"]
            if source.report_batch_item_failures:
                details.append("partial batch responses")
            kind = "FIFO queue" if queue.fifo else "queue"
            lines.append(
                f"  Consumer   {kind} {queue.logical_id} -> {source.function_id} ({', '.join(details)}); "
                f"visibility {queue.visibility_timeout} s"
            )
            if queue.redrive is not None:
                lines.append(
                    f"               dead letters to {queue.redrive.dead_letter_queue_id} "
                    f"after {queue.redrive.max_receive_count} receive(s)"
                )
        for runner in self.schedules:
            schedule = runner.schedule
            lines.append(
                f"  Schedule   {schedule.expression_text} -> {schedule.function_id} ({schedule.event_name})"
            )
        if names is not None and names.bucket_names:
            buckets = ", ".join(f"{bucket_id}={name}" for bucket_id, name in names.bucket_names.items())
            lines.append(f"  Buckets    {buckets}")
        if self.endpoint is not None:
            lines.append(f"  AWS        {self.endpoint.url} (moto; the functions' AWS_ENDPOINT_URL)")
        database = self.database.description if self.database is not None else "not started"
        lines.append(f"  Postgres   {database}")
        for function_id in self.pools:
            error = self.init_errors.get(function_id)
            state = "warm" if error is None else f"init failed: {error}"
            lines.append(f"  Function   {function_id}: {state}")
        unset = sorted({name for resolved in self.environments.values() for name in resolved.unset})
        if unset:
            lines.append(
                f"  Unset      {', '.join(unset)} (deploy-time values; set them in the shell or env.json)"
            )
        hosts = self.options.environ.get("ALLOWED_HOSTS") or f"{DEV_ALLOWED_HOSTS} (dev default)"
        kept = _relative(secrets_path(self.root), self.root)
        lines.append(f"  Settings   ALLOWED_HOSTS={hosts}; dev secrets in {kept}")
        signing = _relative(signing_keys_path(self.root), self.root)
        lines.append(f"  JWKS       {url}{JWKS_PATH} (user tokens: ES256, keys in {signing})")
        lines.append(
            "  Token      scout token --strategy admin --sub you@example.com   (also: user, service)"
        )
        lines.append("             scout token --strategy user --sub you [--alg HS256 | --rotate]")
        mint_command = "$(scout token --strategy admin --sub dev)"
        lines.append(f'             curl -H "Authorization: Bearer {mint_command}" {url}/...')
        lines += [f"  Warning    {warning}" for warning in template.warnings]
        lines += ["", "Ctrl-C stops everything."]
        return "\n".join(lines)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
