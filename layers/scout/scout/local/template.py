"""template.yaml read into what the local stack runs: functions, routes, queue consumers,
schedules, queues and buckets, with every problem found before anything starts.

The template stays the single source of truth: nothing here knows scout's function names.
Values that CloudFormation computes (``!Ref``, ``!GetAtt``, ``!Sub`` in environment variables)
are kept raw here and resolved against the local resources by :mod:`scout.local.environment`.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scout.local.cfn_yaml import cfn_scalar, getatt_target, is_intrinsic, load_cfn_yaml, ref_target
from scout.schedule_expressions import (
    ScheduleExpression,
    ScheduleExpressionError,
    UnsupportedScheduleExpression,
    parse_schedule_expression,
)

FUNCTION = "AWS::Serverless::Function"
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
HTTP_API = "AWS::Serverless::HttpApi"
QUEUE = "AWS::SQS::Queue"
BUCKETS = ("AWS::S3::Bucket",)
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
DEFAULT_ROUTE = "$default"
# The CloudFormation defaults for properties the local stack honours.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_VISIBILITY_TIMEOUT = 30
DEFAULT_SQS_BATCH_SIZE = 10
MAX_FIFO_BATCH_SIZE = 10
TASK_ROOT_DESTINATIONS = ("${LAMBDA_TASK_ROOT}", "$LAMBDA_TASK_ROOT", "/var/task", "/opt/python")


class TemplateError(Exception):
    """Every problem of a template, each naming the resource it is about."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{path.name}: {len(problems)} problem(s) stop the local stack:\n{listing}")


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str | None
    allowed_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str  # "module.attribute", dotted or slashed module path, like Lambda's
    code_dir: Path
    package_type: str  # "Zip" or "Image"
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, Any]  # Globals merged with the function; values still unresolved
    layer_dirs: tuple[Path, ...]  # what Lambda would put on sys.path before the code's imports

    @property
    def function_dir(self) -> str:
        """The folder name of the code (``functions/jobs_api`` -> ``jobs_api``); names events."""
        return self.code_dir.name

    @property
    def module_name(self) -> str:
        return self.handler.rsplit(".", 1)[0].replace("/", ".")

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # "/sources/{source_id}", "/files/{proxy+}" or "$default"
    function_id: str
    event_name: str

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSource:
    function_id: str
    event_name: str
    queue_id: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class Schedule:
    function_id: str
    event_name: str
    expression: ScheduleExpression | None  # None: valid for AWS, not runnable here (see warnings)
    expression_text: str
    event_input: Any  # the template's Input (parsed JSON), or None for the default event
    enabled: bool
    scheduler: bool  # ScheduleV2 (EventBridge Scheduler) rather than an EventBridge rule

    @property
    def name(self) -> str:
        return f"{self.function_id}{self.event_name}"


@dataclass(frozen=True)
class Redrive:
    dead_letter_queue_id: str
    max_receive_count: int


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    queue_name: Any  # raw QueueName (may be an intrinsic) or None
    fifo: bool
    content_based_deduplication: bool
    visibility_timeout: int
    delay_seconds: int | None
    message_retention_seconds: int | None
    receive_wait_seconds: int | None
    redrive: Redrive | None


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    bucket_name: Any  # raw BucketName or None


@dataclass(frozen=True)
class Template:
    path: Path
    parameters: dict[str, Parameter]
    functions: dict[str, FunctionSpec]
    routes: tuple[Route, ...]
    sqs_sources: tuple[SqsSource, ...]
    schedules: tuple[Schedule, ...]
    queues: dict[str, QueueSpec]
    buckets: dict[str, BucketSpec]
    resource_types: dict[str, str]
    warnings: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        return self.path.parent

    def function(self, logical_id: str) -> FunctionSpec:
        try:
            return self.functions[logical_id]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise KeyError(
                f"{self.path.name} declares no function {logical_id!r} (functions: {known})"
            ) from None

    def function_for_dir(self, function_dir: str) -> FunctionSpec | None:
        for spec in self.functions.values():
            if spec.function_dir == function_dir:
                return spec
        return None

    def function_for_event(self, event_file: Path) -> FunctionSpec | None:
        """The function a sample event is for, by the ``events/<function_dir>_<what>.json`` name.

        The longest function folder the file name starts with wins (``poll_worker_batch`` is for
        ``poll_worker``, even next to a ``poll`` folder).
        """
        stem = event_file.stem
        candidates = [spec for spec in self.functions.values() if stem.startswith(f"{spec.function_dir}_")]
        return max(candidates, key=lambda spec: len(spec.function_dir), default=None)

    def triggered_functions(self) -> list[str]:
        """Functions that something in the stack invokes (a route, a queue or a schedule)."""
        ids = [route.function_id for route in self.routes]
        ids += [source.function_id for source in self.sqs_sources if source.enabled]
        ids += [schedule.function_id for schedule in self.schedules if schedule.enabled]
        return list(dict.fromkeys(ids))


