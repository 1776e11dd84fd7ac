"""A function's environment variables as the local stack gives them, in SAM's order and more.

From lowest to highest precedence:

1. the template: Globals, then the function; ``!Ref``/``!GetAtt``/``!Sub`` resolved against
   the local resources (queue URLs and ARNs of the local endpoint, bucket names, parameters).
   A value CloudFormation alone can compute (a ``{{resolve:secretsmanager:...}}`` reference, a
   parameter with no default) stays unset, so the later layers can fill it;
2. the local stack's own wiring (``SCOUT_STORE=postgres`` and ``DATABASE_URL`` when it runs a
   database);
3. the shell, for names the template declares and for scout's settings (``sam local`` takes
   the shell for declared names only; scout's settings come "from the environment first");
4. ``env.json``: its ``Parameters`` entry for every function, then the function's logical id
   (the file ``sam local invoke --env-vars`` takes);
5. development defaults, only for what is still unset (``ALLOWED_HOSTS``, generated secrets);
6. what Lambda itself sets (function name, region, task root) and the local AWS endpoint with
   placeholder credentials, always: a local function never sees real AWS credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scout.local.cfn_yaml import cfn_scalar
from scout.local.template import FunctionSpec, Template
from scout.settings import Settings

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
STACK_NAME = "scout-local"
LOCAL_API_ID = "local"
# Placeholder credentials for the local endpoint; moto accepts any.
LOCAL_ACCESS_KEY = "local"
LOCAL_SECRET_KEY = "local"  # noqa: S105 - a placeholder, not a secret
# Shell variables a local function inherits so programs it starts (Chromium, node) work.
INHERITED_SHELL = ("PATH", "HOME", "LANG", "TMPDIR", "TERM")


@dataclass(frozen=True)
class Unresolved:
    reason: str


_NO_VALUE = object()  # AWS::NoValue: the variable is left out


class LocalConfigError(ValueError):
    """A problem with env.json or parameter overrides, named for the developer."""


@dataclass(frozen=True)
class LocalNames:
    """Names, URLs and ARNs CloudFormation would compute, computed for the local stack."""

    region: str
    endpoint_url: str | None
    parameters: dict[str, str | None]
    queue_names: dict[str, str]
    bucket_names: dict[str, str]
    resource_types: dict[str, str]
    account_id: str = ACCOUNT_ID
    stack_name: str = STACK_NAME

    def queue_url(self, queue_id: str) -> str | Unresolved:
        if self.endpoint_url is None:
            return Unresolved(f"queue {queue_id} has no URL without a local AWS endpoint")
        return f"{self.endpoint_url}/{self.account_id}/{self.queue_names[queue_id]}"

    def queue_arn(self, queue_id: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{self.queue_names[queue_id]}"

    def function_arn(self, function_id: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_id}"


def parameter_values(template: Template, overrides: Mapping[str, str]) -> dict[str, str | None]:
    """Each parameter's local value: an override, else its Default, else None (unset)."""
    unknown = sorted(set(overrides) - set(template.parameters))
    if unknown:
        raise LocalConfigError(f"parameter override for undeclared parameter(s): {', '.join(unknown)}")
    values: dict[str, str | None] = {}
    for name, parameter in template.parameters.items():
        value = overrides.get(name, parameter.default)
        if value is not None and parameter.allowed_values and value not in parameter.allowed_values:
            allowed = ", ".join(parameter.allowed_values)
            raise LocalConfigError(f"parameter {name}={value!r} is not one of its AllowedValues ({allowed})")
        values[name] = value
    return values


def local_names(
    template: Template,
    *,
    endpoint_url: str | None,
    region: str = DEFAULT_REGION,
    parameter_overrides: Mapping[str, str] | None = None,
) -> LocalNames:
    parameters = parameter_values(template, parameter_overrides or {})
    # Names are resolved first with what needs no names (parameters, pseudo parameters).
    bare = LocalNames(region, endpoint_url, parameters, {}, {}, template.resource_types)
    resolver = IntrinsicResolver(bare)
    queue_names = {}
    for queue_id, queue in template.queues.items():
        name = resolver.resolve(queue.queue_name) if queue.queue_name is not None else None
        if not isinstance(name, str):
            name = f"{STACK_NAME}-{queue_id}" + (".fifo" if queue.fifo else "")
        queue_names[queue_id] = name
    bucket_names = {}
    for bucket_id, bucket in template.buckets.items():
        name = resolver.resolve(bucket.bucket_name) if bucket.bucket_name is not None else None
        bucket_names[bucket_id] = name if isinstance(name, str) else f"{STACK_NAME}-{bucket_id}".lower()
    return LocalNames(region, endpoint_url, parameters, queue_names, bucket_names, template.resource_types)


