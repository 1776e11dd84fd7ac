"""The committed OpenAPI document is what the code declares (drift check)."""

from __future__ import annotations

import json
from typing import get_args

import pytest

from scout.api_docs import committed_path
from scout.cli.openapi import build_document, check_components_agree, render
from scout.jobs.models import MAX_PAGE_SIZE, JobQuery
from scout.jobs.posting import AtsKind
from tests.support.functions import ROOT


def test_committed_document_matches_the_code(scout_env: pytest.MonkeyPatch) -> None:
    # Given the routes declared in code
    generated = render(build_document())
    # Then the committed copy is identical (regenerate with `make openapi`)
    assert committed_path().read_text(encoding="utf-8") == generated, (
        "docs/openapi.json is stale: run `make openapi`"
    )


def test_docs_copy_is_the_packaged_document() -> None:
    assert (ROOT / "docs" / "openapi.json").read_text() == committed_path().read_text()


def test_every_error_response_uses_the_scout_error_body(scout_env: pytest.MonkeyPatch) -> None:
    document = build_document()
    assert "HTTPValidationError" not in json.dumps(document)
    for operations in document["paths"].values():
        for operation in operations.values():
            assert "422" not in operation["responses"]


def test_jobs_query_parameters_keep_their_model_bounds_and_choices(
    scout_env: pytest.MonkeyPatch,
) -> None:
    # Given GET /jobs, whose query parameters are one model (JobQuery)
    parameters = {p["name"]: p for p in build_document()["paths"]["/jobs"]["get"]["parameters"]}
    # Then each is documented with its field's whole schema and description, not only "string"
    assert set(parameters) == set(JobQuery.model_fields)
    assert parameters["limit"]["schema"]["maximum"] == MAX_PAGE_SIZE
    assert parameters["ats"]["schema"]["anyOf"][0]["enum"] == list(get_args(AtsKind))
    assert parameters["q"]["description"] == JobQuery.model_fields["q"].description
    assert all(parameter["in"] == "query" and not parameter["required"] for parameter in parameters.values())


def test_error_schema_is_the_error_body_model(scout_env: pytest.MonkeyPatch) -> None:
    # Given the merged document
    schemas = build_document()["components"]["schemas"]
    # Then the Error every error response points at is scout.errors.ErrorBody, declared once
    assert schemas["Error"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorInfo"}
    assert schemas["ErrorInfo"]["required"] == ["code", "message"]


def test_rate_limited_answers_document_retry_after(scout_env: pytest.MonkeyPatch) -> None:
    # Given POST /scans, which answers 429 when the owner is over the limit
    responses = build_document()["paths"]["/scans"]["post"]["responses"]
    # Then the 429 documents the Retry-After header the resolver sends with it
    assert "Retry-After" in responses["429"]["headers"]


def test_two_functions_that_document_one_schema_differently_are_refused() -> None:
    # Given two function documents whose Source schemas differ
    first = {"components": {"schemas": {"Source": {"type": "object"}}}}
    second = {"components": {"schemas": {"Source": {"type": "string"}}}}
    # When they are checked before merging, Then the difference is an error naming both
    with pytest.raises(ValueError, match="Source differs between jobs and audit"):
        check_components_agree([("jobs", first), ("audit", second)])