def load_template(path: Path) -> Template:
    """Read and check ``path``; raise :class:`TemplateError` listing every problem."""
    path = _absolute(path)
    try:
        document = load_cfn_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(path, [f"{path} does not exist"]) from None
    except yaml.YAMLError as exc:
        raise TemplateError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(path, ["the template has no Resources section"])
    reader = _TemplateReader(path, document)
    template = reader.read()
    if reader.problems:
        raise TemplateError(path, reader.problems)
    return template


@dataclass
class _TemplateReader:
    path: Path
    document: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    resource_types: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.document["Resources"]
        return resources

    def problem(self, resource: str, message: str) -> None:
        self.problems.append(f"{resource}: {message}")

    def read(self) -> Template:
        resource_types: dict[str, str] = {}
        for logical_id, resource in self.resources.items():
            if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
                self.problem(logical_id, "a resource needs a Type")
                continue
            resource_types[logical_id] = resource["Type"]
        self.resource_types = resource_types
        parameters = self.parameters = self._parameters()
        queues = {
            logical_id: queue
            for logical_id, kind in resource_types.items()
            if kind == QUEUE and (queue := self._queue(logical_id)) is not None
        }
        self._check_redrive(queues)
        buckets = {
            logical_id: BucketSpec(logical_id, self._properties(logical_id).get("BucketName"))
            for logical_id, kind in resource_types.items()
            if kind in BUCKETS
        }
        functions: dict[str, FunctionSpec] = {}
        routes: list[Route] = []
        sqs_sources: list[SqsSource] = []
        schedules: list[Schedule] = []
        for logical_id, kind in resource_types.items():
            if kind != FUNCTION:
                continue
            spec = self._function(logical_id)
            if spec is not None:
                functions[logical_id] = spec
            self._events(logical_id, queues, routes, sqs_sources, schedules)
        for api_id, kind in resource_types.items():
            if kind == HTTP_API:
                routes.extend(self._definition_body_routes(api_id))
        self._check_routes(routes)
        return Template(
            path=self.path,
            parameters=parameters,
            functions=functions,
            routes=tuple(routes),
            sqs_sources=tuple(sqs_sources),
            schedules=tuple(schedules),
            queues=queues,
            buckets=buckets,
            resource_types=resource_types,
            warnings=tuple(self.warnings),
        )

    # ---- sections ----------------------------------------------------------------------

    def _properties(self, logical_id: str) -> dict[str, Any]:
        properties = self.resources[logical_id].get("Properties") or {}
        return properties if isinstance(properties, dict) else {}

    def _parameters(self) -> dict[str, Parameter]:
        parameters: dict[str, Parameter] = {}
        for name, declaration in (self.document.get("Parameters") or {}).items():
            declaration = declaration or {}
            default = declaration.get("Default")
            allowed = tuple(str(value) for value in declaration.get("AllowedValues") or ())
            parameters[name] = Parameter(name, None if default is None else cfn_scalar(default), allowed)
        return parameters

    def _function_globals(self) -> dict[str, Any]:
        globals_section = self.document.get("Globals") or {}
        function_globals = globals_section.get("Function") or {}
        return function_globals if isinstance(function_globals, dict) else {}

    # ---- functions ---------------------------------------------------------------------

    def _function(self, logical_id: str) -> FunctionSpec | None:
        properties = merge_globals(self._function_globals(), self._properties(logical_id))
        package_type = properties.get("PackageType", "Zip")
        if package_type == "Image":
            located = self._image_code(logical_id, properties)
        else:
            located = self._zip_code(logical_id, properties)
        if located is None:
            return None
        handler, code_dir, layer_dirs = located
        if not self._handler_exists(logical_id, handler, code_dir):
            return None
        variables = (properties.get("Environment") or {}).get("Variables") or {}
        if not isinstance(variables, dict):
            self.problem(logical_id, "Environment.Variables must be a map of names to values")
            variables = {}
        return FunctionSpec(
            logical_id=logical_id,
            handler=handler,
            code_dir=code_dir,
            package_type=package_type,
            timeout_seconds=_int(properties.get("Timeout"), DEFAULT_TIMEOUT_SECONDS),
            memory_mb=_int(properties.get("MemorySize"), DEFAULT_MEMORY_MB),
            environment=dict(variables),
            layer_dirs=layer_dirs,
        )

    def _zip_code(
        self, logical_id: str, properties: dict[str, Any]
    ) -> tuple[str, Path, tuple[Path, ...]] | None:
        runtime = properties.get("Runtime")
        if isinstance(runtime, str) and not runtime.startswith("python"):
            self.problem(logical_id, f"Runtime {runtime} cannot run locally: the local stack runs Python")
            return None
        if "InlineCode" in properties:
            self.problem(logical_id, "InlineCode is not supported locally: put the code in a CodeUri folder")
            return None
        code_uri = properties.get("CodeUri")
        handler = properties.get("Handler")
        if not isinstance(code_uri, str):
            self.problem(logical_id, "CodeUri must be a local folder (an S3 location cannot run locally)")
            return None
        code_dir = _absolute(self.root / code_uri)
        if not code_dir.is_dir():
            self.problem(logical_id, f"code folder {code_uri} (CodeUri) does not exist")
            return None
        if not isinstance(handler, str) or not _HANDLER.match(handler):
            self.problem(logical_id, f"Handler {handler!r} is not MODULE.FUNCTION (e.g. app.handler)")
            return None
        return handler, code_dir, self._layer_dirs(logical_id, properties.get("Layers") or [])

    def _layer_dirs(self, logical_id: str, layers: list[Any]) -> tuple[Path, ...]:
        dirs: list[Path] = []
        for layer in layers:
            layer_id = ref_target(layer)
            if layer_id is None:
                self.warnings.append(
                    f"{logical_id}: layer {layer!r} is not in this template; not loaded locally"
                )
                continue
            if self.resource_types.get(layer_id) not in LAYER_TYPES:
                self.problem(
                    logical_id, f"Layers refers to {layer_id}, which is not a layer in this template"
                )
                continue
            layer_properties = self._properties(layer_id)
            content = layer_properties.get("ContentUri", layer_properties.get("Content"))
            if not isinstance(content, str) or not (self.root / content).is_dir():
                self.problem(layer_id, f"layer content {content!r} (ContentUri) is not a local folder")
                continue
            dirs.append(_absolute(self.root / content))
        return tuple(dirs)

    def _image_code(
        self, logical_id: str, properties: dict[str, Any]
    ) -> tuple[str, Path, tuple[Path, ...]] | None:
        metadata = self.resources[logical_id].get("Metadata") or {}
        context_uri = metadata.get("DockerContext")
        dockerfile_name = metadata.get("Dockerfile", "Dockerfile")
        if not isinstance(context_uri, str):
            self.problem(logical_id, "an Image function needs Metadata.DockerContext to run locally")
            return None
        context = _absolute(self.root / context_uri)
        dockerfile = context / str(dockerfile_name)
        if not context.is_dir():
            self.problem(logical_id, f"code folder {context_uri} (Metadata.DockerContext) does not exist")
            return None
        if not dockerfile.is_file():
            self.problem(logical_id, f"Dockerfile {dockerfile_name} is not in {context_uri}")
            return None
        image = read_dockerfile(dockerfile.read_text(encoding="utf-8"))
        command = (properties.get("ImageConfig") or {}).get("Command") or image.command
        if not command or not isinstance(command[0], str) or not _HANDLER.match(command[0]):
            self.problem(
                logical_id, f"the image's CMD {command!r} does not name a Python handler such as app.handler"
            )
            return None
        handler = command[0]
        module_file = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
        copied = [_absolute(context / source) for source in image.task_root_sources]
        candidates = [path.parent for path in copied if path.name == module_file]
        candidates += [path for path in copied if path.is_dir()] + [context, dockerfile.parent]
        code_dir = next((path for path in candidates if (path / module_file).is_file()), context)
        layer_dirs = tuple(path for path in copied if path.is_dir() and path != code_dir)
        return handler, code_dir, layer_dirs

    def _handler_exists(self, logical_id: str, handler: str, code_dir: Path) -> bool:
        module, attribute = handler.rsplit(".", 1)
        relative = Path(*module.replace("/", ".").split("."))
        module_path = code_dir / relative.with_suffix(".py")
        if not module_path.is_file():
            module_path = code_dir / relative / "__init__.py"
        shown = _relative(code_dir, self.root)
        if not module_path.is_file():
            self.problem(logical_id, f"handler {handler}: no module {relative}.py in {shown}")
            return False
        try:
            names = _top_level_names(module_path.read_text(encoding="utf-8"))
        except SyntaxError as exc:
            self.problem(
                logical_id, f"handler {handler}: {shown}/{module_path.name} line {exc.lineno}: {exc.msg}"
            )
            return False
        if names is not None and attribute not in names:
            self.problem(
                logical_id, f"handler {handler}: {module_path.name} in {shown} defines no {attribute!r}"
            )
            return False
        return True

    # ---- events ------------------------------------------------------------------------

    def _events(
        self,
        logical_id: str,
        queues: dict[str, QueueSpec],
        routes: list[Route],
        sqs_sources: list[SqsSource],
        schedules: list[Schedule],
    ) -> None:
        events = self._properties(logical_id).get("Events") or {}
        for event_name, event in events.items():
            kind = (event or {}).get("Type")
            properties = (event or {}).get("Properties") or {}
            where = f"{logical_id} event {event_name}"
            if kind == "HttpApi":
                route = self._http_route(where, logical_id, event_name, properties)
                if route is not None:
                    routes.append(route)
            elif kind == "SQS":
                source = self._sqs_source(where, logical_id, event_name, properties, queues)
                if source is not None:
                    sqs_sources.append(source)
            elif kind in ("Schedule", "ScheduleV2"):
                schedule = self._schedule(where, logical_id, event_name, properties, kind == "ScheduleV2")
                if schedule is not None:
                    schedules.append(schedule)
            else:
                self.warnings.append(f"{where}: events of type {kind} are not run by the local stack")

    def _http_route(
        self, where: str, function_id: str, event_name: str, properties: dict[str, Any]
    ) -> Route | None:
        api = properties.get("ApiId")
        if api is not None:
            api_id = ref_target(api)
            if api_id is None or self.resource_types.get(api_id) != HTTP_API:
                self.problem(where, f"ApiId {api!r} is not an {HTTP_API} in this template")
                return None
        payload_version = str(properties.get("PayloadFormatVersion", "2.0"))
        if payload_version != "2.0":
            self.problem(where, f"PayloadFormatVersion {payload_version} is not served locally (only 2.0)")
            return None
        path, method = properties.get("Path"), properties.get("Method")
        if path is None and method is None:
            return Route("ANY", DEFAULT_ROUTE, function_id, event_name)
        method = str(method or "ANY").upper()
        if method not in HTTP_METHODS:
            self.problem(where, f"Method {method} is not an HTTP method API Gateway routes")
            return None
        if not isinstance(path, str) or not path.startswith("/"):
            self.problem(where, f"Path {path!r} must start with /")
            return None
        return Route(method, path, function_id, event_name)

    def _definition_body_routes(self, api_id: str) -> list[Route]:
        body = self._properties(api_id).get("DefinitionBody")
        if not isinstance(body, dict):
            return []
        routes = []
        for path, operations in (body.get("paths") or {}).items():
            for method, operation in (operations or {}).items():
                method_name = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                if method_name not in HTTP_METHODS:
                    continue
                integration = (operation or {}).get("x-amazon-apigateway-integration") or {}
                target = _function_in_uri(integration.get("uri"))
                where = f"{api_id} route {method_name} {path}"
                if target is None or self.resource_types.get(target) != FUNCTION:
                    self.problem(
                        where, f"points at no function in this template (uri {integration.get('uri')!r})"
                    )
                    continue
                routes.append(Route(method_name, path, target, f"{api_id}{method_name}{path}"))
        return routes

    def _check_routes(self, routes: list[Route]) -> None:
        seen: dict[tuple[str, str], str] = {}
        for route in routes:
            key = (route.method, route.path)
            if key in seen:
                self.problem(route.function_id, f"route {route.route_key} is also declared by {seen[key]}")
            seen.setdefault(key, route.function_id)

    def _sqs_source(
        self,
        where: str,
        function_id: str,
        event_name: str,
        properties: dict[str, Any],
        queues: dict[str, QueueSpec],
    ) -> SqsSource | None:
        target = getatt_target(properties.get("Queue"))
        if target is None or target[1] != "Arn" or self.resource_types.get(target[0]) != QUEUE:
            self.problem(
                where, f"Queue {properties.get('Queue')!r} must be !GetAtt QUEUE.Arn of a queue here"
            )
            return None
        queue_id = target[0]
        if queue_id not in queues:
            return None  # the queue's own problem is already reported
        queue = queues[queue_id]
        batch_size = _int(properties.get("BatchSize"), DEFAULT_SQS_BATCH_SIZE)
        limit = MAX_FIFO_BATCH_SIZE if queue.fifo else 10000
        if not 1 <= batch_size <= limit:
            self.problem(where, f"BatchSize {batch_size} must be 1-{limit} for {queue_id}")
            return None
        window = _int(properties.get("MaximumBatchingWindowInSeconds"), 0)
        if batch_size > 10 and window < 1:
            self.problem(where, "a BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1")
            return None
        response_types = properties.get("FunctionResponseTypes") or []
        return SqsSource(
            function_id=function_id,
            event_name=event_name,
            queue_id=queue_id,
            batch_size=batch_size,
            batching_window_seconds=window,
            report_batch_item_failures="ReportBatchItemFailures" in response_types,
            enabled=bool(properties.get("Enabled", True)),
        )

    def _schedule(
        self, where: str, function_id: str, event_name: str, properties: dict[str, Any], scheduler: bool
    ) -> Schedule | None:
        text = properties.get("ScheduleExpression" if scheduler else "Schedule")
        if isinstance(text, dict) and set(text) == {"Ref"} and text["Ref"] in self.parameters:
            # A rate kept as a template parameter (PollRate): its default runs locally.
            text = self.parameters[text["Ref"]].default
        if not isinstance(text, str):
            self.problem(where, "needs a schedule expression (rate(...) or cron(...))")
            return None
        expression: ScheduleExpression | None
        try:
            expression = parse_schedule_expression(
                text, timezone=properties.get("ScheduleExpressionTimezone"), allow_at=scheduler
            )
        except UnsupportedScheduleExpression as exc:
            self.warnings.append(f"{where}: {exc}")
            expression = None
        except ScheduleExpressionError as exc:
            self.problem(where, str(exc))
            return None
        raw_input = properties.get("Input")
        try:
            event_input = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
        except json.JSONDecodeError:
            self.problem(where, "Input must be a JSON document")
            return None
        enabled = properties.get("Enabled", True) is not False and properties.get("State") != "DISABLED"
        return Schedule(function_id, event_name, expression, text, event_input, enabled, scheduler)

    # ---- queues ------------------------------------------------------------------------

    def _queue(self, logical_id: str) -> QueueSpec | None:
        properties = self._properties(logical_id)
        fifo = _bool(properties.get("FifoQueue"))
        name = properties.get("QueueName")
        if isinstance(name, str) and fifo != name.endswith(".fifo"):
            self.problem(logical_id, f"QueueName {name} must end in .fifo exactly when FifoQueue is true")
            return None
        visibility = _int(properties.get("VisibilityTimeout"), DEFAULT_VISIBILITY_TIMEOUT)
        if not 0 <= visibility <= 43200:
            self.problem(logical_id, "VisibilityTimeout must be 0-43200 seconds")
            return None
        redrive = None
        policy = properties.get("RedrivePolicy")
        if policy is not None:
            if isinstance(policy, str):
                policy = json.loads(policy)
            target = getatt_target(policy.get("deadLetterTargetArn"))
            count = _int(policy.get("maxReceiveCount"), 0)
            if target is None or target[1] != "Arn" or self.resource_types.get(target[0]) != QUEUE:
                self.problem(
                    logical_id, "RedrivePolicy.deadLetterTargetArn must be !GetAtt DLQ.Arn of a queue here"
                )
                return None
            if not 1 <= count <= 1000:
                self.problem(logical_id, "RedrivePolicy.maxReceiveCount must be 1-1000")
                return None
            redrive = Redrive(target[0], count)
        return QueueSpec(
            logical_id=logical_id,
            queue_name=name,
            fifo=fifo,
            content_based_deduplication=_bool(properties.get("ContentBasedDeduplication")),
            visibility_timeout=visibility,
            delay_seconds=_optional_int(properties.get("DelaySeconds")),
            message_retention_seconds=_optional_int(properties.get("MessageRetentionPeriod")),
            receive_wait_seconds=_optional_int(properties.get("ReceiveMessageWaitTimeSeconds")),
            redrive=redrive,
        )

    def _check_redrive(self, queues: dict[str, QueueSpec]) -> None:
        for queue in queues.values():
            if queue.redrive is None:
                continue
            dead_letter = queues.get(queue.redrive.dead_letter_queue_id)
            if dead_letter is not None and dead_letter.fifo != queue.fifo:
                kind = "a FIFO" if queue.fifo else "a standard"
                self.problem(
                    queue.logical_id, f"the dead-letter queue of {kind} queue must be {kind} queue too"
                )