class IntrinsicResolver:
    """Evaluates the intrinsic functions environment variables use, against local names."""

    def __init__(self, names: LocalNames) -> None:
        self.names = names

    def resolve(self, value: Any) -> Any:
        """A string, :data:`_NO_VALUE`, or :class:`Unresolved` saying why not."""
        if isinstance(value, str):
            return _dynamic_reference_check(value)
        if isinstance(value, bool | int | float):
            return cfn_scalar(value)
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            method = _INTRINSICS.get(key)
            if method is not None:
                result: Any = method(self, argument)
                return result
            return Unresolved(f"{key} is not evaluated locally")
        return Unresolved(f"{value!r} is not a value the local stack can compute")

    def _ref(self, target: Any) -> Any:
        if not isinstance(target, str):
            return Unresolved(f"Ref {target!r}")
        pseudo = self._pseudo(target)
        if pseudo is not None:
            return pseudo
        if target in self.names.parameters:
            value = self.names.parameters[target]
            return Unresolved(f"parameter {target} has no value") if value is None else value
        kind = self.names.resource_types.get(target)
        if kind == "AWS::SQS::Queue" and target in self.names.queue_names:
            return self.names.queue_url(target)
        if kind == "AWS::S3::Bucket" and target in self.names.bucket_names:
            return self.names.bucket_names[target]
        if kind == "AWS::Serverless::Function":
            return target
        if kind == "AWS::Serverless::HttpApi":
            return LOCAL_API_ID
        return Unresolved(f"Ref {target} ({kind or 'unknown'}) has no local value")

    def _pseudo(self, name: str) -> Any:
        pseudo: dict[str, Any] = {
            "AWS::Region": self.names.region,
            "AWS::AccountId": self.names.account_id,
            "AWS::StackName": self.names.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        return pseudo.get(name)

    def _get_att(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unresolved(f"GetAtt {argument!r}")
        target, attribute = str(argument[0]), str(argument[1])
        kind = self.names.resource_types.get(target)
        if kind == "AWS::SQS::Queue" and target in self.names.queue_names:
            values: dict[str, Any] = {
                "Arn": self.names.queue_arn(target),
                "QueueName": self.names.queue_names[target],
                "QueueUrl": self.names.queue_url(target),
            }
            if attribute in values:
                return values[attribute]
        if kind == "AWS::S3::Bucket" and target in self.names.bucket_names:
            bucket = self.names.bucket_names[target]
            values = {
                "Arn": f"arn:aws:s3:::{bucket}",
                "DomainName": f"{bucket}.s3.amazonaws.com",
                "RegionalDomainName": f"{bucket}.s3.{self.names.region}.amazonaws.com",
            }
            if attribute in values:
                return values[attribute]
        if kind == "AWS::Serverless::Function" and attribute == "Arn":
            return self.names.function_arn(target)
        return Unresolved(f"GetAtt {target}.{attribute} has no local value")

    def _sub(self, argument: Any) -> Any:
        if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            text, variables = argument
        else:
            text, variables = argument, {}
        if not isinstance(text, str):
            return Unresolved(f"Sub {argument!r}")
        problems: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = self.resolve(variables[name])
            elif "." in name and not name.startswith("AWS::"):
                value = self._get_att(name.split(".", 1))
            else:
                value = self._ref(name)
            if not isinstance(value, str):
                problems.append(value.reason if isinstance(value, Unresolved) else f"${{{name}}}")
                return ""
            return value

        result = re.sub(r"\$\{([^}]+)\}", replace, text)
        if problems:
            return Unresolved("; ".join(problems))
        return _dynamic_reference_check(result)

    def _join(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list)):
            return Unresolved(f"Join {argument!r}")
        parts = [self.resolve(item) for item in argument[1]]
        for part in parts:
            if isinstance(part, Unresolved):
                return part
        return str(argument[0]).join(part for part in parts if isinstance(part, str))

    def _select(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list)):
            return Unresolved(f"Select {argument!r}")
        try:
            return self.resolve(argument[1][int(argument[0])])
        except (IndexError, ValueError):
            return Unresolved(f"Select {argument!r}: index out of range")


