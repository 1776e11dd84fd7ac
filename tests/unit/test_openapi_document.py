"""The committed OpenAPI document is what the code declares (drift check)."""

from __future__ import annotations

import json

import pytest

from scout.api_docs import build_document, committed_path, render
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