# ---- helpers -------------------------------------------------------------------------------

_HANDLER = re.compile(r"^[A-Za-z_][\w./]*\.[A-Za-z_]\w*$")


def merge_globals(global_properties: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (the function wins), lists append, scalars are replaced."""
    merged = dict(global_properties)
    for key, value in properties.items():
        base = merged.get(key)
        if (
            isinstance(base, dict)
            and isinstance(value, dict)
            and not is_intrinsic(base)
            and not is_intrinsic(value)
        ):
            merged[key] = merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class DockerfileFacts:
    command: list[str]
    task_root_sources: tuple[str, ...]  # COPY/ADD sources landing in the Lambda task root


def read_dockerfile(text: str) -> DockerfileFacts:
    """The last CMD (the Lambda handler) and what is copied into the task root."""
    logical_lines = re.sub(r"\\\r?\n", " ", text).splitlines()
    command: list[str] = []
    sources: list[str] = []
    for line in logical_lines:
        instruction, _, rest = line.strip().partition(" ")
        keyword, rest = instruction.upper(), rest.strip()
        if keyword == "CMD":
            command = _exec_or_shell_form(rest)
        elif keyword in ("COPY", "ADD"):
            parts = [part for part in _exec_or_shell_form(rest) if not part.startswith("--")]
            if len(parts) >= 2 and parts[-1].rstrip("/").startswith(TASK_ROOT_DESTINATIONS):
                sources.extend(parts[:-1])
    return DockerfileFacts(command, tuple(sources))


def _exec_or_shell_form(rest: str) -> list[str]:
    if rest.startswith("["):
        try:
            parsed = json.loads(rest)
        except json.JSONDecodeError:
            return []
        return [str(part) for part in parsed] if isinstance(parsed, list) else []
    return rest.split()


def _function_in_uri(uri: Any) -> str | None:
    target = getatt_target(uri)
    if target is not None:
        return target[0]
    if isinstance(uri, dict) and "Fn::Sub" in uri:
        text = uri["Fn::Sub"] if isinstance(uri["Fn::Sub"], str) else uri["Fn::Sub"][0]
        match = re.search(r"\$\{(\w+)\.Arn\}", str(text))
        return match.group(1) if match else None
    return None


def _top_level_names(source: str) -> set[str] | None:
    """Names a module defines at top level, or None when a star import makes that unknowable."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    return None
                names.add(alias.asname or alias.name.split(".")[0])
    return names


def _absolute(path: Path) -> Path:
    # Normalised but not resolved: a linked folder keeps the path the template gives it.
    return Path(os.path.normpath(path.absolute()))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _int(value: Any, default: int) -> int:
    parsed = _optional_int(value)
    return default if parsed is None else parsed


def _optional_int(value: Any) -> int | None:
    if value is None or is_intrinsic(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