_INTRINSICS = {
    "Ref": IntrinsicResolver._ref,
    "Fn::GetAtt": IntrinsicResolver._get_att,
    "Fn::Sub": IntrinsicResolver._sub,
    "Fn::Join": IntrinsicResolver._join,
    "Fn::Select": IntrinsicResolver._select,
}


def _dynamic_reference_check(text: str) -> str | Unresolved:
    match = re.search(r"\{\{resolve:(\w+):", text)
    if match:
        return Unresolved(f"{match.group(1)} dynamic reference is resolved by CloudFormation at deploy time")
    return text


def settings_variable_names() -> frozenset[str]:
    """The environment variable of every scout setting ("settings come from the environment")."""
    return frozenset(
        str(info.validation_alias)
        for info in Settings.model_fields.values()
        if info.validation_alias is not None
    )


def read_env_file(path: Path | None) -> dict[str, dict[str, str]]:
    """``env.json`` as ``{"Parameters" | logical id: {NAME: value}}``; missing file -> empty."""
    if path is None or not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LocalConfigError(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise LocalConfigError(f"{path.name} must be an object keyed by function logical id")
    result: dict[str, dict[str, str]] = {}
    for key, variables in document.items():
        if not isinstance(variables, dict):
            raise LocalConfigError(f"{path.name}: {key} must map variable names to values")
        for name, value in variables.items():
            if isinstance(value, dict | list):
                raise LocalConfigError(f"{path.name}: {key}.{name} must be a string, number or boolean")
        result[key] = {name: cfn_scalar(value) for name, value in variables.items() if value is not None}
    return result


@dataclass(frozen=True)
class EnvironmentSources:
    names: LocalNames
    shell: Mapping[str, str] = field(default_factory=dict)
    env_file: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    local_stack: Mapping[str, str] = field(default_factory=dict)
    dev_defaults: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedEnvironment:
    variables: dict[str, str]
    unset: dict[str, str]  # declared names left unset, and why


def function_environment(function: FunctionSpec, sources: EnvironmentSources) -> ResolvedEnvironment:
    resolver = IntrinsicResolver(sources.names)
    variables: dict[str, str] = {}
    unset: dict[str, str] = {}
    for name, raw in function.environment.items():
        value = resolver.resolve(raw)
        if isinstance(value, Unresolved):
            unset[name] = value.reason
        elif isinstance(value, str):
            variables[name] = value
    variables.update(sources.local_stack)
    from_shell = set(function.environment) | settings_variable_names()
    variables.update({name: value for name, value in sources.shell.items() if name in from_shell})
    variables.update(sources.env_file.get("Parameters", {}))
    variables.update(sources.env_file.get(function.logical_id, {}))
    for name, value in sources.dev_defaults.items():
        variables.setdefault(name, value)
    variables.update(lambda_variables(function, sources.names, sources.shell))
    return ResolvedEnvironment(variables, {name: why for name, why in unset.items() if name not in variables})


def lambda_variables(function: FunctionSpec, names: LocalNames, shell: Mapping[str, str]) -> dict[str, str]:
    """What the Lambda runtime sets, plus the local endpoint and placeholder credentials."""
    variables = {name: shell[name] for name in INHERITED_SHELL if name in shell}
    variables.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]local",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_REGION": names.region,
            "AWS_DEFAULT_REGION": names.region,
            "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
            "LAMBDA_TASK_ROOT": str(function.code_dir),
            "_HANDLER": function.handler,
            "TZ": "UTC",
            # No X-Ray daemon locally: the tracer would only log send failures.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    if names.endpoint_url is not None:
        variables["AWS_ENDPOINT_URL"] = names.endpoint_url
    return variables
