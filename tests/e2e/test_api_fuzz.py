"""Fuzzing the served API as a hostile client would: schemathesis against `GET /openapi.json`
of `scout dev`, every operation with each kind of token (none, user, admin, service), valid
and invalid requests alike. No answer may be a server error, and every answer must be one
the document describes (status, content type, body schema, headers).

Bounded: a few examples per operation and token kind, no shrinking, no example database.
Generated URLs (scan targets, careers pages) are pointed at 127.0.0.1 first, so no fuzzed
host is ever resolved or reached: the egress policy refuses them before any connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.database import embedded_postgres_folder
from tests.support.local_stack import DevProcess, copy_real_project, running_dev, scout

TOKEN_KINDS = ("anonymous", "user", "admin", "service")
EXAMPLES_PER_OPERATION = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    # Outside pytest's tmp folder, as tests/e2e/conftest.py's real_project (module-wide here).
    with embedded_postgres_folder() as folder:
        yield copy_real_project(folder)


@pytest.fixture(scope="module")
def stack(project: Path) -> Iterator[DevProcess]:
    with running_dev(project) as dev:
        yield dev


@pytest.fixture(scope="module")
def bearer(stack: DevProcess, project: Path) -> dict[str, dict[str, str]]:
    """Authorization headers by token kind, minted with the stack's own secrets."""
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for kind in TOKEN_KINDS[1:]:
        minted = scout("token", "--strategy", kind, "--sub", f"fuzz-{kind}", cwd=project)
        assert minted.returncode == 0, minted.stderr
        headers[kind] = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    return headers


def on_loopback(value: Any) -> Any:
    """``value`` with every absolute http(s) URL in it moved to 127.0.0.1."""
    if isinstance(value, dict):
        return {key: on_loopback(item) for key, item in value.items()}
    if isinstance(value, list):
        return [on_loopback(item) for item in value]
    if isinstance(value, str) and "://" in value:
        try:
            parts = urlsplit(value)
        except ValueError:
            return value
        if parts.netloc:
            return urlunsplit(parts._replace(netloc="127.0.0.1"))
    return value


@pytest.fixture(scope="module")
def api_schema(stack: DevProcess) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{stack.url}/openapi.json")
    schema.config.generation.update(allow_x00=True)
    return schema


def fuzz(operation: APIOperation, base_url: str, credentials: dict[str, str]) -> None:
    """Valid and invalid requests for one operation, each answer checked against the document."""
    requests = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @given(case=requests)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: Case) -> None:
        case.body = on_loopback(case.body)
        headers = {**(case.headers or {}), **credentials}
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)

    answers_as_documented()


@pytest.mark.parametrize("token_kind", TOKEN_KINDS)
def test_no_request_gets_a_server_error_and_every_answer_is_documented(
    api_schema: schemathesis.BaseSchema,
    bearer: dict[str, dict[str, str]],
    stack: DevProcess,
    token_kind: str,
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:
        fuzz(operation, stack.url, bearer[token_kind])
