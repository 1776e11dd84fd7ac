"""Fixtures for the local stack's parts: the test template, warm pools of its functions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from scout.local.environment import EnvironmentSources, LocalNames, function_environment, local_names
from scout.local.execution import FunctionPool, RuntimeIdentity
from scout.local.template import Template, load_template
from tests.support.local_stack import FIXTURE

DEV_SECRETS = {"ALLOWED_HOSTS": "localhost,127.0.0.1", "ADMIN_SESSION_SECRET": "a" * 40}

PoolFactory = Callable[..., FunctionPool]


@pytest.fixture(scope="session")
def fixture_template() -> Template:
    return load_template(FIXTURE / "template.yaml")


@pytest.fixture
def make_pool(fixture_template: Template) -> Iterator[PoolFactory]:
    """Given warm pools of the test template's functions, closed after the test."""
    pools: list[FunctionPool] = []

    def make(
        function_id: str,
        *,
        names: LocalNames | None = None,
        max_environments: int = 1,
        dev_defaults: dict[str, str] | None = None,
        lines: list[str] | None = None,
    ) -> FunctionPool:
        names = names or local_names(fixture_template, endpoint_url=None)
        spec = fixture_template.function(function_id)
        sources = EnvironmentSources(
            names,
            {"PATH": os.environ.get("PATH", "")},
            {},
            {},
            DEV_SECRETS if dev_defaults is None else dev_defaults,
        )
        pool = FunctionPool(
            spec,
            function_environment(spec, sources).variables,
            RuntimeIdentity(names.region, names.account_id),
            max_environments=max_environments,
            log_sink=lines.append if lines is not None else None,
        )
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()
